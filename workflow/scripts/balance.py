# The rules of workflow/rules/balance.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.balance.
from carbonbudget.pipeline.stages.balance import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
