# The rules of workflow/rules/grid.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.grid.
from carbonbudget.pipeline.stages.grid import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
