"""Classed choropleth maps: classes from the data (mapclassify), diverging maps split at their
centre, densities rather than totals, the legend beside the map."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from carbonbudget import classify, plots
from carbonbudget.outputs import add_flux_densities


def test_diverging_classes_meet_at_the_centre():
    v = np.array([0.2, 0.5, 0.9, 1.1, 1.5, 3.0, 8.0, np.nan])
    cls = classify.classes(v, "quantiles", 4, centre=1.0)
    assert cls[0][0] == 0.2 and cls[-1][1] == 8.0
    assert (1.0 in [hi for _, hi in cls]) and (1.0 in [lo for lo, _ in cls])
    assert all(lo <= hi for lo, hi in cls)
    assert not any(lo < 1.0 < hi for lo, hi in cls)  # no class straddles the centre


def test_schemes_follow_the_data():
    clusters = (
        np.r_[np.full(10, 1.0), np.full(10, 50.0), np.full(10, 1000.0)] + np.arange(30) * 1e-3
    )
    natural = classify.breaks(clusters, "natural_breaks", 3)
    assert natural[0] < 2 and 49 < natural[1] < 51 and natural[2] == clusters.max()
    equal = classify.breaks(np.array([0.0, 10.0]), "equal_interval", 2)
    assert equal == [5.0, 10.0]
    skewed = np.r_[np.arange(1.0, 41.0), 41_000.0]
    q = classify.classes(skewed, "quantiles", 5)
    counts = [((skewed >= lo) & (skewed <= hi)).sum() for lo, hi in q]
    assert max(counts) <= 10  # equal intervals would put 40 of 41 in one class
    with pytest.raises(ValueError, match="unknown classification scheme"):
        classify.breaks(skewed, "jenks", 3)


def test_flux_densities_are_totals_per_km2():
    b = pd.DataFrame({"ce_tgco2": [2.0], "ecs_tgco2": [0.5], "area_km2": [1000.0]})
    d = add_flux_densities(b)
    assert d["ce_flux_tco2_km2"].iloc[0] == 2000.0  # 2 Tg = 2e6 t over 1,000 km2
    assert d["ecs_flux_tco2_km2"].iloc[0] == 500.0 and "rcs_flux_tco2_km2" not in d
    assert "ce_flux_tco2_km2" not in b  # the input is left as it was


def test_legend_sits_beside_the_map_with_class_counts(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(
        plots, "_save_map", lambda fig, ax, gdf, title, path: seen.update(fig=fig, ax=ax)
    )
    gdf = gpd.GeoDataFrame(
        {"v": [-5.0, -1.0, 2.0, 4.0, np.nan, np.inf]},
        geometry=[box(i, 0, i + 1, 1) for i in range(6)],
        crs="EPSG:3857",
    )
    plots.classed_map(gdf, "v", "RdBu", 0.0, "t", "t CO2 km⁻² yr⁻¹", str(tmp_path / "m.png"), k=4)
    fig, ax = seen["fig"], seen["ax"]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert legend.get_title().get_text() == "t CO2 km⁻² yr⁻¹"
    # two values a side, two quantile classes each: split at the medians -3 and 3, meeting at 0
    assert labels[:4] == ["3 to 4  (1)", "0 to 3  (1)", "-3 to 0  (1)", "-5 to -3  (1)"]
    assert labels[4].startswith("+inf") and labels[5] == "no value (1)"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    plots._pyplot().close(fig)
