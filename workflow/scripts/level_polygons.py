from carbonbudget.logs import log_to
from carbonbudget.regions import write_level_polygons

if __name__ == "__main__":
    with log_to(snakemake.log[0], "level_polygons"):
        write_level_polygons(path_regions=snakemake.input.regions, levels=snakemake.params.levels,
                             grid_spec=snakemake.params.grid, path_out=snakemake.output[0])
