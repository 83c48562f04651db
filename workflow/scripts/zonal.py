# The rules of workflow/rules/zonal.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.zonal, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.zonal")  # noqa: F821 (Snakemake's script global)
