"""What every figure shares: matplotlib on the Agg backend with fonts for region names in any
script, titles in words, and atomic writes that give the same bytes on every run.
"""

from __future__ import annotations

import logging
import os
import re

from carbonbudget.core.io import atomic_output
from carbonbudget.outputs.language import period_phrase, quantity_phrase


def in_words(column: str) -> str:
    """A budget column as an English title says it (:func:`quantity_phrase`)."""
    return quantity_phrase(column).render("en")


def period_words(years, *, mean: bool = True, constant: bool = False) -> str:
    """A period as an English title says it (:func:`.language.period_phrase`)."""
    return period_phrase(years, mean=mean, constant=constant).render("en")


def words(name: str) -> str:
    """A level name as a title says it: 'economic region' for economic_region."""
    return name.replace("_", " ")


# Region names come in any script: Latin text keeps matplotlib's DejaVu Sans and every glyph it
# lacks falls back to Noto Sans CJK (the noto-cjk-sans-otc wheel, OFL-1.1: a font file only; the
# system's fonts are not assumed, and conda-forge has no CJK font package).
FONT_FAMILY = ["DejaVu Sans", "Noto Sans CJK SC"]


def register_fonts() -> None:
    """Latin text in DejaVu Sans, every glyph it lacks (CJK region names) in Noto Sans CJK."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    import matplotlib
    from matplotlib import font_manager

    if not any(f.name == FONT_FAMILY[1] for f in font_manager.fontManager.ttflist):
        # lazy: the CJK font is registered only when a figure is drawn
        import noto_cjk_sans_otc

        font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
    matplotlib.rcParams["font.family"] = FONT_FAMILY


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (imported only by plotting jobs),
    with fonts for every script region names use."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    import matplotlib

    matplotlib.use("Agg")
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    import matplotlib.pyplot as plt

    register_fonts()
    # the CJK fallback font has no bold face: matplotlib says so for every bold label (the
    # north arrow's N) on the terminal of every plotting job, and draws it in regular weight
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return plt


def warm_up() -> None:
    """Import pyplot and draw a small figure with the map fonts (Latin and CJK) into memory:
    what every plotting job pays on its first figure (~1 s), paid once by a process that forks
    the jobs (pipeline.jobserver)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title("CO₂ −1 山东省", fontweight="bold")
    ax.text(0.5, 0.5, "t CO₂ km⁻² 河南")
    fig.canvas.draw()
    plt.close(fig)


def plot_geometries(data, ax, **style):
    """``data.plot(ax=ax, **style)`` for a GeoSeries or GeoDataFrame, without drawing the
    figure: geopandas asks the canvas for a redraw after each layer it plots, and the Agg canvas,
    having no event loop to defer it to, draws the whole figure at once — most of a map's time
    went to drawing it once per layer. A figure here is drawn once, when it is saved."""
    canvas = ax.figure.canvas
    canvas.draw_idle = _no_redraw  # an attribute of this canvas only, over its class's method
    try:
        return data.plot(ax=ax, **style)
    finally:
        del canvas.draw_idle


def _no_redraw(*args, **kwargs) -> None:
    """A redraw request that waits for the figure to be saved."""


# vector formats carry no timestamp and a fixed id salt, so a rerun writes the same bytes
_NO_STAMP = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


# the typesetting of every label of a figure: CO₂ with its subscript, a true minus sign before a
# number (a hyphen is shorter and reads as a dash); not inside matplotlib's $math$
_CO2 = re.compile(r"CO2(?!\d)")
_MINUS = re.compile(r"(?<![\w.)\]])-(?=\.?\d)")


def typeset(text: str) -> str:
    """A label as it is printed: "CO2" -> "CO₂", "-0.5" -> "−0.5" (hyphens inside words,
    codes and year ranges stay)."""
    if "$" in text:
        return text
    return _MINUS.sub("−", _CO2.sub("CO₂", text))


def typeset_figure(fig) -> None:
    """Every text of the figure (titles, legends, labels, notes) typeset by :func:`typeset`."""
    # lazy: matplotlib costs about a second of start-up; only plotting jobs draw
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    def texts(artist):
        """The Text artists of ``artist`` and its children, as ``findobj(Text)`` finds them,
        but not an axis's tick labels: an axis's children are its ticks, which asking for them
        creates (~20 ms a figure), and a tick label takes its text from the axis's formatter when
        the figure is drawn, after any typesetting here (matplotlib sets its minus sign itself)."""
        if isinstance(artist, Axis):
            yield artist.label
            yield artist.offsetText
            return
        if isinstance(artist, Text):
            yield artist
        for child in artist.get_children():
            yield from texts(child)

    for artist in texts(fig):
        text = artist.get_text()
        if text:
            new = typeset(text)
            if new != text:
                artist.set_text(new)


def save_figure(fig, path: str, dpi: int = 100, tight_layout: bool = True) -> str:
    """Tight layout (charts; a map's legend beside it is kept by cropping to the drawn
    content instead), every label typeset (:func:`typeset`), write the figure atomically in
    the format of ``path``'s extension (PNG, SVG or PDF; same bytes every run), close."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    plt = pyplot()
    typeset_figure(fig)
    if tight_layout:
        fig.tight_layout()
    with atomic_output(path) as tmp, plt.rc_context({"svg.hashsalt": "carbonbudget"}):
        fig.savefig(
            tmp,
            dpi=dpi,
            format=fmt,
            metadata=_NO_STAMP[fmt],
            bbox_inches="tight",  # keeps a legend beside the map, drops empty margins
            pad_inches=0.15,
        )
    plt.close(fig)
    return path
