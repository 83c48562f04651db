# The rules of workflow/rules/scenarios.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.scenarios, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.scenarios")  # noqa: F821 (Snakemake's script global)
