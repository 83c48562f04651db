"""Spatial statistics of the region tables (docs/method.md, "Spatial statistics").

* Weights: queen contiguity from the polygons of a level (libpysal), row-standardised for Moran's I
  and LISA. Regions without a queen neighbour (islands) are joined to their nearest neighbour
  (centroid distance, ``spatial.islands: nearest``) or left out (``drop``); both are reported.
* Global Moran's I (esda) per period (the mean over all years, then each year) with a permutation
  p-value; LISA clusters HH/LL/HL/LH and Getis–Ord Gi* hot and cold spots at 90/95/99 % for the
  period mean, the statistics as esda's ``Moran_Local`` and ``G_Local`` compute them (tested
  equal), their conditional permutation tests in numba kernels of our own that are cached on
  disk (esda's recompile in every process; see ``_conditional_p``).
* Gini of a variable inside each parent region over its members, with negative values handled
  three ways side by side (the segmented form of Zhang et al. 2022, Chen–Tsaur–Rhai with the
  Berrebi–Silber
  correction, Raffinetti–Siletti–Vernizzi). These are a few lines of numpy each and exist in no
  Python package we depend on (the reference implementation is the R package GiniWegNeg), so they
  are written here and tested against hand-worked values.

Decisions (documented in the README, tested):
* Every permutation test is seeded (``spatial.seed``). ``esda.Moran`` has no seed argument, so
  numpy's global generator is seeded around the call and restored afterwards; the local tests
  seed numba's own generator.
* Gi* uses binary queen weights with the region itself included (Getis & Ord 1992; the classic
  z-score). esda's Gi* z-score is ``sign(mean) x`` the Ord–Getis z, so on a variable with a
  negative mean (CNC in most of China) hot and cold spots would swap. The z-score is invariant to
  adding a constant, so Gi* is computed on the values shifted to a positive mean.
* A period value is used only when the region has it in every year of the period (a mean over
  fewer years would not be comparable); regions without it are left out and counted.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numba import njit

from carbonbudget.core.errors import RegionError

if TYPE_CHECKING:
    import geopandas as gpd
    from libpysal.weights import W
    from numpy.typing import ArrayLike

log = logging.getLogger(__name__)

LISA_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}  # esda's quadrant numbering
NOT_SIGNIFICANT = "not significant"
GI_LEVELS = ((2.5758293035489004, 99), (1.959963984540054, 95), (1.6448536269514722, 90))
MEAN_PERIOD = "mean"


# --------------------------------------------------------------------------------------------
# Gini coefficients (pure numpy, no I/O)
# --------------------------------------------------------------------------------------------


def _sorted_weighted(y, w=None):
    y = np.asarray(y, dtype="float64")
    w = np.ones_like(y) if w is None else np.asarray(w, dtype="float64")
    if y.shape != w.shape:
        raise ValueError("values and weights differ in length")
    if not (np.isfinite(y).all() and np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("Gini needs finite values and positive weights")
    order = np.argsort(y, kind="stable")
    return y[order], w[order]


def _concentration_numerator(y, w):
    """Half the weighted mean absolute difference: ΣΣ w_i w_j |y_i − y_j| / (2 N²), N = Σw
    (for sorted ``y``; the same numerator as GiniWegNeg)."""
    # The expression is invariant to adding a constant; measuring from the minimum makes equal
    # members give exactly 0 instead of round-off.
    n_w = w.sum()
    yw = (y - y[0]) * w
    cum_w = np.cumsum(w)
    return (2.0 / n_w**2) * (yw * cum_w).sum() - yw.sum() / n_w - (yw * w).sum() / n_w**2


def gini_ordinary(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Ordinary Gini ΣΣ|y_i − y_j| / (2 n² μ) of non-negative values (0 for one member or all 0)."""
    if len(y) == 0:
        return math.nan
    y, w = _sorted_weighted(y, w)
    if (y < 0).any():
        raise ValueError("the ordinary Gini needs non-negative values; use gini_ctr_bs/gini_rsv")
    num = _concentration_numerator(y, w)
    mean = (y * w).sum() / w.sum()
    return 0.0 if num == 0 else _unit_interval(num / mean)


def gini_ctr_bs(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Gini normalised for negative values: Chen, Tsaur & Rhai (1982) with the correction of
    Berrebi & Silber (1985), as R's ``GiniWegNeg::Gini_CTR_BS``.

    The numerator is the ordinary concentration area; the denominator is the area under the
    curve of maximum inequality that keeps the k poorest members whose cumulated values stay
    negative and gives the rest to the richest. Equals the ordinary Gini without negative values;
    equals 1 when the total is not positive (the normalisation is then undefined)."""
    if len(y) == 0:
        return math.nan
    y, w = _sorted_weighted(y, w)
    num = _concentration_numerator(y, w)
    if num == 0:
        return 0.0  # all members equal
    n_w = w.sum()
    yw = y * w
    cum_w = np.cumsum(w)
    mean = yw.sum() / n_w
    k = int(np.count_nonzero(np.cumsum(np.sort(yw)) < 0))
    if k == 0:
        den = mean
    elif mean <= 0:
        den = num
    else:
        ywk, wk = yw[:k], w[:k]
        den = (
            mean
            + (2.0 / n_w**2) * (ywk * cum_w[:k]).sum()
            + (1.0 / n_w**2) * ywk.sum() * (ywk.sum() / y[k] - 2.0 * wk.sum())
            - (1.0 / n_w**2) * (ywk * wk).sum()
        )
    return _unit_interval(num / den)


def _unit_interval(g: float) -> float:
    """Remove round-off just outside [0, 1] (e.g. -1e-16 for near-equal members); anything
    further out is a bug and is returned unchanged so that tests see it."""
    g = float(g)
    if -1e-12 < g < 0.0:
        return 0.0
    if 1.0 < g < 1.0 + 1e-12:
        return 1.0
    return g


def gini_rsv(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Gini normalised for negative values by Raffinetti, Siletti & Vernizzi (2015), as R's
    ``GiniWegNeg::Gini_RSV``: ΣΣ|y_i − y_j| / (2 N (T⁺ + |T⁻|)), T⁺ and T⁻ the totals of the
    positive and negative members (N, not N − 1, as the package: the polarised maximum is
    (N − 1)/N)."""
    if len(y) == 0:
        return math.nan
    y, w = _sorted_weighted(y, w)
    num = _concentration_numerator(y, w)
    gross = np.abs(y * w).sum()
    return 0.0 if num == 0 else _unit_interval(num / (gross / w.sum()))


def gini_segmented(y: np.ndarray, tolerance: float = 0.0) -> dict:
    """The segmented Gini of Zhang et al. 2022 (Eq. 13–16, as docs/method.md, "Spatial statistics"
    reads them): ordinary Gini of |y| over
    the members in deficit (y < −tolerance), ordinary Gini over the members in surplus
    (y > tolerance), neutral members contribute 0; ``gini_segmented = g_deficit + g_surplus``
    exactly as Eq. 16 writes it, so it can exceed 1."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    deficit, surplus = y[y < -tolerance], y[y > tolerance]
    g_def = gini_ordinary(-deficit) if len(deficit) else 0.0
    g_sur = gini_ordinary(surplus) if len(surplus) else 0.0
    return {
        "n_members": n,
        "p_deficit": len(deficit) / n if n else math.nan,
        "p_surplus": len(surplus) / n if n else math.nan,
        "p_neutral": (n - len(deficit) - len(surplus)) / n if n else math.nan,
        "g_deficit": g_def,
        "g_surplus": g_sur,
        "gini_segmented": g_def + g_sur,
    }


def gini_table(
    values: pd.DataFrame,
    *,
    parent_col: str,
    value_col: str,
    period_col: str = "period",
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """Per parent and period: members, shares in deficit/surplus, the segmented Gini and the
    two normalised forms. Members without a value are left out and counted."""
    rows = []
    for (parent, period), grp in values.groupby([parent_col, period_col], sort=True):
        v = grp[value_col].to_numpy(dtype="float64")
        ok = np.isfinite(v)
        row = {parent_col: parent, period_col: period, "n_missing": int((~ok).sum())}
        row.update(gini_segmented(v[ok], tolerance))
        row["gini_ctr_bs"] = gini_ctr_bs(v[ok])
        row["gini_rsv"] = gini_rsv(v[ok])
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Weights and autocorrelation (libpysal / esda)
# --------------------------------------------------------------------------------------------


def _touching_weights(geoms, codes: list[str]):
    """Queen contiguity: regions sharing at least one boundary point are neighbours.

    Found with a shapely STR-tree ``intersects`` query instead of libpysal's
    ``Queen.from_dataframe`` (vertex hashing in Python): identical neighbours on clean coverages
    (tested) and much faster on detailed boundaries (docs/performance.md); it also
    links regions touching where one has no vertex on the other's boundary. The weights object
    is libpysal's ``W``."""
    # lazy: only jobs that read polygons need shapely
    import shapely
    from libpysal import weights

    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left != right
    neighbours: dict[str, list[str]] = {c: [] for c in codes}
    for i, j in zip(left[keep], right[keep]):
        neighbours[codes[i]].append(codes[j])
    neighbours = {c: sorted(set(n)) for c, n in neighbours.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands; we report them ourselves
        return weights.W(neighbours, id_order=codes, silence_warnings=True)


def queen_weights(polygons: gpd.GeoDataFrame, code_col: str, islands: str = "nearest") -> W:
    """Queen contiguity weights over ``polygons`` (ids = codes, in the frame's order) and a report
    ``{code: nearest code}`` of the islands joined (or ``{code: None}`` when dropped)."""
    # lazy: PySAL costs seconds of start-up; only the spatial-statistics job needs it
    from libpysal import weights

    codes = polygons[code_col].astype(str).tolist()
    w = _touching_weights(polygons.geometry.values, codes)
    isolated = sorted(map(str, w.islands))
    if not isolated or len(codes) < 2:
        return w, {}
    if islands == "drop":
        return w, {c: None for c in isolated}
    pts = polygons.geometry.representative_point()
    knn = weights.KNN(np.column_stack([pts.x, pts.y]), k=1, ids=codes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = weights.util.attach_islands(w, knn)
    return w, {c: str(knn.neighbors[c][0]) for c in isolated}


# Conditional permutation tests of the local statistics. esda's own (crand) take the statistic
# as a function argument, so numba cannot cache them and recompiles them in every process (about
# ten seconds, more than the statistics cost on a few thousand regions; docs/performance.md).
# These kernels do the same conditional randomisation (Anselin 1995): region i keeps its value,
# its k_i neighbours' values are drawn without replacement from the other n − 1, the same draws
# for every region as esda does; they are cached on disk. Their p-values differ from esda's by
# Monte Carlo error only (the random streams differ); tests/test_spatial.py compares the two.


@njit(cache=True)
def _permuted_ids(n_other: int, k: int, permutations: int, seed: int) -> np.ndarray:
    """``permutations`` rows of ``k`` distinct ids of ``range(n_other)`` (a partial
    Fisher–Yates shuffle per row), from a generator seeded with ``seed``."""
    np.random.seed(seed)
    out = np.empty((permutations, k), dtype=np.int64)
    pool = np.arange(n_other)
    for p in range(permutations):
        for j in range(k):
            r = j + np.random.randint(n_other - j)
            pool[j], pool[r] = pool[r], pool[j]
            out[p, j] = pool[j]
    return out


@njit(cache=True)
def _conditional_p(
    values: np.ndarray,
    indptr: np.ndarray,
    weights: np.ndarray,
    self_weight: np.ndarray,
    factor: np.ndarray,
    observed: np.ndarray,
    ids: np.ndarray,
) -> np.ndarray:
    """Folded pseudo p-values (larger + 1) / (permutations + 1) of local statistics of the form
    factor_i · (self_weight_i · v_i + Σ_j w_ij · v_j), the neighbours' values v_j drawn by
    ``ids`` from the values of the other regions (row i's weights in ``weights[indptr[i]:
    indptr[i + 1]]``)."""
    n = values.shape[0]
    permutations = ids.shape[0]
    out = np.empty(n)
    for i in range(n):
        start, k = indptr[i], indptr[i + 1] - indptr[i]
        larger = 0
        for p in range(permutations):
            total = self_weight[i] * values[i]
            for j in range(k):
                other = ids[p, j]
                if other >= i:  # the ids skip region i
                    other += 1
                total += weights[start + j] * values[other]
            if factor[i] * total >= observed[i]:
                larger += 1
        if permutations - larger < larger:
            larger = permutations - larger
        out[i] = (larger + 1.0) / (permutations + 1.0)
    return out


def _adjacency(w: W):
    """The binary neighbour matrix of ``w`` (CSR, no self-links) in its id order."""
    matrix = w.sparse.tocsr(copy=True)
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def _local_p(values, matrix, self_weight, factor, observed, permutations: int, seed: int):
    """:func:`_conditional_p` of the statistic on ``matrix``'s rows (its weights)."""
    n = len(values)
    k = int(np.diff(matrix.indptr).max()) if n else 0
    ids = _permuted_ids(n - 1, min(k, n - 1), permutations, seed)
    return _conditional_p(
        np.ascontiguousarray(values, dtype="float64"),
        matrix.indptr.astype(np.int64),
        matrix.data.astype("float64"),
        np.asarray(self_weight, dtype="float64"),
        np.asarray(factor, dtype="float64"),
        np.asarray(observed, dtype="float64"),
        ids,
    )


@contextlib.contextmanager
def _seeded_global_rng(seed: int):
    """Seed numpy's legacy global generator (used by esda.Moran) and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def global_moran(y: ArrayLike, w: W, *, permutations: int, seed: int) -> dict:
    """Global Moran's I with row-standardised weights and a seeded permutation p-value."""
    # lazy: PySAL costs seconds of start-up; only the spatial-statistics job needs it
    import esda

    with _seeded_global_rng(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = esda.Moran(
            np.asarray(y, dtype="float64"), w, transformation="r", permutations=permutations
        )
    return {
        "moran_i": float(mi.I),
        "expected_i": float(mi.EI),
        "z_norm": float(mi.z_norm),
        "p_norm": float(mi.p_norm),
        "p_sim": float(mi.p_sim),
    }


def local_moran(y: ArrayLike, w: W, *, permutations: int, seed: int, alpha: float) -> pd.DataFrame:
    """LISA (Anselin 1995) with row-standardised weights, as esda's ``Moran_Local``: local
    I_i = (n − 1) z_i Σ_j w_ij z_j / Σ z² (z standardised by the population SD), its folded
    conditional-permutation pseudo p-value, the quadrant and the cluster label (HH/LL/HL/LH,
    or 'not significant' when p_sim >= alpha)."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - y.mean()) / y.std()
    matrix = _adjacency(w)
    rows = np.asarray(matrix.sum(axis=1)).ravel()
    matrix = matrix.multiply(1.0 / np.where(rows > 0, rows, 1.0)[:, None]).tocsr()
    matrix.sort_indices()
    lag = matrix @ z
    den = float((z * z).sum())
    factor = (n - 1) * z / den
    local = factor * lag
    p_sim = _local_p(z, matrix, np.zeros(n), factor, local, permutations, seed)
    high, high_lag = z > 0, lag > 0
    quad = np.where(high, np.where(high_lag, 1, 4), np.where(high_lag, 2, 3))
    quad_label = pd.Series(quad).map(LISA_LABELS)
    label = quad_label.where(p_sim < alpha, NOT_SIGNIFICANT)
    return pd.DataFrame(
        {
            "lisa_i": local,
            "lisa_p_sim": p_sim,
            "lisa_quadrant": quad_label.values,
            "lisa_cluster": label.values,
        }
    )


def gi_star_class(z: np.ndarray) -> np.ndarray:
    """'hot spot 99%' … 'cold spot 90%' or 'not significant' from the Gi* z-score (two-sided)."""
    out = np.full(len(z), NOT_SIGNIFICANT, dtype=object)
    for crit, conf in sorted(GI_LEVELS):  # weakest first, stronger overwrite
        out[z >= crit] = f"hot spot {conf}%"
        out[z <= -crit] = f"cold spot {conf}%"
    return out


def getis_ord_star(y: ArrayLike, w: W, *, permutations: int, seed: int) -> pd.DataFrame:
    """Gi* (Getis & Ord 1992; binary weights, the region itself included): the z-score of
    G*_i = Σ_j w_ij y_j / Σ y under the analytical moments (as esda's ``G_Local``), its
    two-sided normal p-value, the folded conditional-permutation pseudo p-value and the hot/cold
    class. Computed on y shifted to a positive mean (the z-score does not change with a shift;
    esda's would flip sign for a negative mean)."""
    y = np.asarray(y, dtype="float64")
    shifted = y - y.min() + max(float(np.ptp(y)), 1.0)
    n = len(shifted)
    matrix = _adjacency(w)
    total = float(shifted.sum())
    g = (matrix @ shifted + shifted) / total
    cardinality = np.diff(matrix.indptr) + 1.0  # the region itself included
    mean = total / n
    variance = float((shifted**2).sum()) / n - mean**2
    expected = cardinality / n
    var_g = cardinality * (n - cardinality) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (g - expected) / np.sqrt(var_g)
    p_sim = _local_p(shifted, matrix, np.ones(n), np.full(n, 1.0 / total), g, permutations, seed)
    # lazy: scipy.stats costs seconds of start-up; only the Gi* statistics need it
    from scipy.stats import norm

    return pd.DataFrame(
        {
            "gi_z": z,
            "gi_p_norm": 2.0 * norm.sf(np.abs(z)),
            "gi_p_sim": p_sim,
            "gi_class": gi_star_class(z),
        }
    )


# --------------------------------------------------------------------------------------------
# Region tables -> spatial tables (what the rule calls)
# --------------------------------------------------------------------------------------------


def period_values(budget: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Wide table code × period: the mean over all years (NaN unless known every year), then
    each year."""
    if variable not in budget.columns:
        raise RegionError(
            f"column '{variable}' is not in the budget table (columns: {sorted(budget.columns)})",
            variable="spatial.variables",
            fix="name a column of tables/budget_<level>.csv",
        )
    wide = budget.pivot(index="code", columns="year", values=variable).sort_index()
    mean = wide.mean(axis=1).where(wide.notna().all(axis=1))
    out = pd.concat([mean.rename(MEAN_PERIOD), wide], axis=1)
    out.columns = [str(c) for c in out.columns]
    return out


class _WeightsCache:
    """Queen weights per set of usable regions (a year with missing values gets its own)."""

    def __init__(self, polygons, code_col: str, islands: str):
        self.polygons = polygons.sort_values(code_col).reset_index(drop=True)
        self.code_col = code_col
        self.islands = islands
        self._cache: dict = {}

    def get(self, codes: list[str]):
        key = tuple(codes)
        if key not in self._cache:
            sub = self.polygons[self.polygons[self.code_col].isin(codes)].reset_index(drop=True)
            w, report = queen_weights(sub, self.code_col, self.islands)
            if self.islands == "drop" and report:
                sub = sub[~sub[self.code_col].isin(report)].reset_index(drop=True)
                w, _ = queen_weights(sub, self.code_col, self.islands)
            self._cache[key] = (sub[self.code_col].tolist(), w, report)
        return self._cache[key]


def spatial_level(
    polygons: gpd.GeoDataFrame,
    budget: pd.DataFrame,
    *,
    level: str,
    variables: list[str],
    permutations: int,
    seed: int,
    lisa_p: float,
    islands: str,
    min_regions: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For one level: per-region LISA and Gi* of each variable's period mean, and global Moran's
    I per variable and period. ``polygons`` has ``code``; ``budget`` is the level's table."""
    cache = _WeightsCache(polygons[["code", "geometry"]], "code", islands)
    names = budget.drop_duplicates("code").set_index("code")["name"]
    local_rows, moran_rows = [], []
    for variable in variables:
        periods = period_values(budget, variable)
        for period in periods.columns:
            col = periods[period]
            usable = sorted(col.index[np.isfinite(col.to_numpy(dtype="float64"))])
            row = {
                "level": level,
                "variable": variable,
                "period": period,
                "n_regions": len(col),
                "n_excluded": len(col) - len(usable),
                "permutations": permutations,
                "seed": seed,
            }
            note = ""
            if len(usable) < min_regions:
                note = (
                    f"skipped: {len(usable)} regions with a value < spatial.min_regions "
                    f"= {min_regions}"
                )
            else:
                ids, w, report = cache.get(usable)
                y = col.reindex(ids).to_numpy(dtype="float64")
                row["n_islands"] = len(report)
                row["islands"] = ";".join(f"{c}->{t}" if t else c for c, t in report.items())
                if np.ptp(y) == 0:
                    note = "skipped: all regions have the same value"
                else:
                    row.update(global_moran(y, w, permutations=permutations, seed=seed))
                    if period == MEAN_PERIOD:
                        loc = pd.concat(
                            [
                                local_moran(
                                    y, w, permutations=permutations, seed=seed, alpha=lisa_p
                                ),
                                getis_ord_star(y, w, permutations=permutations, seed=seed),
                            ],
                            axis=1,
                        )
                        loc.insert(0, "code", ids)
                        loc.insert(1, "value_mean", y)
                        loc.insert(2, "n_neighbours", [w.cardinalities[c] for c in ids])
                        loc.insert(3, "joined_to", [report.get(c) or "" for c in ids])
                        loc.insert(0, "variable", variable)
                        local_rows.append(loc)
            row["note"] = note
            moran_rows.append(row)
            if note and period == MEAN_PERIOD:
                log.warning("%s %s: %s", level, variable, note)
    local = _full_local_table(budget, names, variables, local_rows)
    moran_cols = [
        "level",
        "variable",
        "period",
        "n_regions",
        "n_excluded",
        "n_islands",
        "islands",
        "moran_i",
        "expected_i",
        "z_norm",
        "p_norm",
        "p_sim",
        "permutations",
        "seed",
        "note",
    ]
    return local, pd.DataFrame(moran_rows).reindex(columns=moran_cols)


def _full_local_table(budget, names, variables, local_rows) -> pd.DataFrame:
    """One row per region and variable, also for regions left out (labelled why)."""
    cols = [
        "variable",
        "code",
        "name",
        "value_mean",
        "n_neighbours",
        "joined_to",
        "lisa_i",
        "lisa_p_sim",
        "lisa_quadrant",
        "lisa_cluster",
        "gi_z",
        "gi_p_norm",
        "gi_p_sim",
        "gi_class",
    ]
    codes = sorted(budget["code"].unique())
    base = pd.DataFrame([(v, c) for v in variables for c in codes], columns=["variable", "code"])
    done = (
        pd.concat(local_rows, ignore_index=True)
        if local_rows
        else pd.DataFrame(columns=[c for c in cols if c != "name"])
    )
    out = base.merge(done, on=["variable", "code"], how="left")
    out["name"] = out["code"].map(names)
    for c in ("lisa_cluster", "gi_class"):
        out[c] = out[c].fillna("not computed")
    for c in ("lisa_quadrant", "joined_to"):
        out[c] = out[c].fillna("")
    return out[cols]
