from carbonbudget.logs import log_to
from carbonbudget.trends import write_pixel_trends

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"pixel_trends {snakemake.wildcards.var}"):
        write_pixel_trends(grid_spec=snakemake.params.grid,
                           paths_by_year=dict(zip(snakemake.params.years, snakemake.input)),
                           variable=snakemake.wildcards.var, path_slope=snakemake.output.slope,
                           path_p=snakemake.output.p, min_valid_years=snakemake.params.min_valid_years,
                           chunk_size=snakemake.params.chunk_size, threads=snakemake.threads)
