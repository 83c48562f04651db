from carbonbudget.align import align_inputs
from carbonbudget.grid import Grid
from carbonbudget.logs import log_to

if __name__ == "__main__":
    period = snakemake.params.period
    with log_to(snakemake.log[0], f"align inputs of {period}"):
        align_inputs(grid=Grid.from_config(snakemake.params.grid),
                     year=None if period == "climatology" else int(period),
                     climate=snakemake.params.climate, npp=snakemake.params.npp,
                     runoff=snakemake.params.runoff, outputs=dict(snakemake.output.items()),
                     path_precipitation=snakemake.input.get("precipitation_aligned"))
