"""OLS trends (seed 003 Eq. 9) per pixel and per region, slope per year with a two-sided p-value.

The slope is regressed on the calendar year, so it is in (unit of the variable) per year and
gaps in the years are handled correctly; with consecutive years it equals Eq. 9 exactly.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import stdtr

from . import kernels
from .errors import InputDataError


def _p_from_t(tstat, df):
    """Two-sided p-value of a t statistic; inf -> 0, NaN stays NaN."""
    with np.errstate(invalid="ignore"):
        p = 2.0 * stdtr(df, -np.abs(tstat))
    return np.where(np.isinf(tstat), 0.0, p)


def _trend_block(stack, x, min_valid):
    res = kernels.ols_trend(np.ascontiguousarray(stack), x, min_valid)
    out = np.empty((2,) + res.shape[1:], dtype=np.float64)
    out[0] = res[0]
    out[1] = _p_from_t(res[1], res[2])
    return out


def ols_trend(stack: xr.DataArray, years, min_valid_years: int = 3) -> xr.Dataset:
    """Per-pixel OLS slope (per year) and its two-sided p-value of a (year, y, x) stack."""
    years = np.asarray(years, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] != len(years):
        raise InputDataError(f"expected a (year, y, x) stack with {len(years)} years, got "
                             f"{stack.shape}", variable="trend", fix="pass one layer per year")
    data = stack.data
    if isinstance(data, da.Array):
        data = data.rechunk({0: -1})
        out = da.map_blocks(_trend_block, data, years, int(min_valid_years), dtype=np.float64,
                            chunks=((2,),) + data.chunks[1:])
    else:
        out = _trend_block(np.asarray(data), years, int(min_valid_years))
    dims = stack.dims[1:]
    coords = {d: stack.coords[d] for d in dims if d in stack.coords}
    units = stack.attrs.get("units", "1")
    return xr.Dataset({
        "slope": xr.DataArray(out[0], dims=dims, attrs={"units": f"({units}) yr-1",
                                                         "long_name": "OLS slope per year"}),
        "p": xr.DataArray(out[1], dims=dims, attrs={"units": "1",
                                                     "long_name": "two-sided p-value of the slope"}),
    }, coords=coords)


def region_trends(table: pd.DataFrame, columns: list[str], min_valid_years: int = 3) -> pd.DataFrame:
    """OLS slope per year and p-value of each column, per region, from a long budget table.

    Output columns: ``code``, ``name``, ``n_years``, ``{col}_slope_per_yr``, ``{col}_slope_p``.
    The same kernel as the pixel trends is used (regions laid out as a 1 × n_regions grid).
    """
    years = np.array(sorted(table["year"].unique()), dtype=np.float64)
    out = table.groupby("code", sort=True)["name"].first().reset_index()
    out["n_years"] = len(years)
    for col in columns:
        wide = table.pivot(index="code", columns="year", values=col).reindex(
            index=out["code"], columns=years.astype(int))
        stack = wide.to_numpy(dtype=np.float64).T[:, None, :]   # (year, 1, region)
        res = _trend_block(stack, years, min_valid_years)
        out[f"{col}_slope_per_yr"] = res[0, 0]
        out[f"{col}_slope_p"] = res[1, 0]
    return out


def write_pixel_trends(*, grid_spec: dict, paths_by_year: dict, variable: str, path_slope: str,
                       path_p: str, min_valid_years: int = 3, chunk_size: int = 512,
                       threads: int = 1) -> None:
    """Stage entry point: per-pixel OLS slope and p-value COGs of one variable over the years."""
    from .grid import Grid
    from .io import gdal_env, open_raster, write_cogs

    grid = Grid.from_config(grid_spec)
    years = sorted(int(y) for y in paths_by_year)
    with gdal_env():
        layers = [open_raster(paths_by_year[y], chunk_size).isel(band=0, drop=True) for y in years]
        units = "g C m-2 yr-1"
        stack = xr.concat(layers, dim="year").assign_attrs(units=units)
        ds = ols_trend(stack, years, min_valid_years)
        with dask.config.set(scheduler="threads", num_workers=threads):
            write_cogs({path_slope: ds["slope"], path_p: ds["p"]}, grid,
                       descriptions={path_slope: f"OLS slope of {variable}, {years[0]}-{years[-1]}",
                                     path_p: f"two-sided p-value of the {variable} slope"},
                       units={path_slope: "g C m-2 yr-2", path_p: "1"})


def write_region_trends(*, budget_paths: dict, outputs: dict, min_valid_years: int = 3) -> None:
    """Stage entry point: per-region OLS trends of CNC, ECS and CE for each level -> CSV."""
    from .io import write_table

    for level, path in budget_paths.items():
        table = pd.read_parquet(path)
        res = region_trends(table, ["cnc_tgco2", "ecs_tgco2", "ce_tgco2"], min_valid_years)
        res.insert(0, "level", level)
        write_table(res, outputs[level])
