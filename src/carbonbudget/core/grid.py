"""The target grid: CRS, transform, shape, and the area of every pixel (docs/method.md, "Zonal
totals").

Pixel areas come from the grid's CRS, never from counting pixels:
- equal-area projections: the constant |det(transform)| in m²;
- geographic (lat/lon) grids: the exact area of each row's cells on the ellipsoid;
- any other projection: a :class:`GridError` unless the user sets ``allow_non_equal_area``,
  in which case the planar |det(transform)| is used and the docs say it is approximate.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.crs import CRS as RioCRS

from carbonbudget.core.errors import ConfigError, GridError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

# PROJ method names of projections that preserve area. Sinusoidal (MODIS) is equal-area on its
# sphere; Lambert Cylindrical Equal Area covers EASE-Grid 2.0 (EPSG:6933).
EQUAL_AREA_METHODS = frozenset(
    {
        "Albers Equal Area",
        "Lambert Azimuthal Equal Area",
        "Lambert Azimuthal Equal Area (Spherical)",
        "Lambert Cylindrical Equal Area",
        "Lambert Cylindrical Equal Area (Spherical)",
        "Sinusoidal",
        "Mollweide",
        "Equal Earth",
        "Eckert IV",
        "Eckert VI",
        "Interrupted Goode Homolosine",
    }
)


def crs_kind(crs: Any) -> str:
    """'equal_area', 'geographic' or 'other' for a CRS given in any form pyproj accepts."""
    pcrs = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    if pcrs.is_geographic:
        return "geographic"
    op = pcrs.coordinate_operation
    if pcrs.is_projected and op is not None and op.method_name in EQUAL_AREA_METHODS:
        return "equal_area"
    return "other"


def pixel_cover(matrix: Any) -> np.ndarray:
    """Sum over the rows of a sparse row × pixel coverage matrix: the share of each pixel that
    its regions (or inventory cells) cover, float64, one value per pixel.

    What scipy's ``matrix.sum(axis=0)`` computes for a CSC matrix (a ``reduceat`` over each
    non-empty column, so the same values bit for bit), without its detour through
    ``np.matrix``: 5 s against 0.25 s for 20 M pixels (docs/performance.md)."""
    m = matrix if matrix.format == "csc" else matrix.tocsc()
    out = np.zeros(m.shape[1], dtype=np.float64)
    if m.nnz:
        nonempty = np.flatnonzero(np.diff(m.indptr))
        out[nonempty] = np.add.reduceat(m.data.astype(np.float64, copy=False), m.indptr[nonempty])
    return out


def ellipsoid_row_areas_m2(
    lat_top_deg: np.ndarray,
    lat_bottom_deg: np.ndarray,
    dlon_deg: float,
    semi_major_m: float,
    inv_flattening: float,
) -> np.ndarray:
    """Exact area (m²) of a lat/lon cell on an ellipsoid of revolution.

    Area between two parallels over Δλ (Snyder 1987, authalic latitude, eq. 3-12):
    A = Δλ · b²/2 · [ sinφ/(1 − e² sin²φ) + 1/(2e) · ln((1 + e sinφ)/(1 − e sinφ)) ] from φ1 to φ2.
    pyproj's Geod gives geodesic polygon areas, whose edges are not parallels, so it is used only
    as a cross-check in the tests.
    """
    a = semi_major_m
    f = 0.0 if not inv_flattening else 1.0 / inv_flattening
    e2 = f * (2.0 - f)
    b2 = a * a * (1.0 - e2)

    def q(phi_deg):
        s = np.sin(np.deg2rad(phi_deg))
        if e2 == 0.0:
            return 2.0 * s
        e = np.sqrt(e2)
        return s / (1.0 - e2 * s * s) + np.log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e)

    return np.abs(np.deg2rad(dlon_deg) * b2 / 2.0 * (q(lat_top_deg) - q(lat_bottom_deg)))


def _same_definition(a: CRS, b: CRS) -> bool:
    """Equal PROJ definitions (names and axis order aside)."""
    with warnings.catch_warnings():  # to_proj4 warns that names are lost: they are meant to be
        warnings.simplefilter("ignore", UserWarning)
        return a.to_proj4() == b.to_proj4()


def named_crs(crs: Any) -> RioCRS:
    """``crs`` as GIS software should see it: the EPSG definition when one matches it exactly
    (QGIS and the GeoPackage then show its code and name), otherwise the same definition under a
    name that says what it is (a PROJ string is otherwise called "unknown" in every output)."""
    rio = crs if isinstance(crs, RioCRS) else RioCRS.from_user_input(crs)
    # the user's own text when given: a longlat PROJ string matches EPSG:4326 as written, not
    # after a round trip through WKT
    named = _named_definition(crs if isinstance(crs, str) else rio.to_wkt())
    return rio if named is None else named


# the names of a projection's origin in PROJ's parameter list, by method family
_ORIGIN_LATITUDE = (
    "Latitude of false origin",
    "Latitude of natural origin",
    "Latitude of projection centre",
)
_CENTRAL_MERIDIAN = (
    "Longitude of false origin",
    "Longitude of natural origin",
    "Longitude of projection centre",
)


@functools.lru_cache(maxsize=32)
def _named_definition(text: str) -> RioCRS | None:
    """What :func:`named_crs` makes of the definition ``text``: None to keep it as given.
    Remembered per process: PROJ's search of its database for an EPSG twin takes ~25 ms, and a
    job names the same grid's CRS once per file it writes."""
    pcrs = CRS.from_user_input(text)
    if pcrs.is_bound:  # a datum shift attached (e.g. +nadgrids=@null): kept exactly as given
        return None
    # PROJ rates a definition named "unknown" as a weak match of its EPSG twin: a candidate
    # counts only with the same definition (axis order aside: EPSG:4326 is lat/lon, a longlat
    # PROJ string lon/lat, and GeoTIFF stores either as lon/lat)
    code = pcrs.to_epsg(min_confidence=25)
    if code is not None and _same_definition(CRS.from_epsg(code), pcrs):
        return RioCRS.from_epsg(code)
    op = pcrs.coordinate_operation
    if (pcrs.name and pcrs.name != "unknown") or op is None:
        return None
    params = {p.name: p.value for p in op.params}
    parallels = [
        f"{params[k]:g}"
        for k in ("Latitude of 1st standard parallel", "Latitude of 2nd standard parallel")
        if k in params
    ]
    shown = []
    if parallels:
        plural = "s" if len(parallels) > 1 else ""
        shown.append(f"standard parallel{plural} {' and '.join(parallels)}")
    for label, keys in (
        ("latitude of origin", _ORIGIN_LATITUDE),
        ("central meridian", _CENTRAL_MERIDIAN),
    ):
        shown += [f"{label} {params[k]:g}" for k in keys if k in params][:1]
    datum = pcrs.datum.name if pcrs.datum is not None else "unknown"
    ell = pcrs.ellipsoid
    if datum == "unknown" and ell is not None:
        datum = (
            ell.name
            if ell.name != "unknown"
            else f"a sphere of radius {ell.semi_major_metre:.0f} m"
        )
    name = f"{op.method_name} ({', '.join(shown)}) on {datum}".replace("Unknown based on ", "")
    # GDAL looks a GeoTIFF's CRS name up in PROJ's database each time it opens the file, and a
    # name with "_" takes the slow path of that search (~6 ms per open against ~2 ms; a run
    # opens its rasters hundreds of times, docs/performance.md)
    name = name.replace("_", " ")
    doc = pcrs.to_json_dict()
    doc["name"] = name
    return RioCRS.from_wkt(CRS.from_json_dict(doc).to_wkt())


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: ``crs``, ``transform`` (rasterio Affine), ``width``, ``height``."""

    crs: RioCRS
    transform: Affine
    width: int
    height: int
    allow_non_equal_area: bool = False

    def __post_init__(self):
        if self.crs is None:
            raise GridError("the target grid has no CRS; set grid.crs in the config")
        t = self.transform
        if t.b != 0 or t.d != 0:
            raise GridError(
                f"rotated grids are not supported (transform {tuple(t)[:6]}); use a north-up grid"
            )
        if t.e >= 0:
            raise GridError("the grid must be north-up (negative y resolution)")
        kind = crs_kind(self.crs)
        if kind == "other" and not self.allow_non_equal_area:
            raise GridError(
                f"the grid CRS '{self.crs.to_string()}' is neither equal-area nor geographic, so "
                "pixel areas would be wrong. Fix: use an equal-area CRS (e.g. Albers Equal Area), "
                "or set grid.allow_non_equal_area: true to accept planar pixel areas."
            )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls,
        crs: Any,
        resolution: float,
        bounds: Sequence[float],
        allow_non_equal_area: bool = False,
    ) -> Grid:
        """A grid of ``resolution`` over ``bounds`` [xmin, ymin, xmax, ymax] in ``crs``."""
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        if xmax <= xmin or ymax <= ymin:
            raise ConfigError(
                f"grid.bounds {bounds} must be [xmin, ymin, xmax, ymax] with "
                "xmax > xmin and ymax > ymin"
            )
        res = float(resolution)
        w, h = (xmax - xmin) / res, (ymax - ymin) / res
        if abs(w - round(w)) > 1e-6 or abs(h - round(h)) > 1e-6:
            raise ConfigError(
                f"grid.bounds {bounds} are not a whole number of pixels of "
                f"{res}; widen them to multiples of the resolution"
            )
        return cls(
            named_crs(crs),
            Affine(res, 0.0, xmin, 0.0, -res, ymax),
            int(round(w)),
            int(round(h)),
            allow_non_equal_area,
        )

    @classmethod
    def from_template(cls, path: str, allow_non_equal_area: bool = False) -> Grid:
        """The grid of an existing raster."""
        with rasterio.open(path) as src:
            if src.crs is None:
                raise GridError(
                    f"{path}: the grid template has no CRS; assign one (gdal_edit.py "
                    "-a_srs) or set grid.crs/resolution/bounds instead"
                )
            return cls(
                named_crs(src.crs), src.transform, src.width, src.height, allow_non_equal_area
            )

    @classmethod
    def from_config(cls, cfg: dict) -> Grid:
        """From a full config (``cfg['grid']``) or from the grid section itself."""
        g = cfg["grid"] if "grid" in cfg else cfg
        allow = bool(g.get("allow_non_equal_area"))
        if "template" in g:
            return cls.from_template(g["template"], allow)
        return cls.from_bounds(g["crs"], g["resolution"], g["bounds"], allow)

    # -- properties ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in CRS units."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    @property
    def kind(self) -> str:
        """'equal_area', 'geographic' or 'other' (see :func:`crs_kind`)."""
        return crs_kind(self.crs)

    def profile(self, **extra) -> dict:
        """A rasterio profile for a float32, NaN-nodata, tiled single-band GeoTIFF on this grid.

        For intermediate files: ZSTD level 1 writes and reads much faster than DEFLATE at the
        same size (docs/performance.md)."""
        p = dict(
            driver="GTiff",
            dtype="float32",
            nodata=np.nan,
            width=self.width,
            height=self.height,
            count=1,
            crs=self.crs,
            transform=self.transform,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress="zstd",
            zstd_level=1,
            interleave="band",
        )
        p.update(extra)
        return p

    def digest(self) -> str:
        """Short stable identifier of the grid (for cache keys)."""
        payload = json.dumps(
            {
                "crs": self.crs.to_wkt(),
                "transform": list(self.transform)[:6],
                "shape": [self.height, self.width],
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def row_areas_m2(self) -> np.ndarray:
        """Area (m²) of one pixel in each row, float64, shape (height,)."""
        t = self.transform
        kind = self.kind
        if kind == "geographic":
            pcrs = CRS.from_wkt(self.crs.to_wkt())
            ell = pcrs.ellipsoid
            if ell is None:
                raise GridError(f"the grid CRS {self.crs} has no ellipsoid: pixel areas unknown")
            tops = t.f + t.e * np.arange(self.height)
            bottoms = tops + t.e
            return ellipsoid_row_areas_m2(
                tops, bottoms, abs(t.a), ell.semi_major_metre, ell.inverse_flattening
            )
        unit_factor = 1.0
        pcrs = CRS.from_wkt(self.crs.to_wkt())
        axis = pcrs.axis_info[0] if pcrs.axis_info else None
        if axis is not None and axis.unit_conversion_factor:
            unit_factor = axis.unit_conversion_factor
        return np.full(self.height, abs(t.a * t.e) * unit_factor**2, dtype="float64")

    def pixel_areas_m2(self) -> np.ndarray:
        """Area (m²) of every pixel, shape (height, width), float64."""
        return np.repeat(self.row_areas_m2()[:, None], self.width, axis=1)
