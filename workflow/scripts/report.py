# The rules of workflow/rules/report.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.report.
from carbonbudget.pipeline.stages.report import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
