# The rules of workflow/rules/zonal.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.zonal.
from carbonbudget.pipeline.stages.zonal import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
