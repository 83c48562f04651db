from carbonbudget.logs import log_to
from carbonbudget.plots import plot_scenarios

if __name__ == "__main__":
    with log_to(snakemake.log[0], "plot_scenarios"):
        plot_scenarios(table_path=snakemake.input.table, out_dir=snakemake.output[0])
