# The rules of workflow/rules/spatial.smk: each runs the stage of its name in
# carbonbudget.pipeline.stages.spatial.
from carbonbudget.pipeline.stages.spatial import stage

stage.run(snakemake)  # noqa: F821 (Snakemake's script global)
