from carbonbudget.balance import write_budget
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "budget"):
        levels = snakemake.params.levels
        write_budget(zonal_paths=list(snakemake.input.zonal), years=snakemake.params.years,
                     path_regions=snakemake.input.regions, regions_cfg=snakemake.params.regions,
                     emissions_cfg=snakemake.params.emissions,
                     socio_cfg=snakemake.params.socioeconomic, balance_cfg=snakemake.params.balance,
                     fluxes=snakemake.params.fluxes,
                     path_crosswalk=snakemake.input.crosswalk or None,
                     outputs={lv: (c, p) for lv, c, p in zip(levels, snakemake.output.csv,
                                                              snakemake.output.parquet)})
