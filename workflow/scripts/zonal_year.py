from carbonbudget.logs import log_to
from carbonbudget.zonal import zonal_period

if __name__ == "__main__":
    period = snakemake.params.period
    with log_to(snakemake.log[0], f"zonal totals of {period}"):
        zonal_period(grid_spec=snakemake.params.grid, path_coverage=snakemake.input.coverage,
                     flux_paths={v: snakemake.input[v] for v in snakemake.params.fluxes},
                     period=period, path_out=snakemake.output[0])
