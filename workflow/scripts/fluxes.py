# The rules of workflow/rules/fluxes.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.fluxes.
from carbonbudget.pipeline.stages.fluxes import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
