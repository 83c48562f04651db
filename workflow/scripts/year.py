# The rules of workflow/rules/year.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.year.
from carbonbudget.pipeline.stages.year import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
