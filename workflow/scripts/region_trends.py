from carbonbudget.logs import log_to
from carbonbudget.trends import write_region_trends

if __name__ == "__main__":
    with log_to(snakemake.log[0], "region_trends"):
        levels = snakemake.params.levels
        write_region_trends(budget_paths=dict(zip(levels, snakemake.input.budget)),
                            outputs=dict(zip(levels, snakemake.output)),
                            min_valid_years=snakemake.params.min_valid_years)
