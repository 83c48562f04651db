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

:func:`lmdi` and :func:`kaya_factors` are pure functions on plain arrays (one row per region,
components on axis 1); :func:`decompose_regions` applies them to a level's budget table, with
the attribution of a change of CNC to NPP, RH, RCS and CE beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.units import CO2_PER_C

# the urban population of a budget table (persons), a factor of the extended identity
URBAN_COLUMN = "urban_population_persons"

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


def kaya_factors(
    ce: ArrayLike,
    population: ArrayLike,
    gdp: ArrayLike,
    urban: ArrayLike | None = None,
    industry: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """The factors of CE = P · (GDP / P) · (CE / GDP): population, affluence (GDP per person)
    and emission intensity (CE per GDP) of each region; with the urban population ``urban``
    the extended identity CE = P · (U / P) · (GDP / U) · ..., whose factors are urbanisation
    and GDP per urban resident (``urban_affluence``) in place of affluence; with the GDP of
    industry ``industry`` (the secondary sector) ... · (S / GDP) · (CE / S), the industry
    share and CE per GDP of industry (``industry_intensity``) in place of intensity. Each
    product still equals CE. NaN where a value is missing or a denominator is not positive (a
    ratio without meaning)."""
    ce = np.asarray(ce, dtype="float64")
    population = np.asarray(population, dtype="float64")
    gdp = np.asarray(gdp, dtype="float64")
    ok = (population > 0) & (gdp > 0)
    u = s = None
    if urban is not None:
        u = np.asarray(urban, dtype="float64")
        ok &= u > 0
    if industry is not None:
        s = np.asarray(industry, dtype="float64")
        ok &= s > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"population": population}
        if u is None:
            out["affluence"] = gdp / population
        else:
            out["urbanisation"] = u / population
            out["urban_affluence"] = gdp / u
        if s is None:
            out["intensity"] = ce / gdp
        else:
            out["industry_share"] = s / gdp
            out["industry_intensity"] = ce / s
    return {name: np.where(ok, v, np.nan) for name, v in out.items()}


# every factor an identity of CE may have, in the order of the identity, with its words
FACTORS = {
    "population": "population",
    "urbanisation": "urbanisation",
    "affluence": "affluence",
    "urban_affluence": "GDP per urban resident",
    "industry_share": "industry share",
    "intensity": "intensity",
    "industry_intensity": "industry intensity",
}


def effect_factors(table: pd.DataFrame) -> list[str]:
    """The factors whose effects a decomposition table of CE holds, in identity order."""
    return [f for f in FACTORS if f"{f}_effect_tgco2" in table.columns]


def dominant_effect(table: pd.DataFrame) -> pd.Series:
    """Per region (index ``code``) of a decomposition table's period rows: which of its
    effects on CE is the largest in size, and whether it raises or lowers CE ("affluence
    (raises CE)"); "no value" where the effects are unknown."""
    period = table[table["kind"] == "period"].set_index("code")
    factors = effect_factors(period)
    effects = period[[f"{k}_effect_tgco2" for k in factors]].to_numpy(dtype="float64")
    known = np.isfinite(effects).all(axis=1)
    largest = np.argmax(np.abs(np.where(known[:, None], effects, 0.0)), axis=1)
    value = effects[np.arange(len(effects)), largest]
    labels = [
        f"{FACTORS[factors[i]]} ({'raises' if v > 0 else 'lowers'} CE)" if ok else "no value"
        for i, v, ok in zip(largest, value, known)
    ]
    return pd.Series(labels, index=period.index, name="dominant_effect")


def _steps(years: list[int]) -> list[tuple[int, int, str]]:
    """The changes a table decomposes: the period (first to last year) and, with more than two
    years, each year to the next (a chain)."""
    steps = [(years[0], years[-1], "period")]
    if len(years) > 2:
        steps += [(a, b, "step") for a, b in zip(years[:-1], years[1:])]
    return steps


def decompose_regions(
    budget: pd.DataFrame,
    gdp_col: str | None,
    currency: str,
    period: tuple[int, int] | None = None,
    rh_parts: pd.DataFrame | None = None,
    industry_col: str | None = None,
) -> pd.DataFrame:
    """The additive LMDI-I decomposition of each region's change of CE (Tg CO2) over the period
    and year on year into its population, affluence (GDP per person) and intensity (CE per
    GDP) effects, from one level's budget table (``population_persons`` and ``gdp_col`` in
    units of ``currency``; without ``gdp_col`` no effects); each region is decomposed from its
    own sums, so its effects add up to its own ΔCE exactly. With a sink (``cnc_tgco2``): the
    attribution of ΔCNC = ΔNPP − ΔRH + ΔRCS − ΔCE (Tg CO2), exact by the definitions. ``note``
    says why a value is unknown. ``period``: the first and last year decomposed (default: the
    table's). ``rh_parts`` (code, year, ``rh_temperature_tgc``, ``rh_precipitation_tgc``):
    the two terms of RH, whose changes split ΔRH exactly into a temperature and a
    precipitation part; with a sink but without them, ΔRH is not split. With the urban
    population (``urban_population_persons``) and the GDP of industry (``industry_col``) in
    the table, the identity has their factors too (:func:`kaya_factors`)."""
    years = sorted(int(y) for y in budget["year"].unique())
    if period is not None:
        years = [y for y in years if period[0] <= y <= period[1]]
    if len(years) < 2:
        raise ValueError("a decomposition needs two years or more")
    t = budget.set_index(["code", "year"]).sort_index()
    codes = t.index.get_level_values("code").unique()
    names = t["name"].groupby(level="code").first() if "name" in t else None
    sink = "cnc_tgco2" in t and "nep_tgc" in t and "rh_tgc" in t
    parts = rh_parts.set_index(["code", "year"]).sort_index() if rh_parts is not None else None
    rows = []
    for start, end, kind in _steps(years):

        def at(year: int, column: str) -> np.ndarray:
            return t[column].xs(year, level="year").reindex(codes).to_numpy(dtype="float64")

        ce0, ce1 = at(start, "ce_tgco2"), at(end, "ce_tgco2")
        out = pd.DataFrame(
            {
                "code": codes,
                "start_year": start,
                "end_year": end,
                "kind": kind,
                "ce_start_tgco2": ce0,
                "ce_end_tgco2": ce1,
                "delta_ce_tgco2": ce1 - ce0,
            }
        )
        needed = {"CE": (ce0, ce1)}
        if gdp_col is not None:
            columns = {"population": "population_persons", "GDP": gdp_col}
            columns |= {"urban population": URBAN_COLUMN, "GDP of industry": industry_col or ""}
            given = {k: (at(start, c), at(end, c)) for k, c in columns.items() if c in t}
            needed |= given
            _lmdi_columns(out, given, currency)
        if sink:
            _sink_columns(out, at, start, end)
            if parts is not None:
                # the parts are known for the years split (the period's first and last):
                # unknown for a step between other years
                split = set(parts.index.get_level_values("year"))
                for part in ("rh_temperature", "rh_precipitation"):
                    if {start, end} <= split:
                        values = parts[f"{part}_tgc"]
                        change = values.xs(end, level="year") - values.xs(start, level="year")
                        change = change.reindex(codes).to_numpy(dtype="float64") * CO2_PER_C
                    else:
                        change = np.full(len(codes), np.nan)
                    out[f"delta_{part}_tgco2"] = change
        out["note"] = _why_unknown(needed, start, end)
        rows.append(out)
    table = pd.concat(rows, ignore_index=True)
    if names is not None:
        table.insert(1, "name", names.reindex(table["code"]).to_numpy())
    return table


def _lmdi_columns(out: pd.DataFrame, given: dict, currency: str) -> None:
    """The LMDI effects on CE and the factors' values at the start and the end, into ``out``
    (``given``: population, GDP and the extra drivers at the start and the end)."""
    ce0, ce1 = out["ce_start_tgco2"].to_numpy(), out["ce_end_tgco2"].to_numpy()
    extra = {"urban population": "urban", "GDP of industry": "industry"}
    f0, f1 = (
        kaya_factors(
            ce,
            given["population"][i],
            given["GDP"][i],
            **{extra[k]: v[i] for k, v in given.items() if k in extra},
        )
        for i, ce in enumerate((ce0, ce1))
    )
    effects = lmdi(f0, f1)
    for k in f0:
        out[f"{k}_effect_tgco2"] = effects[k]
    for k in f0:
        name, scale = _value_column(k, currency)
        out[f"{k}_start{name}"] = f0[k] * scale
        out[f"{k}_end{name}"] = f1[k] * scale


def _sink_columns(out: pd.DataFrame, at, start: int, end: int) -> None:
    """The attribution of ΔCNC = ΔNPP − ΔRH + ΔRCS − ΔCE (Tg CO2) into ``out``; ``at(year,
    column)`` reads the budget."""
    d = {c: at(end, c) - at(start, c) for c in ("cnc_tgco2", "nep_tgc", "rh_tgc", "rcs_tgc")}
    out["cnc_start_tgco2"] = at(start, "cnc_tgco2")
    out["cnc_end_tgco2"] = at(end, "cnc_tgco2")
    out["delta_cnc_tgco2"] = d["cnc_tgco2"]
    out["delta_npp_tgco2"] = (d["nep_tgc"] + d["rh_tgc"]) * CO2_PER_C
    out["delta_rh_tgco2"] = d["rh_tgc"] * CO2_PER_C
    out["delta_rcs_tgco2"] = d["rcs_tgc"] * CO2_PER_C


def _value_column(factor: str, currency: str) -> tuple[str, float]:
    """The unit suffix of a factor's value columns and the scale to it (CE in Tg CO2 per
    currency unit -> kg CO2 per currency unit)."""
    if factor in ("affluence", "urban_affluence"):
        return f"_{currency}", 1.0
    if factor in ("intensity", "industry_intensity"):
        return f"_kgco2_per_{currency}", 1e9
    return "", 1.0  # persons; shares


def _why_unknown(values: dict[str, tuple[np.ndarray, np.ndarray]], start: int, end: int) -> list:
    """Per region: which values the decomposition lacks (unknown or not positive), or ""."""
    notes = []
    for i in range(len(next(iter(values.values()))[0])):
        missing = [
            f"{name} {year}"
            for name, pair in values.items()
            for year, v in zip((start, end), pair)
            if not np.isfinite(v[i]) or (name != "CE" and v[i] <= 0) or v[i] < 0
        ]
        notes.append(
            f"no decomposition: {', '.join(missing)} unknown or not positive" if missing else ""
        )
    return notes


# The factors of CO2 by fuel: C = Σ_f P · (GDP / P) · (E / GDP) · (E_f / E) · (C_f / E_f)
FUEL_FACTORS = ("population", "affluence", "energy_intensity", "structure", "emission_factor")
# The row of a by-fuel table that holds process (non-energy) CO2, e.g. of cement: a component
# C_proc = P · (GDP / P) · (C_proc / GDP) of its own, whose process-intensity effect is the
# sixth effect (the energy factors are 1 for it, and its factor 1 for the fuels)
PROCESS = "process"
PROCESS_FACTOR = "process_intensity"


def fuel_factors(
    co2: np.ndarray, energy: np.ndarray, population: np.ndarray, gdp: np.ndarray
) -> dict[str, np.ndarray]:
    """The factors of C = Σ_f P · (GDP / P) · (E / GDP) · (E_f / E) · (C_f / E_f) for regions
    (rows) and fuels (columns) of CO2 ``co2`` and energy ``energy`` (the region's E is their
    sum over fuels). A fuel without energy has no emission factor of its own: it is 0 (the
    fuel is absent), and :func:`fuel_effects` gives it the factor of the other year."""
    co2 = np.asarray(co2, dtype="float64")
    energy = np.asarray(energy, dtype="float64")
    total = energy.sum(axis=1, keepdims=True)
    pop = np.asarray(population, dtype="float64")[:, None]
    money = np.asarray(gdp, dtype="float64")[:, None]
    n = co2.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (pop > 0) & (money > 0) & (total > 0)
        return {
            "population": np.repeat(np.where(ok, pop, np.nan), n, axis=1),
            "affluence": np.repeat(np.where(ok, money / pop, np.nan), n, axis=1),
            "energy_intensity": np.repeat(np.where(ok, total / money, np.nan), n, axis=1),
            "structure": np.where(ok, energy / total, np.nan),
            "emission_factor": np.where(energy > 0, co2 / energy, 0.0),
        }


def with_process(
    factors: dict[str, np.ndarray], process: np.ndarray, population: np.ndarray, gdp: np.ndarray
) -> dict[str, np.ndarray]:
    """The fuel factors with process CO2 (Tg CO2 per region) as one more component: population
    and affluence as the fuels', the energy factors 1 and its own process intensity (CO2 per
    GDP); the fuels' process-intensity factor is 1. NaN where population or GDP is not
    positive."""
    process = np.asarray(process, dtype="float64")[:, None]
    pop = np.asarray(population, dtype="float64")[:, None]
    money = np.asarray(gdp, dtype="float64")[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (pop > 0) & (money > 0)
        own = {
            "population": np.where(ok, pop, np.nan),
            "affluence": np.where(ok, money / pop, np.nan),
            PROCESS_FACTOR: np.where(ok, process / money, np.nan),
        }
    one = np.ones_like(process)
    out = {name: np.hstack([f, own.get(name, one)]) for name, f in factors.items()}
    out[PROCESS_FACTOR] = np.hstack([np.ones_like(factors["structure"]), own[PROCESS_FACTOR]])
    return out


def fuel_effects(start: dict[str, np.ndarray], end: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`lmdi` of the fuel factors, where a fuel used in one year only takes the other
    year's emission factor: its appearance (or disappearance) is a change of the energy
    structure, not of its emission factor."""
    ef0, ef1 = start["emission_factor"], end["emission_factor"]
    used0, used1 = start["structure"] > 0, end["structure"] > 0
    start = {**start, "emission_factor": np.where(~used0 & used1, ef1, ef0)}
    end = {**end, "emission_factor": np.where(used0 & ~used1, ef0, ef1)}
    return lmdi(start, end)


def decompose_fuels(
    budget: pd.DataFrame,
    by_fuel: pd.DataFrame,
    gdp_col: str,
    currency: str,
    period: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The additive LMDI-I decomposition of the change of each region's CO2 by fuel (the sum
    over fuels of ``by_fuel``: code, year, fuel, energy_tj, co2_tgco2) into population,
    affluence, energy intensity (energy per GDP), energy structure (fuel shares) and emission
    factor (CO2 per energy of each fuel) effects, over the period and year on year; population
    and GDP from the level's ``budget`` table. Rows of fuel :data:`PROCESS` (CO2 without
    energy) add a process-intensity effect (:func:`with_process`), so the effects sum to the
    change of all the table's CO2. ``period``: the first and last year (default: the
    table's)."""
    years = sorted(int(y) for y in by_fuel["year"].unique())
    if period is not None:
        years = [y for y in years if period[0] <= y <= period[1]]
    if len(years) < 2:
        raise ValueError("a decomposition needs two years or more")
    process = PROCESS in set(by_fuel["fuel"])
    fuels = sorted(set(by_fuel["fuel"]) - {PROCESS})
    codes = sorted(by_fuel["code"].unique())
    cube = by_fuel.pivot_table(
        index=["code", "year"], columns="fuel", values=["energy_tj", "co2_tgco2"], aggfunc="sum"
    )
    social = budget.set_index(["code", "year"])[["population_persons", gdp_col]]
    factors = FUEL_FACTORS + ((PROCESS_FACTOR,) if process else ())
    rows = []
    for start, end, kind in _steps(years):

        def at(year: int) -> tuple[np.ndarray, ...]:
            index = pd.MultiIndex.from_product([codes, [year]])
            c = cube.reindex(index)
            energy = c["energy_tj"].reindex(columns=fuels).fillna(0.0).to_numpy()
            co2 = c["co2_tgco2"].reindex(columns=[*fuels, PROCESS]).fillna(0.0).to_numpy()
            s = social.reindex(index)
            return co2, energy, s["population_persons"].to_numpy(), s[gdp_col].to_numpy()

        def factors_of(co2, energy, pop, gdp):
            f = fuel_factors(co2[:, :-1], energy, pop, gdp)
            return with_process(f, co2[:, -1], pop, gdp) if process else f

        (c0, e0, p0, g0), (c1, e1, p1, g1) = at(start), at(end)
        f0, f1 = factors_of(c0, e0, p0, g0), factors_of(c1, e1, p1, g1)
        effects = fuel_effects(f0, f1)
        out = pd.DataFrame(
            {
                "code": codes,
                "start_year": start,
                "end_year": end,
                "kind": kind,
                "co2_start_tgco2": c0.sum(axis=1),
                "co2_end_tgco2": c1.sum(axis=1),
                "delta_co2_tgco2": c1.sum(axis=1) - c0.sum(axis=1),
                **{f"{k}_effect_tgco2": effects[k] for k in factors},
                "energy_start_tj": e0.sum(axis=1),
                "energy_end_tj": e1.sum(axis=1),
                f"energy_intensity_start_mj_per_{currency}": f0["energy_intensity"][:, 0] * 1e6,
                f"energy_intensity_end_mj_per_{currency}": f1["energy_intensity"][:, 0] * 1e6,
            }
        )
        if process:
            out.insert(7, "process_start_tgco2", c0[:, -1])
            out.insert(8, "process_end_tgco2", c1[:, -1])
        out["note"] = _why_unknown(
            {"population": (p0, p1), "GDP": (g0, g1), "energy": (e0.sum(1), e1.sum(1))},
            start,
            end,
        )
        rows.append(out)
    return pd.concat(rows, ignore_index=True)
