"""Classed choropleth maps: classes from the data (mapclassify), diverging maps split at their
centre, densities rather than totals, the legend beside the map."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from carbonbudget.outputs import classify
from carbonbudget.outputs import maps as plots
from carbonbudget.outputs.tables import add_flux_densities


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
        plots, "save_map", lambda fig, ax, gdf, title, path, *_: seen.update(fig=fig, ax=ax)
    )
    gdf = gpd.GeoDataFrame(
        {"v": [-5.0, -1.0, 2.0, 4.0, np.nan, np.inf]},
        geometry=[box(i, 0, i + 1, 1) for i in range(6)],
        crs="EPSG:3857",
    )
    plots.classed_map(
        gdf, "v", plots.Classes("RdBu", 0.0, k=4), "t", "t CO2 km⁻² yr⁻¹", str(tmp_path / "m.png")
    )
    fig, ax = seen["fig"], seen["ax"]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert legend.get_title().get_text() == "t CO2 km⁻² yr⁻¹"
    # two values a side, two quantile classes each: split at the medians -3 and 3, meeting at 0
    # a value on a shared bound is in the lower class: the upper one says "> bound"
    assert labels[:4] == ["> 3 to 4  (1)", "> 0 to 3  (1)", "> −3 to 0  (1)", "−5 to −3  (1)"]
    assert labels[4].startswith("+inf") and labels[5] == "no value (1)"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    plots.pyplot().close(fig)


def test_a_value_resting_on_part_of_the_area_keeps_its_colour_under_a_hatch(monkeypatch, tmp_path):
    """Regions whose sink is known on too little of the area are drawn grey (no value); those
    known on enough of it for a value but not all (a cut by another input's gap) keep their
    class colour, cross-hatched, with a legend entry counting them."""
    seen = {}
    monkeypatch.setattr(
        plots, "save_map", lambda fig, ax, gdf, title, path, *_: seen.update(fig=fig, ax=ax)
    )
    gdf = gpd.GeoDataFrame(
        {"v": [1.0, 2.0, 3.0, 4.0]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:3857",
    )
    plots.classed_map(
        gdf,
        "v",
        plots.Classes("viridis", None, k=2),
        "t",
        "u",
        str(tmp_path / "m.png"),
        incomplete=([True, False, False, False], "sink known on < 50 % of the area"),
        part_known=[
            ([True, True, False, False], "sink known on 50–95 % of the area"),
            ([False, True, True, False], "CE known on < 95 % of the area"),
        ],
    )
    ax = seen["ax"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "sink known on < 50 % of the area (1)" in labels
    # the grey one is not counted
    assert labels[-2:] == [
        "sink known on 50–95 % of the area (1)",
        "CE known on < 95 % of the area (2)",
    ]
    for hatch, regions in (("xxx", 1), ("\\\\\\", 2)):
        hatched = [c for c in ax.collections if c.get_hatch() == hatch]
        assert len(hatched) == 1 and len(hatched[0].get_paths()) == regions
        face = hatched[0].get_facecolor()  # none: the class colour shows through
        assert len(face) == 0 or face[0][3] == 0
    plots.pyplot().close(seen["fig"])


def _squares() -> gpd.GeoDataFrame:
    """A 'mainland' of eight 1° x 4° strips north of the equator and two 'islands' 5° south
    of it, values 1..10."""
    return gpd.GeoDataFrame(
        {"v": np.arange(1.0, 11.0)},
        geometry=[box(i, 0, i + 1, 4) for i in range(8)] + [box(6, -5, 7, -4), box(8, -6, 9, -5)],
        crs="EPSG:4326",
    )


def test_extent_and_inset_frame_the_map(monkeypatch, tmp_path):
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    seen = {}
    real = plots.add_inset
    monkeypatch.setattr(
        plots, "add_inset", lambda ax, *a: seen.update(ax=ax, inset=real(ax, *a)) or seen["inset"]
    )
    frame = plots.MapFrame.from_config(
        {
            "extent_lonlat": [0, -1, 8, 5],
            "inset": {"extent_lonlat": [5, -7, 10, -3], "location": "lower right", "size": 0.2},
        }
    )
    gdf = _squares()
    plots.classed_map(
        gdf, "v", plots.Classes("Greens", k=3), "t", "u", str(tmp_path / "m.png"), frame=frame
    )
    ax, inset = seen["ax"], seen["inset"]
    fig = ax.figure
    FigureCanvasAgg(fig).draw()  # the figure was closed after saving: a canvas to measure on
    # each frame holds the regions' parts inside its box, 2 % margin (not the empty box); the
    # map is widened to the right so that the inset covers no region
    x0, x1 = ax.get_xlim()
    assert x0 == pytest.approx(-0.16) and x1 > 8.16
    assert ax.get_ylim() == pytest.approx((-0.08, 4.08))
    assert inset.get_xlim() == pytest.approx((5.94, 9.06))
    assert inset.get_ylim() == pytest.approx((-6.04, -3.96))
    # the islands are drawn again in the inset, with the main map's classes
    assert len(inset.collections) == len(ax.collections) > 0
    # in the lower right corner, 0.2 of the map's width, in the proportions of its box
    r = fig.canvas.get_renderer()
    a, i = ax.get_window_extent(r), inset.get_window_extent(r)
    assert (i.x1, i.y0) == pytest.approx((a.x1, a.y0), abs=1.0)
    assert i.width == pytest.approx(0.2 * a.width, rel=1e-3)
    assert i.width / i.height == pytest.approx(3.12 / 2.08, rel=1e-3)
    (ix0, iy0), (ix1, iy1) = ax.transData.inverted().transform([[i.x0, i.y0], [i.x1, i.y1]])
    assert not gdf.intersects(shapely.box(ix0, iy0, ix1, iy1)).any()
    plots.pyplot().close(fig)


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_map_formats_are_written_the_same_every_time(tmp_path, fmt):
    paths = []
    for run in ("a", "b"):
        path = str(tmp_path / f"{run}.{fmt}")
        plots.categorical_map(
            _squares().assign(c=["x"] * 5 + ["y"] * 5), "c", {"x": "red", "y": "blue"}, "t", path
        )
        paths.append(path)
    first, second = (open(p, "rb").read() for p in paths)
    assert first == second
    magic = {"svg": b"<?xml", "pdf": b"%PDF", "png": b"\x89PNG"}[fmt]
    assert first.startswith(magic)


def test_png_resolution_follows_dpi(tmp_path):
    from PIL import Image

    sizes = []
    for dpi in (100, 200):
        path = tmp_path / f"m{dpi}.png"
        plots.classed_map(
            _squares(),
            "v",
            plots.Classes("Greens", k=3),
            "t",
            "u",
            str(path),
            frame=plots.MapFrame(dpi=dpi),
        )
        sizes.append(Image.open(path).size)
    assert sizes[1][0] == pytest.approx(2 * sizes[0][0], rel=0.02)


@pytest.mark.parametrize(
    "maps",
    [
        {"extent_lonlat": [10, 0, 5, 1]},
        {"inset": {"extent_lonlat": [0, 10, 1, 5]}},
        {"extent_lonlat": [0, 0, 200, 1]},
    ],
)
def test_a_swapped_or_impossible_map_box_is_a_config_error(maps):
    import yaml

    from carbonbudget.core.config import validate_config
    from carbonbudget.core.errors import ConfigError

    cfg = yaml.safe_load(open("config/config.yaml"))
    cfg["outputs"]["maps"] = maps
    with pytest.raises(ConfigError, match="west, south, east, north"):
        validate_config(cfg)


def test_the_period_cer_is_the_periods_ratio_and_says_what_one_means():
    """One year with ECS ≤ 0 (CER +inf) does not make the period +inf when the period's sink
    is positive: CER of the period = its CE / its ECS × mean Cv; a region without a CER one
    year has none; the title's note says where a region is at CE = ECS when Cv varies."""
    from carbonbudget.outputs.maps import cer_note
    from carbonbudget.outputs.tables import period_cer, period_means

    budget = pd.DataFrame(
        {
            "code": ["a", "a", "b", "b", "c", "c"],
            "year": [2001, 2002] * 3,
            "ce_tgco2": [2.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            "ecs_tgco2": [4.0, -1.0, 2.0, 2.0, 1.0, 1.0],
            "cv": [1.0, 1.0, 0.5, 1.5, 1.0, 1.0],
            "cer": [0.5, np.inf, 0.25, 0.75, 1.0, np.nan],
        }
    )
    cer = period_cer(budget)
    assert cer["a"] == pytest.approx(4.0 / 3.0)  # the mean of the yearly CER is +inf
    assert cer["b"] == pytest.approx(2.0 / 4.0 * 1.0)
    assert np.isnan(cer["c"])
    assert period_means(budget, ["cer"])["cer"].equals(cer)
    sunk = budget.assign(ecs_tgco2=[1.0, -1.0, 2.0, 2.0, 1.0, 1.0])
    assert period_cer(sunk)["a"] == np.inf  # the period's ECS is 0: the ECS ≤ 0 rule
    assert "Cv 0.50–1.50: CE = ECS where CER = Cv, not at 1" in cer_note(budget).render("en")
    assert "with Cv = 1: CE = ECS at 1" in cer_note(budget.assign(cv=1.0)).render("en")


def test_the_inf_swatch_shares_no_colour_with_a_class(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(
        plots, "save_map", lambda fig, ax, gdf, title, path, *_: seen.update(fig=fig, ax=ax)
    )
    gdf = gpd.GeoDataFrame(
        {"v": [0.2, 0.9, 1.5, 3.0, np.inf]},
        geometry=[box(i, 0, i + 1, 1) for i in range(5)],
        crs="EPSG:3857",
    )
    plots.classed_map(gdf, "v", plots.Classes("RdBu_r", 1.0, k=4), "t", "ratio", "m.png")
    legend = seen["ax"].get_legend()
    faces = [tuple(h.get_facecolor()) for h in legend.legend_handles]
    labels = [t.get_text() for t in legend.get_texts()]
    inf = labels.index("+inf: ECS ≤ 0 (1)")
    assert faces[inf] not in faces[:inf] + faces[inf + 1 :]
    plots.pyplot().close(seen["fig"])


def _capture_figure(monkeypatch, module=plots):
    seen = {}
    monkeypatch.setattr(module, "save_figure", lambda fig, path, **kw: seen.update(fig=fig))
    return seen


def test_the_overlay_source_and_review_number_are_on_every_map(monkeypatch, tmp_path):
    """outputs.maps.overlay (the user's official boundary and South China Sea line) is drawn
    over the map and again in its inset, in its colour; the source line and the review number
    (审图号) sit under the map; the overlay does not widen the map to its own extent."""
    from matplotlib.collections import LineCollection
    from shapely.geometry import LineString

    line = gpd.GeoDataFrame(
        geometry=[LineString([(0.2, 0.5), (7.5, 0.5)]), LineString([(6.5, -4.5), (8.5, -20.0)])],
        crs="EPSG:4326",
    )
    line.to_file(tmp_path / "official.gpkg", engine="pyogrio")
    maps = {
        "overlay": {"path": str(tmp_path / "official.gpkg"), "colour": "#ff00ff", "width": 1.5},
        "source": "Data: CEADs; boundaries: the user's standard map",
        "review_number": "GS(2024)1234",
        "inset": {"extent_lonlat": [5.5, -7.0, 9.5, -3.5]},
        "extent_lonlat": [0.0, 0.0, 8.0, 4.0],
    }
    seen = _capture_figure(monkeypatch)
    gdf = _squares().to_crs("ESRI:102025")
    plots.categorical_map(
        gdf.assign(c=["a", "b"] * 5),
        "c",
        {"a": "#2166ac", "b": "#b2182b"},
        "t",
        str(tmp_path / "m.png"),
        frame=plots.MapFrame.from_config(maps),
    )
    fig = seen["fig"]
    main, inset = fig.axes[0], fig.axes[0].child_axes[0]
    for ax in (main, inset):
        magenta = [
            c
            for c in ax.collections
            if isinstance(c, LineCollection)
            and len(c.get_colors())
            and tuple(c.get_colors()[0][:3]) == (1.0, 0.0, 1.0)
        ]
        assert magenta and magenta[0].get_linewidths()[0] == 1.5, ax
    texts = [t.get_text() for t in main.texts]
    assert maps["source"] in texts and maps["review_number"] in texts
    y0, y1 = main.get_ylim()
    south = line.to_crs(gdf.crs).total_bounds[1]
    assert y0 > south  # the line's far end lies outside the frame: not followed
    plots.pyplot().close(fig)


@pytest.mark.parametrize("case", ["missing", "no crs"])
def test_an_overlay_that_cannot_be_drawn_is_an_error_naming_it(tmp_path, case):
    from carbonbudget.core.errors import InputDataError

    path = tmp_path / "overlay.geojson"  # missing
    if case == "no crs":  # GeoJSON is read as WGS84: a CSV of WKT has no CRS
        path = tmp_path / "overlay.csv"
        path.write_text('WKT,id\n"LINESTRING (1 2, 3 4)",1\n')
    frame = plots.MapFrame.from_config({"overlay": {"path": str(path)}})
    plots._read_overlay.cache_clear()
    with pytest.raises(InputDataError) as exc:
        plots.overlay_layer(frame, _squares().crs)
    text = str(exc.value)
    assert "outputs.maps.overlay.path" in text and path.name in text
    assert ("no CRS" in text) == (case == "no crs")


def test_the_quick_looks_take_the_maps_frame_and_inset(small_grid, tmp_path, monkeypatch):
    from helpers import write_raster
    from matplotlib.image import AxesImage

    from carbonbudget.outputs import report

    data = np.linspace(-5, 5, small_grid.width * small_grid.height).reshape(small_grid.shape)
    tif = write_raster(tmp_path / "ecs.tif", data, small_grid)
    outlines = gpd.GeoDataFrame(
        geometry=[box(0, 0, 2500, 4000), box(2500, 0, 5000, 4000)], crs=small_grid.crs
    )
    lon0, lat0, lon1, lat1 = outlines.to_crs("EPSG:4326").total_bounds
    frame = plots.MapFrame.from_config(
        {"inset": {"extent_lonlat": [lon0, lat0, (lon0 + lon1) / 2, (lat0 + lat1) / 2]}}
    )
    seen = _capture_figure(monkeypatch)
    report.pixel_quicklook(
        tif,
        boundaries=outlines,
        title="ECS",
        label="g C",
        diverging=True,
        path=str(tmp_path / "q.png"),
        frame=frame,
    )
    inset = seen["fig"].axes[0].child_axes[0]
    assert any(isinstance(a, AxesImage) for a in inset.get_children())
    plots.pyplot().close(seen["fig"])


def test_every_label_of_a_figure_is_typeset(tmp_path):
    """CO₂ with its subscript and a true minus sign before numbers in every title, legend,
    label and note of a saved figure; hyphens in words, codes and year ranges stay."""
    from carbonbudget.outputs.figures import pyplot, save_figure

    fig, ax = pyplot().subplots()
    ax.set_title("CE (Tg CO2 yr⁻¹), 2001-2010, limits -0.05 and -0.1")
    ax.plot([0, 1], [0, 1], label="code 320300-1: -3 to 0")
    ax.legend()
    ax.set_ylabel("t CO2 km⁻²")
    note = ax.text(0, 0, "ECS − CE, anti-cyclone; $-x$")
    save_figure(fig, str(tmp_path / "f.png"))
    assert ax.get_title() == "CE (Tg CO₂ yr⁻¹), 2001-2010, limits −0.05 and −0.1"
    assert ax.get_legend().get_texts()[0].get_text() == "code 320300-1: −3 to 0"
    assert ax.get_ylabel() == "t CO₂ km⁻²"
    assert note.get_text() == "ECS − CE, anti-cyclone; $-x$"  # math text is left to mathtext


def test_region_names_are_written_without_covering_each_other(monkeypatch, tmp_path):
    """Names on a map of few regions (outputs.maps.label_max), larger regions first; a name
    that would overlap one already written is left out; none on a level with more regions."""
    seen = _capture_figure(monkeypatch)
    gdf = _squares().to_crs("ESRI:102025")
    gdf["province_name"] = [f"Province number {i} of a long name (part: 2 of 5)" for i in range(10)]
    plots.categorical_map(
        gdf.assign(c="a"), "c", {"a": "#2166ac"}, "t", str(tmp_path / "m.png"), frame=None
    )
    fig = seen["fig"]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().startswith("Province number")]
    assert 0 < len(labels) < 10  # the strips are too narrow for every long name
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all("\n(part: 2 of 5)" in t.get_text() for t in labels)
    plots.pyplot().close(fig)
    few = plots.MapFrame.from_config({"label_max": 5})
    plots.categorical_map(
        gdf.assign(c="a"), "c", {"a": "#2166ac"}, "t", str(tmp_path / "m.png"), frame=few
    )
    assert not [t for t in seen["fig"].axes[0].texts if t.get_text().startswith("Province")]
    plots.pyplot().close(seen["fig"])


def test_a_map_is_titled_a_climatology_only_when_no_value_changes():
    """RCS from a runoff climatology is the same every year; CER with +inf in one year (ECS <=
    0) is not (Huaihai's CER map was titled 'each year alike'); one year is that year."""
    budget = pd.DataFrame(
        {
            "code": ["a", "a", "b", "b"],
            "year": [2001, 2002, 2001, 2002],
            "area_km2": [10.0] * 4,
            "rcs_tgco2": [1.0, 1.0, 2.0, 2.0],
            "cer": [np.inf, np.inf, 3.0, 3.0],
        }
    )

    def period(values, column, mean=True):
        return plots.map_period(values, column, mean).render("en")

    assert period(budget, "rcs_tgco2") == "each year 2001–2002 alike (from climatologies)"
    assert period(budget, "cer", mean=False) == "each year 2001–2002 alike (from climatologies)"
    budget.loc[0, "cer"] = 5.0
    assert period(budget, "cer", mean=False) == "2001–2002"
    budget.loc[0, "cer"] = np.inf
    budget.loc[2, "cer"] = 3.5
    assert period(budget, "cer") == "mean 2001–2002"
    assert period(budget[budget["year"] == 2002], "cer") == "2002"


@pytest.mark.parametrize("scheme", ["quantiles", "equal_interval"])
def test_our_class_breaks_are_mapclassify_s_bit_for_bit(scheme):
    """Quantiles and equal intervals restated in numpy (mapclassify's import costs seconds in
    every map job) give mapclassify's bins exactly: skewed, tied, negative and tiny samples,
    every k from 2 to 9."""
    import mapclassify

    rng = np.random.default_rng(12)
    samples = [
        rng.lognormal(0, 2, 2800),  # China's county CE: four orders of magnitude
        rng.normal(-3, 1, 36),
        np.round(rng.uniform(0, 5, 200)),  # ties
        np.array([1.0, 2.0, 2.0, 3.0]),
        rng.uniform(0, 1e-6, 17),
    ]
    reference = {"quantiles": mapclassify.Quantiles, "equal_interval": mapclassify.EqualInterval}
    for v in samples:
        for k in range(2, 10):
            k_used = int(min(k, len(np.unique(v))))
            expected = sorted({float(b) for b in reference[scheme](v, k=k_used).bins})
            assert classify.breaks(v, scheme, k) == expected, (scheme, k, v[:5])


def test_a_layer_is_plotted_without_drawing_the_figure():
    """geopandas draws the whole figure after each layer it plots (the Agg canvas has no event
    loop to defer a redraw to); a map's layers are plotted without it and the figure is drawn
    once, when it is saved."""
    import io

    from carbonbudget.outputs.figures import plot_geometries, pyplot

    plt = pyplot()
    fig, ax = plt.subplots()
    draws = []
    fig.canvas.mpl_connect("draw_event", draws.append)
    layer = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    layer.plot(ax=ax)
    assert len(draws) == 1  # geopandas' own call drew the figure
    plot_geometries(layer, ax, color="red")
    plot_geometries(layer.boundary, ax, color="black")
    assert len(draws) == 1
    assert "draw_idle" not in vars(fig.canvas)  # the canvas redraws on request again
    assert len(ax.collections) == 3
    fig.savefig(io.BytesIO(), format="png")
    assert len(draws) == 2
    plt.close(fig)


def test_labels_are_measured_where_the_drawn_map_puts_them():
    """An equal aspect shrinks the axes box when the figure is drawn: labels are placed by
    their extents in that box, so in the saved map none overlaps another or leaves the frame."""
    import shapely
    from helpers import AEA

    from carbonbudget.outputs.figures import plot_geometries, pyplot

    plt = pyplot()
    cells = [
        shapely.box(x, y, x + 1000, y + 1000)
        for y in range(0, 8000, 1000)
        for x in range(0, 4000, 1000)
    ]
    gdf = gpd.GeoDataFrame(
        {"county_name": [f"region {i:02d}" for i in range(len(cells))]}, geometry=cells, crs=AEA
    )
    fig, ax = plt.subplots(figsize=(8, 4))  # wide axes for a tall map: the box shrinks sideways
    plot_geometries(gdf, ax, color="#dddddd", edgecolor="grey")
    ax.set_aspect("equal")
    placed = plots.label_regions(fig, ax, gdf)
    fig.canvas.draw()
    frame = ax.get_window_extent()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert 0 < len(placed) == len(boxes) < len(cells)  # some left out: they would overlap
    for i, b in enumerate(boxes):
        assert frame.x0 - 0.5 <= b.x0 and b.x1 <= frame.x1 + 0.5
        assert not any(b.overlaps(c) for c in boxes[i + 1 :])
    plt.close(fig)
