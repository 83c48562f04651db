"""Emission model and driver scenarios to 2060 (docs/method.md, "Scenarios"; Zhang et al.
2022, §2.2.4).

The back-propagation network of Zhang et al. (2022): CE from seven drivers, one hidden layer of
four ReLU units,
a linear output (scikit-learn ``MLPRegressor``), inputs standardised on the training years, an
ensemble over fixed seeds (the mean is the forecast, the spread is reported). Its skill is
measured on held-out years (the last ``holdout`` years: a forecast, not an interpolation) with R²
and relative errors, then the ensemble is refitted on every year for the projection. With fewer
usable years than inputs the network is not identified and fitting is refused.

Scenarios give annual growth rates of each driver per period; drivers grow from their last
observed value, the ensemble turns them into CE per year, and the peak year is the year of the
largest CE (``None`` when CE still rises in the last year: no peak within the horizon).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carbonbudget.core.config import schema_default
from carbonbudget.core.errors import InputDataError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

DRIVERS = (
    "population",
    "urbanisation_rate",
    "gdp",
    "secondary_share",
    "energy_intensity",
    "energy_use",
    "energy_structure",
)
DEFAULT_SEEDS = tuple(range(schema_default("scenarios", "n_seeds")))


class InsufficientDataError(InputDataError):
    """Too few usable years to fit the emission model."""


@dataclass
class EmissionModel:
    """A fitted ensemble of networks: standardisation, members, skill (``metrics``)."""

    drivers: tuple[str, ...]
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float
    members: list = field(repr=False)
    metrics: dict = field(default_factory=dict)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """CE (Tg CO2) per row of ``frame`` (columns = drivers): ensemble mean, min and max."""
        x = (frame[list(self.drivers)].to_numpy(dtype="float64") - self.x_mean) / self.x_std
        pred = np.stack([m.predict(x) for m in self.members]) * self.y_std + self.y_mean
        return pd.DataFrame(
            {
                "ce_tgco2": pred.mean(axis=0),
                "ce_tgco2_min": pred.min(axis=0),
                "ce_tgco2_max": pred.max(axis=0),
            },
            index=frame.index,
        )


def _fit_members(x, y, seeds, max_iter):
    # scikit-learn's MLPRegressor is the network the design names; lbfgs suits ~20 samples
    # lazy: scikit-learn costs seconds of start-up; only the scenario job fits the model
    from sklearn.neural_network import MLPRegressor

    members = []
    for seed in seeds:
        m = MLPRegressor(
            hidden_layer_sizes=(4,),
            activation="relu",
            solver="lbfgs",
            alpha=1e-4,
            max_iter=max_iter,
            random_state=seed,
        )
        m.fit(x, y)
        members.append(m)
    return members


def _standardise(x):
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def fit_emission_model(
    history: pd.DataFrame,
    *,
    drivers: Sequence[str] = DRIVERS,
    holdout: int = schema_default("scenarios", "holdout"),
    seeds: Sequence[int] = DEFAULT_SEEDS,
    max_iter: int = 5000,
    label: str = "",
) -> EmissionModel:
    """Fit the ensemble on ``history`` (columns year, ce_tgco2 and the drivers).

    Years with a missing driver or CE are not usable. The last ``holdout`` usable years are held
    out for ``metrics`` (r2_holdout, rel_error per year, mean_abs_rel_error), then the members
    are refitted on every usable year."""
    # lazy: scikit-learn costs seconds of start-up; only the scenario job fits the model
    from sklearn.metrics import r2_score

    drivers = tuple(drivers)
    missing = [c for c in ("year", "ce_tgco2", *drivers) if c not in history.columns]
    if missing:
        raise InputDataError(
            f"{label} driver table lacks columns {missing}",
            variable="scenarios.drivers",
            fix=f"give year, ce_tgco2 and {drivers}",
        )
    h = history.sort_values("year")
    usable = h.dropna(subset=["ce_tgco2", *drivers])
    n_in = len(drivers)
    if len(usable) - holdout <= n_in:
        raise InsufficientDataError(
            f"{label}: {len(usable)} usable years ({len(usable) - holdout} for training after "
            f"{holdout} held out) for {n_in} inputs: the network cannot be fitted",
            variable="scenarios.drivers",
            fix=f"give at least {n_in + holdout + 1} years with every driver and CE, use fewer "
            "drivers, or fit a larger region (e.g. national instead of one province)",
        )
    x_all = usable[list(drivers)].to_numpy(dtype="float64")
    y_all = usable["ce_tgco2"].to_numpy(dtype="float64")
    train = slice(0, len(usable) - holdout)
    test = slice(len(usable) - holdout, len(usable))

    def fit(x, y):
        xm, xs = _standardise(x)
        ym, ys = float(y.mean()), float(y.std()) or 1.0
        members = _fit_members((x - xm) / xs, (y - ym) / ys, seeds, max_iter)
        return EmissionModel(drivers, xm, xs, ym, ys, members)

    trial = fit(x_all[train], y_all[train])
    metrics = {
        "n_years": len(usable),
        "n_train": len(usable) - holdout,
        "holdout": holdout,
        "seeds": list(seeds),
    }
    if holdout:
        pred = trial.predict(usable.iloc[test])["ce_tgco2"].to_numpy()
        obs = y_all[test]
        rel = (pred - obs) / obs
        metrics.update(
            {
                "r2_holdout": float(r2_score(obs, pred)) if holdout > 1 else float("nan"),
                "holdout_years": usable["year"].iloc[test].astype(int).tolist(),
                "rel_error": rel.tolist(),
                "mean_abs_rel_error": float(np.mean(np.abs(rel))),
            }
        )
    model = fit(x_all, y_all)
    model.metrics = metrics
    return model


def project_drivers(
    last: pd.Series,
    growth: pd.DataFrame,
    *,
    start_year: int,
    end_year: int = schema_default("scenarios", "horizon"),
) -> pd.DataFrame:
    """Drivers per year from ``start_year`` + 1 to ``end_year``: each grows from its value in
    ``last`` (the last observed year, ``start_year``) by the annual rate of the period the year
    falls in. ``growth``: columns driver, start_year, end_year (inclusive), rate (fraction per
    year, e.g. 0.05). A driver or year without a rate is an error (no silent zero growth)."""
    years = np.arange(start_year + 1, end_year + 1)
    out = pd.DataFrame({"year": years})
    for driver, value in last.items():
        g = growth[growth["driver"] == driver]
        rates = np.full(len(years), np.nan)
        for _, row in g.iterrows():
            sel = (years >= row["start_year"]) & (years <= row["end_year"])
            rates[sel] = row["rate"]
        if np.isnan(rates).any():
            gap = years[np.isnan(rates)]
            raise InputDataError(
                f"no growth rate for driver '{driver}' in years {gap.min()}-{gap.max()}",
                variable="scenarios.growth",
                fix="give a rate for every driver and every year to the horizon",
            )
        out[driver] = float(value) * np.cumprod(1.0 + rates)
    return out


def peak_year(years: ArrayLike, values: ArrayLike) -> int | None:
    """The year of the largest value; None if the series still rises at its last year (no
    peak within the horizon) or is empty. Ties: the first year of the maximum."""
    v = np.asarray(values, dtype="float64")
    y = np.asarray(years)
    if v.size == 0 or not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    if i == v.size - 1 and v.size > 1 and v[-1] > v[-2]:
        return None
    return int(y[i])


SCENARIO_COLUMNS = [
    "scenario",
    "region",
    "year",
    "ce_tgco2",
    "ce_tgco2_min",
    "ce_tgco2_max",
    "ecs_tgco2",
    "ecs_source",
    "cnc_tgco2",
    "ecs_ce_ratio",
]


def scenario_ecs(observed: pd.Series, raster_years: dict[int, float], horizon: int) -> pd.DataFrame:
    """ECS per year from the last observed year to ``horizon``: observed values, the values of
    the scenario raster years, and linear interpolation between them (``ecs_source`` says
    which). Years after the last raster year stay NaN: no extrapolation."""
    last = int(observed.index.max())
    known = {last: float(observed.loc[last])} | {int(y): float(v) for y, v in raster_years.items()}
    xs = np.array(sorted(known))
    ys = np.array([known[x] for x in xs])
    years = np.arange(last + 1, horizon + 1)
    val = np.where(years <= xs.max(), np.interp(years, xs, ys), np.nan)
    src = np.where(
        np.isin(years, xs), "scenario_raster", np.where(years <= xs.max(), "interpolated", "none")
    )
    return pd.DataFrame({"year": years, "ecs_tgco2": val, "ecs_source": src})
