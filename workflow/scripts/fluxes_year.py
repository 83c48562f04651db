from carbonbudget.fluxes import compute_year_fluxes
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"fluxes_year {snakemake.wildcards.year}"):
        compute_year_fluxes(
            grid_spec=snakemake.params.grid, timestep=snakemake.params.timestep,
            path_temperature=snakemake.input.get("temperature"),
            path_precipitation=snakemake.input.get("precipitation"),
            path_npp=snakemake.input.get("npp"),
            path_runoff=snakemake.input.runoff, path_coefficient=snakemake.input.coefficient,
            path_region_fraction=snakemake.input.fraction,
            outputs={v: snakemake.output[v] for v in snakemake.params.fluxes},
            year=int(snakemake.wildcards.year), chunk_size=snakemake.params.chunk_size,
            threads=snakemake.threads, dask_spec=snakemake.params.dask)
