# The rule publish of the Snakefile: the stage of its name in
# carbonbudget.pipeline.stages.publish, in a fork of the run's job server when there is one.
from carbonbudget.pipeline.jobserver import run

run(snakemake, "carbonbudget.pipeline.stages.publish")  # noqa: F821 (Snakemake's script global)
