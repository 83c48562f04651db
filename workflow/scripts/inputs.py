# The rules of workflow/rules/inputs.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.inputs.
from carbonbudget.pipeline.stages.inputs import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
