# The rules of workflow/rules/align.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.align.
from carbonbudget.pipeline.stages.align import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
