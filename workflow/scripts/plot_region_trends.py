from carbonbudget.logs import log_to
from carbonbudget.plots import plot_region_trends

if __name__ == "__main__":
    with log_to(snakemake.log[0], "plot_region_trends"):
        plot_region_trends(budget_path=snakemake.input.budget, trends_path=snakemake.input.trends,
                           sqmk_path=snakemake.input.sqmk, out_dir=snakemake.output[0],
                           variable=snakemake.params.variable)
