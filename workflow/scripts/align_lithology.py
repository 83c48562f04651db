from carbonbudget.grid import Grid
from carbonbudget.lithology import align_lithology
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "align_lithology"):
        align_lithology(grid=Grid.from_config(snakemake.params.grid),
                        path_lithology=snakemake.input.lithology,
                        classes_csv=snakemake.input.classes,
                        coefficients_csv=snakemake.input.coefficients,
                        path_codes=snakemake.output.codes,
                        path_coefficient=snakemake.output.coefficient,
                        crs=snakemake.params.crs)
