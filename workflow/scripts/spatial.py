# The rules of workflow/rules/spatial.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.spatial, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.spatial")  # noqa: F821 (Snakemake's script global)
