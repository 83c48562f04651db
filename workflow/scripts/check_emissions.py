from carbonbudget.checks import check_emission_inputs
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "check_emissions"):
        check_emission_inputs(config=snakemake.params.config, path_report=snakemake.output.report,
                              path_crosswalk=snakemake.input.crosswalk or None,
                              path_match=snakemake.output.match)
