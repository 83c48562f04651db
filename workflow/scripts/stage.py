# The one shim of every rule: run the function of carbonbudget.stages named after the rule.
from carbonbudget.stages import run

run(snakemake)  # noqa: F821 (Snakemake's script global)
