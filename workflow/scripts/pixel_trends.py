from carbonbudget.logs import log_to
from carbonbudget.trends import PIXEL_STATS, write_pixel_trends

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"pixel_trends {snakemake.wildcards.var}"):
        write_pixel_trends(grid_spec=snakemake.params.grid,
                           paths_by_year=dict(zip(snakemake.params.years, snakemake.input)),
                           variable=snakemake.wildcards.var,
                           outputs={s: snakemake.output[s] for s in PIXEL_STATS},
                           min_valid_years=snakemake.params.min_valid_years,
                           hurst_min_blocks=snakemake.params.hurst_min_blocks,
                           hurst_bias_correction=snakemake.params.hurst_bias_correction,
                           chunk_size=snakemake.params.chunk_size, threads=snakemake.threads,
                           dask_spec=snakemake.params.dask)
