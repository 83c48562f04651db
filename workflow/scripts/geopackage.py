from carbonbudget.logs import log_to
from carbonbudget.outputs import write_geopackage

if __name__ == "__main__":
    with log_to(snakemake.log[0], "geopackage"):
        levels = snakemake.params.budget_levels
        write_geopackage(path_regions=snakemake.input.regions, levels=snakemake.params.levels,
                         budget_paths=dict(zip(levels, snakemake.input.budget)),
                         trend_paths=dict(zip(levels, snakemake.input.trends)),
                         spatial_paths=dict(zip(snakemake.params.spatial_levels,
                                                snakemake.input.spatial)),
                         run_info=snakemake.params.run_info, series=snakemake.params.series,
                         path_out=snakemake.output[0])
