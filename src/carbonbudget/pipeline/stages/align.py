"""Inputs on the grid and the regions' polygons and coverage (workflow/rules/align.smk).

Each stage is named after its rule (:mod:`carbonbudget.pipeline.job`).
"""

from __future__ import annotations

import logging
import os
import shutil

import geopandas as gpd

from carbonbudget.core.errors import GridError
from carbonbudget.core.grid import Grid
from carbonbudget.core.io import atomic_output, write_cogs, write_gpkg_layer
from carbonbudget.inputs import lithology
from carbonbudget.inputs.align import align_cover_fraction
from carbonbudget.inputs.checks import read_checked_layer
from carbonbudget.pipeline.job import Job, Stages
from carbonbudget.pipeline.stages.year import align_step
from carbonbudget.regions.hierarchy import (
    display_geometries,
    display_layer,
    dissolve_level,
    level_layer,
    level_table,
    read_checked_regions,
    read_finest,
)
from carbonbudget.regions.zonal import (
    finest_coverage,
    in_region_fraction,
    inside_grid_share,
    save_coverage,
)

log = logging.getLogger(__name__)
stage = Stages()


@stage()
def align_climatology(job: Job) -> None:
    """Put the climatologies on the grid, once for every year."""
    p = job.params
    align_step(
        {"grid": p.grid, "climate": p.climate, "npp": p.npp, "runoff": p.runoff},
        None,
        dict(job.output.items()),
        None,
    )


@stage()
def align_lithology(job: Job) -> None:
    """Lithology codes on the grid (nearest or mode) and the GEM-CO2 coefficient a."""
    lithology.align_lithology(
        grid=Grid.from_config(job.params.grid),
        path_lithology=job.input.lithology,
        classes_csv=job.input.classes,
        coefficients_csv=job.input.coefficients,
        path_codes=job.output.codes,
        path_coefficient=job.output.coefficient,
        crs=job.params.crs,
        band=job.params.band,
    )


@stage()
def build_regions(job: Job) -> None:
    """Region polygons in the grid CRS (with the share of each inside the grid), the
    finest-level coverage matrix (from the digest-keyed cache when polygons and grid are
    unchanged) and a raster of the fraction of each pixel inside the study area."""
    grid = Grid.from_config(job.params.grid)
    regions_cfg, cache_dir = job.params.regions, job.params.cache_dir
    checked = read_checked_regions(job.input.checked, grid.crs.to_wkt())
    regions, codes, matrix, key = finest_coverage(regions_cfg, grid, cache_dir, checked)
    if matrix.nnz == 0:
        raise GridError(
            f"{regions_cfg['path']}: no region overlaps the target grid; check "
            "grid.bounds and the CRS of the polygons"
        )
    cached = os.path.join(cache_dir, f"coverage_{key}.npz") if cache_dir else None
    if cached and os.path.exists(cached):
        with atomic_output(job.output.coverage) as tmp:  # the same bytes: copy, not re-encode
            shutil.copyfile(cached, tmp)
    else:
        save_coverage(job.output.coverage, codes, matrix, grid, key)
    regions = regions.assign(inside_grid_share=inside_grid_share(regions, grid))
    with atomic_output(job.output.regions) as tmp:
        write_gpkg_layer(regions, tmp, "regions")
    path = job.output.fraction
    study_area = in_region_fraction(matrix, grid)
    if job.params.cover:
        align_cover_fraction(job.params.cover, job.output.cover_fraction, grid, study_area)
    write_cogs(
        {path: study_area},
        grid,
        descriptions={path: "fraction of the pixel inside the study area"},
        units={path: "1"},
    )


@stage()
def level_polygons(job: Job) -> None:
    """The finest-level polygons (layer ``regions``), the polygons of every level
    (``level_<level>``: dissolved once, each level from the next finer one; a grouping from the
    level it groups) and their drawing shapes (``display_<level>``), for the spatial
    statistics, maps and GeoPackage."""
    levels = job.params.levels
    groupings = job.params.groupings  # name -> the level it groups
    grid = Grid.from_config(job.params.grid)
    resolution = abs(grid.transform.a)
    regions = read_finest(job.input.regions)
    done: dict[str, gpd.GeoDataFrame] = {}
    with atomic_output(job.output[0]) as tmp:
        for name, cfg in job.params.layers.items():  # independent layers, as they are
            polys, _ = read_checked_layer(
                name, cfg, grid, job.params.edge, template="template" in job.params.grid
            )
            write_gpkg_layer(polys, tmp, level_layer(name))
            write_gpkg_layer(display_geometries(polys, resolution), tmp, display_layer(name))
            log.info("region layer %s: %d polygons", name, len(polys))
        write_gpkg_layer(regions, tmp, "regions")
        for i, level in enumerate([*levels, *groupings]):
            if i == 0:
                polys = level_table(regions, levels, level).merge(
                    regions[[f"{level}_code", "geometry"]], on=f"{level}_code"
                )
            elif level in levels:  # from the next finer level, which carries its code
                polys = dissolve_level(regions, levels, level, members=done[levels[i - 1]])
            else:  # a grouping: from the level it groups, with the group of each member
                grouped = groupings[level]
                members = done[grouped].merge(
                    regions[[f"{grouped}_code", f"{level}_code"]].drop_duplicates(),
                    on=f"{grouped}_code",
                )
                polys = dissolve_level(regions, levels, level, members=members)
            polys = gpd.GeoDataFrame(polys, geometry="geometry", crs=regions.crs)
            done[level] = polys
            write_gpkg_layer(polys, tmp, level_layer(level))
            write_gpkg_layer(display_geometries(polys, resolution), tmp, display_layer(level))
            log.info("level %s: %d polygons", level, len(polys))
