from carbonbudget.logs import log_to
from carbonbudget.plots import plot_budget_maps

if __name__ == "__main__":
    with log_to(snakemake.log[0], "plot_budget_maps"):
        plot_budget_maps(path_regions=snakemake.input.regions, levels=snakemake.params.levels,
                         level=snakemake.wildcards.level, budget_path=snakemake.input.budget,
                         trends_path=snakemake.input.trends,
                         out_paths={k: snakemake.output[k] for k in snakemake.params.kinds},
                         min_valid_fraction=snakemake.params.min_valid_fraction)
