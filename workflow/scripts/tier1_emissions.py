from carbonbudget.tier1 import write_tier1
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "tier1_emissions"):
        write_tier1(acc_cfg=snakemake.params.accounting, path_budget=snakemake.input.budget,
                    path_per_fuel=snakemake.output.per_fuel,
                    path_comparison=snakemake.output.comparison)
