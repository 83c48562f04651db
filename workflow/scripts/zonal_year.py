from carbonbudget.logs import log_to
from carbonbudget.zonal import zonal_year

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"zonal_year {snakemake.wildcards.year}"):
        zonal_year(grid_spec=snakemake.params.grid, path_coverage=snakemake.input.coverage,
                   flux_paths={v: snakemake.input[v] for v in snakemake.params.fluxes},
                   year=int(snakemake.wildcards.year), path_out=snakemake.output[0])
