# The rules of workflow/rules/trends.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.trends.
from carbonbudget.pipeline.stages.trends import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
