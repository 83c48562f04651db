from carbonbudget.logs import log_to
from carbonbudget.trends import write_region_trends

if __name__ == "__main__":
    with log_to(snakemake.log[0], "region_trends"):
        levels = snakemake.params.levels
        write_region_trends(budget_paths=dict(zip(levels, snakemake.input.budget)),
                            outputs=dict(zip(levels, snakemake.output.trends)),
                            sqmk_outputs=dict(zip(levels, snakemake.output.sqmk)),
                            min_valid_years=snakemake.params.min_valid_years,
                            hurst_min_blocks=snakemake.params.hurst_min_blocks,
                            class_thresholds=snakemake.params.class_thresholds,
                            hurst_bias_correction=snakemake.params.hurst_bias_correction)
