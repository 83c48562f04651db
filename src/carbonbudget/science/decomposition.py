"""Why emissions changed: the additive LMDI-I decomposition (Ang 2005) of a change in a
quantity that is a product of factors, or a sum of such products over components (fuels).

For V = Σ_j Π_i x_ij between a start (0) and an end (T) the effect of factor i is

    ΔV_i = Σ_j L(V_j^T, V_j^0) · ln(x_ij^T / x_ij^0),
    L(a, b) = (a − b) / (ln a − ln b),  L(a, a) = a,

and the effects add up to ΔV = V^T − V^0 exactly (L(a, b) · (ln a − ln b) = a − b): the
decomposition leaves no residual. Zero values follow Ang & Liu (2007): a component absent at
the start (V_j^0 = 0) contributes its whole end value V_j^T to the factor(s) that are zero at
the start, the limit the small-value strategy converges to, and one absent at the end its
whole start value, with a minus sign, to the factor(s) zero at the end; where several factors
are zero the amount is split equally between them (the limit depends on how fast each goes to
zero, which the data do not say). A missing or negative value makes the effects of that
region unknown (NaN), never 0.

Pure functions on plain arrays: one row per region (axis 0), components on axis 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike


def log_mean(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b) of positive numbers, a where
    a = b; 0 where either is 0 (its limit)."""
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (np.log(a) - np.log(b))
    # a = b (and values so close that the quotient loses its digits) is a itself
    close = np.isclose(a, b, rtol=1e-12, atol=0.0)
    out = np.where(close, a, out)
    return np.where((a == 0) | (b == 0), 0.0, out)


def lmdi(start: Mapping[str, ArrayLike], end: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    """The additive LMDI-I effect of each factor on V = Σ_j Π_i x_ij from ``start`` to
    ``end`` (factor name -> values, shape (regions,) for one component or (regions,
    components)). The effects sum to V(end) − V(start) in every region (see the module's
    docstring for zeros); NaN for a region with a missing or negative value."""
    names = list(start)
    if list(end) != names:
        raise ValueError(f"start and end give different factors: {names} and {list(end)}")
    x0 = np.stack([np.atleast_1d(np.asarray(start[n], dtype="float64")) for n in names])
    xt = np.stack([np.atleast_1d(np.asarray(end[n], dtype="float64")) for n in names])
    if x0.shape != xt.shape:
        raise ValueError(f"start and end differ in shape: {x0.shape} and {xt.shape}")
    one = x0.ndim == 2  # (factors, regions): one component
    if one:
        x0, xt = x0[..., None], xt[..., None]
    v0, vt = x0.prod(axis=0), xt.prod(axis=0)  # (regions, components)
    weight = log_mean(vt, v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(xt / x0)
        effects = np.where((x0 > 0) & (xt > 0), weight * ratio, 0.0)
    # Ang & Liu (2007): a component that appears (or vanishes) is the doing of the factors
    # that were zero at its start (or end)
    zero0, zerot = x0 == 0, xt == 0
    appears = zero0.any(axis=0) & ~zerot.any(axis=0)
    vanishes = zerot.any(axis=0) & ~zero0.any(axis=0)
    share0 = zero0 / np.maximum(zero0.sum(axis=0), 1)
    sharet = zerot / np.maximum(zerot.sum(axis=0), 1)
    effects = np.where(appears, share0 * vt, effects)
    effects = np.where(vanishes, -sharet * v0, effects)
    effects = np.where(zero0.any(axis=0) & zerot.any(axis=0), 0.0, effects)
    bad = (~np.isfinite(x0) | ~np.isfinite(xt) | (x0 < 0) | (xt < 0)).any(axis=(0, 2))
    summed = effects.sum(axis=2)  # over components: (factors, regions)
    summed[:, bad] = np.nan
    return {name: summed[i] for i, name in enumerate(names)}


def kaya_factors(ce: ArrayLike, population: ArrayLike, gdp: ArrayLike) -> dict[str, np.ndarray]:
    """CE = P · (GDP / P) · (CE / GDP): the population, affluence (GDP per person) and
    emission-intensity (CE per GDP) factors of each region; NaN where a value is missing or
    population or GDP is not positive (a ratio without meaning)."""
    ce = np.asarray(ce, dtype="float64")
    population = np.asarray(population, dtype="float64")
    gdp = np.asarray(gdp, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (population > 0) & (gdp > 0)
        return {
            "population": np.where(ok, population, np.nan),
            "affluence": np.where(ok, gdp / population, np.nan),
            "intensity": np.where(ok, ce / gdp, np.nan),
        }
