# The rules of workflow/rules/demo.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.demo, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.demo")  # noqa: F821 (Snakemake's script global)
