# The rules of workflow/rules/fluxes.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.fluxes, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.fluxes")  # noqa: F821 (Snakemake's script global)
