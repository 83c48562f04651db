from carbonbudget.logs import log_to
from carbonbudget.zonal import build_regions

if __name__ == "__main__":
    with log_to(snakemake.log[0], "build_regions"):
        build_regions(grid_spec=snakemake.params.grid, regions_cfg=snakemake.params.regions,
                      path_regions=snakemake.output.regions,
                      path_coverage=snakemake.output.coverage,
                      path_region_fraction=snakemake.output.fraction,
                      cache_dir=snakemake.params.cache_dir)
