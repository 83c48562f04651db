# The rules of workflow/rules/scenarios.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.scenarios.
from carbonbudget.pipeline.stages.scenarios import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
