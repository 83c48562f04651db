from carbonbudget.align import align_year
from carbonbudget.grid import Grid
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"align_year {snakemake.wildcards.year}"):
        align_year(grid=Grid.from_config(snakemake.params.grid), year=int(snakemake.wildcards.year),
                   climate=snakemake.params.climate, npp=snakemake.params.npp,
                   runoff=snakemake.params.runoff,
                   path_temperature=snakemake.output.get("temperature"),
                   path_precipitation=snakemake.output.get("precipitation"),
                   path_npp=snakemake.output.get("npp"), path_runoff=snakemake.output.runoff)
