from carbonbudget.forecast import write_scenarios
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "scenario_projection"):
        write_scenarios(sc_cfg=snakemake.params.scenarios, emissions_cfg=snakemake.params.emissions,
                        regions_cfg=snakemake.params.regions, path_regions=snakemake.input.regions,
                        path_budget=snakemake.input.budget, zonal_paths=snakemake.params.zonal,
                        path_crosswalk=snakemake.input.crosswalk or None,
                        outputs={k: snakemake.output[k] for k in ("table", "model", "summary")})
