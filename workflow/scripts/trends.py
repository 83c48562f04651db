# The rules of workflow/rules/trends.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.trends, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.trends")  # noqa: F821 (Snakemake's script global)
