# The rules of workflow/rules/demo.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.demo.
from carbonbudget.pipeline.stages.demo import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
