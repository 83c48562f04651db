"""Class breaks for maps and GIS styles (mapclassify's schemes, PySAL).

Skewed regional data (the CE of China's counties spans four orders of magnitude) wash out on a
continuous colour ramp: a few large values take the whole scale. Classes from the data's own
distribution show them. A diverging quantity gets classes on each side of its centre (0 for CNC,
1 for CER), so the centre is always a break and no class mixes a deficit with a surplus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonbudget.outputs.language import Phrase

SCHEMES = ("quantiles", "natural_breaks", "equal_interval")


def _quantile_bins(v: np.ndarray, k: int) -> np.ndarray:
    """The bins of mapclassify's ``Quantiles(v, k)``: scipy's ``scoreatpercentile`` (linear,
    "fraction") at 100/k, 200/k, ... 100 percent, repeated values collapsed."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    ordered = np.sort(v)
    out = []
    for per in p:
        idx = per / 100.0 * (ordered.size - 1)
        i = int(idx)
        if i == idx:
            out.append(ordered[i])
        else:  # the weighted mean of the two neighbours, in scipy's arithmetic
            weights = np.array([(i + 1 - idx), (idx - i)], float)
            out.append(np.add.reduce(ordered[i : i + 2] * weights) / weights.sum())
    return np.unique(np.array(out))


def _equal_interval_bins(v: np.ndarray, k: int) -> np.ndarray:
    """The bins of mapclassify's ``EqualInterval(v, k)``: k classes of equal width, the last at
    the maximum."""
    max_y, min_y = v.max(), v.min()
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:  # np.arange overshooting by rounding
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts


def breaks(values: np.ndarray, scheme: str, k: int) -> list[float]:
    """Upper bounds of up to ``k`` classes of the finite ``values`` (the last is the maximum),
    by a mapclassify scheme; fewer classes when there are fewer distinct values."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    k = int(min(k, len(np.unique(v))))
    if k < 2:
        return [float(v.max())]
    # Quantiles and equal intervals are mapclassify's formulas restated in a few lines of
    # numpy (tests/test_maps.py checks them equal to mapclassify's bins, bit for bit):
    # importing mapclassify compiles its Fisher-Jenks kernel with numba, uncached, and pulls in
    # scikit-learn, 1.5-4 s in every map job; only natural breaks need it
    if scheme == "quantiles":
        bins = _quantile_bins(v, k)
    elif scheme == "natural_breaks":
        # lazy: mapclassify's import costs seconds (see above); only natural breaks need it
        import mapclassify

        bins = mapclassify.FisherJenks(v, k=k).bins
    elif scheme == "equal_interval":
        bins = _equal_interval_bins(v, k)
    else:
        raise ValueError(f"unknown classification scheme {scheme!r}; one of {SCHEMES}")
    return sorted({float(b) for b in bins})


def classes(
    values: pd.Series | np.ndarray, scheme: str, k: int, centre: float | None = None
) -> list[tuple[float, float]]:
    """(lower, upper) of each class of the finite values. With ``centre``: ``k // 2`` classes
    below it and ``k - k // 2`` from it up (on the values of each side), the centre itself a
    bound of both neighbours."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    if centre is None:
        ups = breaks(v, scheme, k)
        lows = [float(v.min())] + ups[:-1]
        return list(zip(lows, ups))
    out: list[tuple[float, float]] = []
    below, above = v[v < centre], v[v >= centre]
    if below.size:
        ups = breaks(below, scheme, max(1, k // 2))
        ups[-1] = centre
        out += list(zip([float(below.min())] + ups[:-1], ups))
    if above.size:
        ups = breaks(above, scheme, max(1, k - k // 2))
        out += list(zip([centre] + ups[:-1], ups))
    return out


def class_colours(n_below: int, n_above: int, cmap: str) -> list[str]:
    """Hex colours of diverging classes: ``n_below`` from the low half of ``cmap`` and
    ``n_above`` from its high half, the darkest at the extremes."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cm = colormaps[cmap]
    low = [cm(x) for x in np.linspace(0.0, 0.42, n_below)] if n_below else []
    high = [cm(x) for x in np.linspace(0.58, 1.0, n_above)] if n_above else []
    return [to_hex(c) for c in low + high]


def sequential_colours(n: int, cmap: str) -> list[str]:
    """Hex colours of ``n`` sequential classes, light to dark."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cm = colormaps[cmap]
    return [to_hex(cm(x)) for x in np.linspace(0.15, 0.95, n)] if n else []


def coloured_classes(
    values: pd.Series | np.ndarray, scheme: str, k: int, centre: float | None, cmap: str
) -> list[tuple[float, float, str]]:
    """(lower, upper, hex colour) of each class of the finite ``values``: :func:`classes`
    coloured from ``cmap`` (sequential, or each side of ``centre`` from its half). The PNG maps
    and the GeoPackage styles both take their classes from here, so a variable looks the same
    in both."""
    cls = classes(values, scheme, k, centre)
    if centre is None:
        colours = sequential_colours(len(cls), cmap)
    else:
        below = sum(1 for lo, hi in cls if lo < centre and hi <= centre)
        colours = class_colours(below, len(cls) - below, cmap)
    return [(lo, hi, c) for (lo, hi), c in zip(cls, colours)]


def class_index(values: np.ndarray, classes: list) -> np.ndarray:
    """The class of each finite value among ``classes`` ((lower, upper, ...) in order): the
    first whose upper bound it does not exceed (a value on a shared bound is in the lower
    class), the last for anything above; the QGIS rules of the styles say the same."""
    uppers = np.array([c[1] for c in classes])
    return np.minimum(np.searchsorted(uppers, values, side="left"), len(classes) - 1)


def bound_label(value: float) -> str:
    """A class bound as people read it: 1,740 and −2,780 (a true minus sign), not 1.74e+03;
    0.52 and 3.1."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}".replace("-", "−")
    return f"{value:.3g}".replace("-", "−")


def class_phrase(lo: float, hi: float, first: bool) -> Phrase:
    """The legend label of a class, unambiguous where two classes share a bound: the lowest
    class holds both its bounds ("−5 to −3"), every other holds its upper bound only
    ("> −3 to 0"), as the maps and the QGIS styles assign values."""
    return Phrase(
        "{lo} to {hi}" if first else "> {lo} to {hi}", lo=bound_label(lo), hi=bound_label(hi)
    )


def class_label(lo: float, hi: float, first: bool) -> str:
    """:func:`class_phrase` in English (the QGIS styles and the web map)."""
    return class_phrase(lo, hi, first).render("en")
