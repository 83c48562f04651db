from carbonbudget.checks import check_year_inputs
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], f"check_year {snakemake.wildcards.year}"):
        check_year_inputs(config=snakemake.params.config, year=int(snakemake.wildcards.year),
                          path_report=snakemake.output.report,
                          path_fraction=snakemake.input.fraction)
