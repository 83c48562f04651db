"""Spatial statistics and their maps (workflow/rules/spatial.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging

import pandas as pd

from carbonbudget.core.io import write_table
from carbonbudget.outputs import maps
from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.regions.hierarchy import read_finest, read_level_polygons
from carbonbudget.regions.inequality import gini_by_parent
from carbonbudget.science.spatial import spatial_level

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def spatial_statistics(job: Job) -> None:
    """spatial_<level>.csv and moran_<level>.csv per spatial level, and gini_<parent>.csv."""
    p, cfg = job.params, job.params.spatial
    budgets = dict(zip(p.levels, job.input.budget))
    for level, out_local, out_moran in zip(p.spatial_levels, job.output.local, job.output.moran):
        log.info("spatial statistics: level %s", level)
        polys = read_level_polygons(job.input.regions, level)
        table = pd.read_parquet(budgets[level])
        if "in_region_layer" in table:  # emission codes without polygon have no neighbours
            table = table[table["in_region_layer"]]
        local, moran = spatial_level(
            polys,
            table,
            level=level,
            variables=cfg["variables"],
            permutations=cfg["permutations"],
            seed=cfg["seed"],
            lisa_p=cfg["lisa_p"],
            islands=cfg["islands"],
            min_regions=cfg["min_regions"],
        )
        write_table(local, out_local, digits=10)
        write_table(moran, out_moran, digits=10)
    if job.output.gini:
        parent, members = cfg["gini_parent"], cfg["gini_members"]
        table = gini_by_parent(
            read_finest(job.input.regions),
            p.hierarchy,
            pd.read_parquet(budgets[members]),
            parent=parent,
            members=members,
            variables=cfg["variables"],
            tolerance=p.tolerance_tgco2,
        )
        write_table(table, job.output.gini[0], digits=10)


@stage()
def plot_spatial_maps(job: Job) -> None:
    """LISA cluster and Gi* hot-spot maps of one variable and level."""
    maps.plot_spatial_maps(
        path_regions=job.input.regions,
        level=job.wildcards.level,
        local_path=job.input.local,
        moran_path=job.input.moran,
        variable=job.wildcards.variable,
        path_lisa=job.output.lisa,
        path_gi=job.output.gi,
        lisa_p=job.params.lisa_p,
        maps=job.params.maps,
        outline_level=job.params.outline_level,
    )
