from carbonbudget.checks import check_year_inputs
from carbonbudget.logs import log_to

if __name__ == "__main__":
    period = snakemake.params.period
    with log_to(snakemake.log[0], f"check inputs of {period}"):
        check_year_inputs(config=snakemake.params.config,
                          year=None if period == "climatology" else int(period),
                          path_report=snakemake.output.report,
                          path_fraction=snakemake.input.fraction)
