from carbonbudget.logs import log_to
from carbonbudget.spatial import write_spatial_statistics

if __name__ == "__main__":
    with log_to(snakemake.log[0], "spatial_statistics"):
        levels, spatial_levels = snakemake.params.levels, snakemake.params.spatial_levels
        write_spatial_statistics(
            path_regions=snakemake.input.regions, levels=levels, spatial_levels=spatial_levels,
            budget_paths=dict(zip(levels, snakemake.input.budget)),
            spatial_cfg=snakemake.params.spatial, tolerance_tgco2=snakemake.params.tolerance_tgco2,
            local_paths=dict(zip(spatial_levels, snakemake.output.local)),
            moran_paths=dict(zip(spatial_levels, snakemake.output.moran)),
            path_gini=snakemake.output.gini[0] if snakemake.output.gini else None)
