from carbonbudget.codes import write_crosswalk
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "build_crosswalk"):
        cw = snakemake.params.crosswalk
        write_crosswalk(path_old_codes=snakemake.input.old_codes, code_col=cw["code_col"],
                        name_col=cw["name_col"], regions_cfg=snakemake.params.regions,
                        path_out=snakemake.output[0])
