from carbonbudget.demo import build_demo
from carbonbudget.logs import log_to

if __name__ == "__main__":
    with log_to(snakemake.log[0], "build_demo"):
        build_demo(root=snakemake.params.root)
