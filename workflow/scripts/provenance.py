from carbonbudget.logs import log_to
from carbonbudget.outputs import write_provenance

if __name__ == "__main__":
    with log_to(snakemake.log[0], "provenance"):
        write_provenance(config=snakemake.params.config, input_paths=list(snakemake.input.raw),
                         path_out=snakemake.output[0])
