"""Journal figure style, in one place: sizes (Nature's 89 mm single and 183 mm double column), fonts
of at least 7 pt at that size, panel letters, legends set below their panel, and a check that
nothing overlaps (:func:`layout_problems`, used by the tests on every figure pcstats draws).

Every figure function of :mod:`pcstats.plots` (and of the reproduction's sections) is wrapped in
:func:`journal`, makes its figure with :func:`journal_figure` and ends in :func:`finish`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["MIN_FONT_PT", "WIDTHS_MM", "finish", "journal", "journal_figure", "journal_style", "layout_problems",
           "legend_below", "panel_letters"]

#: Figure widths (mm) of a journal page: Nature's single and double column (1.5 column: 120 mm).
WIDTHS_MM = {"single": 89.0, "onehalf": 120.0, "double": 183.0}
#: The smallest font a figure may use at its printed size (Nature: 5-7 pt; we keep 7).
MIN_FONT_PT = 7.0
MAX_HEIGHT_MM = 240.0
_MM = 1 / 25.4

RC = {
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "figure.titlesize": 8, "legend.title_fontsize": 7, "axes.linewidth": 0.6,
    "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5, "ytick.major.size": 2.5,
    "lines.linewidth": 1.0, "lines.markersize": 3.0, "errorbar.capsize": 1.5, "legend.frameon": False,
    "legend.handlelength": 1.6, "legend.borderaxespad": 0.3, "axes.titlepad": 3.0, "axes.labelpad": 2.0,
    "grid.linewidth": 0.4, "savefig.dpi": 300, "pdf.fonttype": 42, "ps.fonttype": 42,
    "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.03,
}


@contextmanager
def journal_style():
    """Matplotlib's rcParams of :data:`RC` for the duration (fonts 7-8 pt, thin lines)."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def journal(function: Callable) -> Callable:
    """Run a figure function under :func:`journal_style` (texts take their sizes when they are made)."""

    @functools.wraps(function)
    def styled(*args, **kwargs):
        with journal_style():
            return function(*args, **kwargs)

    return styled


def journal_figure(nrows: int = 1, ncols: int = 1, *, width: str | float = "double", height: float | None = None,
                   squeeze: bool = False, **kwargs: Any):
    """A figure at a journal's column width with constrained layout: ``(fig, axes)`` as ``plt.subplots``.

    Draw on it inside :func:`journal_style` (or a function decorated with :func:`journal`): texts
    take their font sizes when they are made.

    Parameters
    ----------
    width
        ``"single"`` (89 mm), ``"onehalf"`` (120 mm), ``"double"`` (183 mm) or millimetres.
    height
        Millimetres; default 0.7 of a panel's width per row, at most 240 mm.
    squeeze, kwargs
        As :func:`matplotlib.pyplot.subplots` (``sharex``, ``subplot_kw``, ``gridspec_kw``...).

    Examples
    --------
    >>> fig, axes = journal_figure(1, 2, width="single")
    >>> round(fig.get_figwidth() * 25.4), axes.shape
    (89, (1, 2))
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = WIDTHS_MM[width] if isinstance(width, str) else float(width)
    h = min(height if height is not None else 0.7 * w / ncols * nrows + 12, MAX_HEIGHT_MM)
    with journal_style():
        return plt.subplots(nrows, ncols, figsize=(w * _MM, h * _MM), layout="constrained", squeeze=squeeze, **kwargs)


def panel_letters(axes: Iterable, *, start: int = 0) -> None:
    """Bold lower-case letters (a, b, c, ...) at the top left of each panel, as Nature asks.

    They take the axes' left title slot, so the layout leaves room for them and the centred title stays.
    """
    axes = [ax for ax in np.ravel(np.asarray(axes, dtype=object)) if ax is not None and ax.get_visible()]
    if len(axes) < 2 and start == 0:
        return
    for i, ax in enumerate(axes, start=start):
        ax.set_title(chr(ord("a") + i), loc="left", fontweight="bold", fontsize=8)


def legend_below(ax, handles: Sequence | None = None, labels: Sequence[str] | None = None, *, ncols: int = 1,
                 **kwargs: Any):
    """A legend under the panel's x-axis label, never over its data or a neighbouring panel.

    :func:`finish` sets it just below the tick labels and axis label once their size is known, in
    as many columns (up to ``ncols``) as the panel's width holds; the constrained layout then
    leaves room for it below the panel.
    """
    args = () if handles is None else (handles, labels)
    legend = ax.legend(*args, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0.0, **kwargs)
    legend._pcstats_below = {"ncols": ncols, "args": args, "kwargs": kwargs}
    return legend


def finish(fig) -> None:
    """Last touch before saving: each legend made by :func:`legend_below` in as many columns as its
    panel's width holds, just under the panel's axis labels."""
    from matplotlib.transforms import ScaledTranslation

    below = [ax for ax in fig.axes if getattr(ax.get_legend(), "_pcstats_below", None)]
    for ax in below:
        ax.get_legend().set_in_layout(False)  # lay the panels out without them first
    renderer = _draw(fig)
    for t in fig.texts:  # a figure title wider than the figure goes on more lines
        _wrap(t, fig.bbox.width * 0.98, renderer)
    for ax in fig.axes:
        if not (ax.get_visible() and ax.title.get_text()):
            continue
        letter = getattr(ax, "_left_title", None)
        if letter is not None and letter.get_text() and _overlap(letter.get_window_extent(renderer).padded(2),
                                                                  ax.title.get_window_extent(renderer), 0):
            # a narrow panel: the title starts after its letter, left-aligned, as Nature sets them
            start = (letter.get_window_extent(renderer).x1 - ax.bbox.x0 + 4 * fig.dpi / 72) / ax.bbox.width
            ax.title.set_x(start)
            ax.title.set_horizontalalignment("left")
            _wrap(ax.title, ax.bbox.width * (1 - start), renderer)
        else:
            _wrap(ax.title, ax.bbox.width * 1.05, renderer)
    if not below:
        return
    for ax in below:
        legend = ax.get_legend()
        made = legend._pcstats_below
        for ncols in range(made["ncols"], 0, -1):  # the most columns that fit the panel's width
            legend = ax.legend(*made["args"], loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0.0,
                               ncols=ncols, **made["kwargs"])
            legend._pcstats_below = made
            if legend.get_window_extent(renderer).width <= ax.bbox.width or ncols == 1:
                break
        excess = legend.get_window_extent(renderer).width - ax.bbox.width
        if excess > 0:  # one column is still too wide: its labels go on more lines
            for text in legend.get_texts():
                _wrap(text, text.get_window_extent(renderer).width - excess, renderer)
        axis = ax.xaxis.get_tightbbox(renderer)
        gap = max(0.0, ax.bbox.y0 - (axis.y0 if axis is not None else ax.bbox.y0)) / fig.dpi + 2 / 72  # inches
        legend.set_bbox_to_anchor((0.5, 0.0), transform=ax.transAxes + ScaledTranslation(0, -gap, fig.dpi_scale_trans))
        legend.set_in_layout(True)


# ------------------------------------------------------------------------------------------ checks

def layout_problems(fig, *, min_font: float = MIN_FONT_PT, widths: Sequence[float] | None = tuple(WIDTHS_MM.values()),
                    tolerance: float = 1.0) -> list[str]:
    """What a journal would send back about a figure, as sentences (empty when it is fine).

    Checks, at the figure's own size: its width is a journal width (mm, ``widths``; None: any);
    every text is at least ``min_font`` pt and inside the figure; no legend covers another panel,
    another panel's texts or its own panel's data (lines, markers, error bars); no title or axis
    text runs into another panel; texts of one panel (titles, annotations, SEM nodes) do not overlap.
    """
    problems: list[str] = []
    if widths is not None:
        mm = fig.get_figwidth() * 25.4
        if not any(abs(mm - w) < 0.5 for w in widths):
            problems.append(f"figure is {mm:.0f} mm wide, not a journal width {list(widths)}")
    if fig.get_figheight() * 25.4 > MAX_HEIGHT_MM + 0.5:
        problems.append(f"figure is {fig.get_figheight() * 25.4:.0f} mm high (a page allows {MAX_HEIGHT_MM:.0f})")
    renderer = _draw(fig)
    page = fig.bbox.padded(tolerance)
    axes = [ax for ax in fig.axes if ax.get_visible()]

    def extent(artist):
        patch = artist.get_bbox_patch() if hasattr(artist, "get_bbox_patch") else None
        box = artist.get_window_extent(renderer)
        return patch.get_window_extent(renderer) if patch is not None else box

    def name(t) -> str:
        return repr(t.get_text()[:40])

    texts = [(None, t) for t in fig.texts] + [(ax, t) for ax in axes for t in _texts(ax)]
    for ax, t in texts:
        if t.get_fontsize() < min_font - 1e-6:
            problems.append(f"text {name(t)} is {t.get_fontsize():g} pt (< {min_font:g} pt)")
        box = extent(t)
        if not _inside(box, page):
            problems.append(f"text {name(t)} runs outside the figure")
        for other in axes:
            if other is not ax and _overlap(box, other.bbox, tolerance) and not _shared_panel(ax, other):
                problems.append(f"text {name(t)} overlaps another panel")
    legends = [(ax, ax.get_legend()) for ax in axes if ax.get_legend() is not None] + [(None, lg) for lg in fig.legends]
    for ax, legend in legends:
        box = legend.get_window_extent(renderer)
        if not _inside(box, page):
            problems.append("a legend runs outside the figure")
        for other in axes:
            if other is not ax and not _shared_panel(ax, other) and _overlap(box, other.bbox, tolerance):
                problems.append(f"a legend ({_legend_name(legend)}) covers another panel")
        for other_ax, t in texts:
            if other_ax is not ax and t not in legend.get_texts() and _overlap(box, extent(t), tolerance):
                problems.append(f"a legend ({_legend_name(legend)}) covers text {name(t)}")
        if ax is not None and _overlap(box, ax.bbox, 0):
            covered = _data_points(ax)
            if len(covered) and (_within(covered, box.padded(-tolerance))).any():
                problems.append(f"a legend ({_legend_name(legend)}) covers data of its panel")
    for ax in axes:
        ticks = _tick_labels(ax)
        own = [t for a, t in texts if a is ax and t not in ticks]
        for i, a in enumerate(own):
            for b in own[i + 1:] + ticks:
                if _overlap(extent(a), extent(b), tolerance):
                    problems.append(f"texts {name(a)} and {name(b)} overlap")
    for t in fig.texts:  # a suptitle or figure text over a panel's texts
        for ax, u in texts:
            if ax is not None and _overlap(extent(t), extent(u), tolerance):
                problems.append(f"figure text {name(t)} overlaps {name(u)}")
    return list(dict.fromkeys(problems))


def _wrap(text, width: float, renderer) -> None:
    """Break ``text`` so that each line is at most ``width`` pixels wide: after commas if that is
    enough, else at spaces."""
    original = text.get_text()
    if text.get_window_extent(renderer).width <= width or "\n" in original or "$" in original:
        return

    def fill(pieces: list[str], joint: str) -> list[str]:
        lines: list[str] = []
        for piece in pieces:
            trial = f"{lines[-1]}{joint}{piece}" if lines else piece
            text.set_text(trial)
            if lines and text.get_window_extent(renderer).width <= width:
                lines[-1] = trial
            else:
                lines.append(piece)
        return lines

    def fits(lines: list[str]) -> bool:
        text.set_text("\n".join(lines))
        return text.get_window_extent(renderer).width <= width

    lines = fill(original.split(", "), ", ")
    lines = [f"{line}," for line in lines[:-1]] + lines[-1:]
    if not fits(lines):
        lines = fill(original.split(" "), " ")
    text.set_text("\n".join(lines) if lines else original)


def _draw(fig):
    """Draw the figure (on an Agg canvas if pyplot has closed it) and return the renderer."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _texts(ax) -> list:
    out = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None), ax.xaxis.label, ax.yaxis.label,
           *_tick_labels(ax), *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        out += [legend.get_title(), *legend.get_texts()]
    return [t for t in out if t is not None and t.get_visible() and t.get_text().strip()]


def _tick_labels(ax) -> list:
    out = []
    if not ax.axison:
        return out
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.get_visible():
            continue
        view = axis.get_view_interval()
        lo, hi = min(view), max(view)
        for tick in axis.get_major_ticks():
            if lo - 1e-9 * (abs(hi) + 1) <= tick.get_loc() <= hi + 1e-9 * (abs(hi) + 1):
                out += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return out


def _shared_panel(a, b) -> bool:
    """A colorbar or an inset drawn inside its parent panel is one panel with it."""
    if a is None or b is None:
        return False
    return _overlap(a.bbox, b.bbox, 0) and (a.bbox.width * a.bbox.height < 0.2 * b.bbox.width * b.bbox.height
                                           or b.bbox.width * b.bbox.height < 0.2 * a.bbox.width * a.bbox.height)


def _legend_name(legend) -> str:
    return ", ".join(t.get_text()[:20] for t in legend.get_texts()[:2])


def _inside(box, page) -> bool:
    return box.x0 >= page.x0 and box.y0 >= page.y0 and box.x1 <= page.x1 and box.y1 <= page.y1


def _overlap(a, b, tolerance: float) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance)


def _within(points: np.ndarray, box) -> np.ndarray:
    return (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)


def _data_points(ax) -> np.ndarray:
    """Display coordinates of the panel's data: line vertices and points along each segment, markers,
    error bars; lines drawn across the panel (``axhline``) and filled bands do not count."""
    from matplotlib.collections import LineCollection, PathCollection

    points = []
    for line in ax.lines:
        if not line.get_visible() or line.get_transform() != ax.transData:
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) > 1 and line.get_linestyle() not in ("None", "none", "", " "):
            t = np.linspace(0, 1, 12)[:, None, None]
            xy = (xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2)
        if len(xy):
            points.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                seg = np.asarray(seg, dtype=float)
                if len(seg) > 1:
                    t = np.linspace(0, 1, 6)[:, None, None]
                    seg = (seg[:-1] + t * (seg[1:] - seg[:-1])).reshape(-1, 2)
                points.append(coll.get_transform().transform(seg[np.isfinite(seg).all(axis=1)]))
        elif isinstance(coll, PathCollection):
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if len(offsets):
                points.append(coll.get_offset_transform().transform(offsets[np.isfinite(offsets).all(axis=1)]))
    from matplotlib.patches import Rectangle

    grid = np.linspace(0, 1, 4)
    for patch in ax.patches:  # bars and histogram bins
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_data_transform() == ax.transData \
                and patch.get_height() != 0:
            box = patch.get_window_extent()
            xs, ys = np.meshgrid(box.x0 + grid * box.width, box.y0 + grid * box.height)
            points.append(np.column_stack([xs.ravel(), ys.ravel()]))
    points = [p for p in points if len(p)]
    return np.concatenate(points) if points else np.empty((0, 2))
