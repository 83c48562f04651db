from carbonbudget.fluxes import compute_fluxes
from carbonbudget.logs import log_to

if __name__ == "__main__":
    period = snakemake.params.period
    with log_to(snakemake.log[0], f"fluxes of {period}"):
        fluxes = snakemake.params.fluxes
        compute_fluxes(grid_spec=snakemake.params.grid, timestep=snakemake.params.timestep,
                       inputs={k: v for k, v in snakemake.input.items()},
                       outputs={v: snakemake.output[v] for v in fluxes}, period=period,
                       chunk_size=snakemake.params.chunk_size, threads=snakemake.threads,
                       dask_spec=snakemake.params.dask)
