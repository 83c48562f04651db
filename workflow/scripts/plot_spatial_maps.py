from carbonbudget.logs import log_to
from carbonbudget.plots import plot_spatial_maps

if __name__ == "__main__":
    with log_to(snakemake.log[0], "plot_spatial_maps"):
        plot_spatial_maps(path_regions=snakemake.input.regions, levels=snakemake.params.levels,
                          level=snakemake.wildcards.level, local_path=snakemake.input.local,
                          moran_path=snakemake.input.moran,
                          variable=snakemake.wildcards.variable, path_lisa=snakemake.output.lisa,
                          path_gi=snakemake.output.gi,
                          lisa_p=snakemake.params.lisa_p)
