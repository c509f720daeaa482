"""Heat pictures of a run's insides: how alike a layer's units are (a similarity matrix),
and how each layer's values are spread over training (distribution strips).

The similarity matrix is the cosine of the units' incoming weight vectors, -1 (blue)
through 0 (the background) to +1 (red): a zero-init layer is one red square. A cell is
an entry (two columns wide, so it is square), or half a cell when the layer is too big
for that; a layer bigger still shows its first units.

A distribution strip is TensorBoard's distribution in the terminal: x the step, y the
value (the bins, on one value axis shared by every layer, so a layer collapsed at 0 or
saturated at ±1 reads at a glance against the others), the shade the share of the
layer's values in the bin at that step, each step scaled to its own densest bin.

Colours as the decision boundary draws them (`tui_nn.widgets.boundary`): half blocks,
the palette of the terminal's colour system, characters without colour. The drawings
are functions over arrays; the widgets cache them until their data or size changes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from tui_nn.charts import step_ticks
from tui_nn.widgets.boundary import (
    DEFAULT_BACKGROUND,
    MONO_RAMP,
    NO_MARKS,
    PALETTES,
    RGB,
    TRUE_COLOR,
    Painting,
    Palette,
    blend,
    colour_rows,
    diverging,
    quantize,
    ramp,
    scaled,
)

Array = np.ndarray

STRENGTH = 0.9  # of the way from the background to the end colours
DENSITY_GAMMA = 0.5  # shade = share ** gamma: a thin tail stays visible beside the mode
FAINT = 0.02  # a bin with less than this share of its step's densest bin is background
MIN_STRIP_ROWS = 2
LABEL = 10  # columns of a strip's left labels: the layer and the value axis


def _color_style(rgb: Array, background: bool = True) -> Style:
    red, green, blue = (int(c) for c in np.clip(np.rint(rgb), 0, 255))
    color = f"#{red:02x}{green:02x}{blue:02x}"
    return Style(bgcolor=color) if background else Style(color=color)


def similarity_colors(S: Array, palette: Palette, bg: RGB) -> Array:
    """-1..1 -> RGB: blue, the background at 0, red."""
    t = scaled(np.asarray(S, dtype=np.float64), -1.0, 1.0)
    return diverging(t, bg, palette.low, palette.high, STRENGTH, palette.smooth)


# ------------------------------------------------------------ similarity matrix


def similarity_lines(
    S: Array | None,
    title: str,
    width: int,
    height: int,
    palette: Palette | None,
    bg: RGB,
    base: Style,
) -> list[Strip]:
    """The title, the matrix with the unit numbers at the left, and the colour scale."""
    lines = [Strip([Segment(title, base + Style(bold=True))])]
    if S is None or not np.size(S):
        lines.append(Strip([Segment("no hidden layer selected", base + Style(dim=True))]))
        return _fit(lines, width, height, base)
    n = int(S.shape[0])
    label = len(str(n)) + 1
    room_w, room_h = max(1, width - label), max(1, height - 2)
    if 2 * n <= room_w and n <= room_h:
        shown, body = n, _full_cells(S, label, palette, bg, base)
    elif palette is not None and n <= room_w and math.ceil(n / 2) <= room_h:
        shown, body = n, _half_cells(S, label, palette, bg, base)
    else:
        shown = max(1, min(room_w // 2, room_h))
        body = _full_cells(S[:shown, :shown], label, palette, bg, base)
    lines += body
    lines.append(Strip([Segment(_scale_text(shown, n), base + Style(dim=True))]))
    lines += _scale_segments(palette, bg, base)
    return _fit(lines, width, height, base)


def _scale_text(shown: int, n: int) -> str:
    part = f" (units 1-{shown} of {n})" if shown < n else ""
    return f"cosine of incoming weights{part}"


def _scale_segments(palette: Palette | None, bg: RGB, base: Style) -> list[Strip]:
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    segments = [Segment("-1 ", base)]
    if palette is None:
        for ch in ramp(values, MONO_RAMP):
            segments.append(Segment(str(ch) * 2, base))
    else:
        for rgb in similarity_colors(values, palette, bg):
            segments.append(Segment("  ", base + _color_style(rgb)))
    segments.append(Segment(" +1", base))
    return [Strip(segments)]


def _full_cells(S: Array, label: int, palette: Palette | None, bg: RGB, base: Style) -> list[Strip]:
    """An entry is two columns of one cell: square on screen."""
    n = S.shape[0]
    lines = []
    if palette is None:
        chars = ramp(scaled(np.asarray(S, dtype=np.float64), -1.0, 1.0), MONO_RAMP)
        for i in range(n):
            row = "".join(str(c) * 2 for c in chars[i])
            lines.append(Strip([Segment(f"{i + 1}".rjust(label - 1) + " " + row, base)]))
        return lines
    colors = np.clip(np.rint(similarity_colors(S, palette, bg)), 0, 255).astype(np.uint8)
    for i in range(n):
        segments = [Segment(f"{i + 1}".rjust(label - 1) + " ", base)]
        for start, end in _runs(colors[i]):
            segments.append(Segment("  " * (end - start), base + _color_style(colors[i, start])))
        lines.append(Strip(segments))
    return lines


def _half_cells(S: Array, label: int, palette: Palette, bg: RGB, base: Style) -> list[Strip]:
    """An entry is one column of half a cell (the upper or lower half block)."""
    pixels = similarity_colors(S, palette, bg)
    rows = colour_rows(Painting(pixels, pixels, NO_MARKS))
    return [
        Strip([Segment(f"{2 * r + 1}".rjust(label - 1) + " ", base), *segments])
        for r, segments in enumerate(rows)
    ]


def _runs(colors: Array) -> list[tuple[int, int]]:
    """(start, end) of each run of equal colours."""
    change = np.flatnonzero(np.any(colors[1:] != colors[:-1], axis=-1)) + 1
    bounds = [0, *change.tolist(), len(colors)]
    return list(itertools.pairwise(bounds))


def _fit(lines: list[Strip], width: int, height: int, base: Style) -> list[Strip]:
    lines = lines[:height] + [Strip([])] * max(0, height - len(lines))
    return [line.adjust_cell_length(width, base) for line in lines]


# ------------------------------------------------------------ distribution strips


@dataclass(frozen=True)
class Distribution:
    """One layer's values over training: density (bins, columns), a column a sampled
    step, over bin edges shared by every layer."""

    name: str
    steps: Array  # (columns,)
    edges: Array  # (bins + 1,), ascending
    density: Array  # (bins, columns)


def resample(d: Distribution, cols: int, pixel_rows: int, first: float, last: float) -> Array:
    """The density on a (pixel_rows, cols) picture, row 0 the highest value: the sampled
    steps that fall in a column are averaged, a column between two samples shows the one
    before it, the bins that fall in a row are summed; each column is then scaled to its
    densest pixel. NaN before the first sample."""
    density = np.nan_to_num(np.asarray(d.density, dtype=np.float64))
    steps = np.asarray(d.steps, dtype=np.float64)
    bins = density.shape[0]
    span = max(last - first, 1e-9)
    col = np.clip(((steps - first) / span * cols).astype(int), 0, cols - 1)
    sums = np.zeros((cols, bins))
    np.add.at(sums, col, density.T)
    counts = np.bincount(col, minlength=cols)
    filled = np.maximum.accumulate(np.where(counts > 0, np.arange(cols), -1))
    by_col = (sums / np.maximum(counts, 1)[:, None])[np.maximum(filled, 0)].T  # (bins, cols)
    # bins -> pixel rows (highest value at the top): a bin goes to the row its centre is in.
    centre = (bins - 1 - np.arange(bins) + 0.5) / bins
    row = np.minimum((centre * pixel_rows).astype(int), pixel_rows - 1)
    picture = np.zeros((pixel_rows, cols))
    np.add.at(picture, row, by_col)
    top = picture.max(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        picture = np.where(top > 0, picture / top, 0.0)
    picture[:, filled < 0] = np.nan
    return picture


def shade_pixels(amount: Array, palette: Palette, bg: RGB) -> Array:
    """0..1 shares -> RGB: the background to a bright red (blended), or three bands of
    the palette's own colours."""
    shown = np.where(np.isnan(amount), 0.0, amount) ** DENSITY_GAMMA
    shown = np.where(shown < FAINT**DENSITY_GAMMA, 0.0, shown)
    background = np.array(bg, dtype=np.float64)
    if palette.smooth:
        top = np.array(palette.point_high, dtype=np.float64)
        return blend(background, np.broadcast_to(top, (*shown.shape, 3)), quantize(shown))
    bands = np.array([bg, palette.high[0], palette.high[1], palette.point_high], dtype=np.float64)
    index = np.where(shown <= 0, 0, np.minimum(3, 1 + (shown * 3).astype(int)))
    return bands[index]


def strip_lines(
    layers: Sequence[Distribution],
    title: str,
    width: int,
    height: int,
    palette: Palette | None,
    bg: RGB,
    base: Style,
) -> list[Strip]:
    """The title, one strip a layer (its name and the shared value axis at the left), the
    step axis under the last."""
    lines = [Strip([Segment(title, base + Style(bold=True))])]
    drawn = [d for d in layers if np.size(d.steps)]
    if not drawn:
        lines.append(Strip([Segment("no samples yet", base + Style(dim=True))]))
        return _fit(lines, width, height, base)
    cols = max(1, width - LABEL)
    rows = max(MIN_STRIP_ROWS, (height - 3) // len(drawn))
    first = min(float(d.steps[0]) for d in drawn)
    last = max(float(d.steps[-1]) for d in drawn)
    lo, hi = float(drawn[0].edges[0]), float(drawn[0].edges[-1])
    for d in drawn:
        pixel_rows = rows if palette is None else 2 * rows
        amount = resample(d, cols, pixel_rows, first, last)
        labels = _value_labels(lo, hi, rows, d.name)
        if palette is None:
            chars = ramp(2 * np.nan_to_num(amount) ** DENSITY_GAMMA - 1, MONO_RAMP)
            body = [[Segment("".join(str(c) for c in row), base)] for row in chars]
        else:
            pixels = shade_pixels(amount, palette, bg)
            body = colour_rows(Painting(pixels, pixels, NO_MARKS))
        for label, segments in zip(labels, body, strict=True):
            lines.append(Strip([Segment(label, base + Style(dim=True)), *segments]))
    lines += _step_axis(first, last, cols, base)
    return _fit(lines, width, height, base)


def _short(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:+.2g}" if abs(value) >= 1e-2 else f"{value:+.0e}"


def _value_labels(lo: float, hi: float, rows: int, name: str) -> list[str]:
    """A strip's left labels: the layer's name and the top value on the first row, the
    bottom value on the last, 0 on its row when it lies between (every strip the same)."""
    labels = [""] * rows
    labels[0] = f"{name} {_short(hi)}"
    labels[-1] = _short(lo) if rows > 1 else labels[0]
    if lo < 0 < hi and rows >= 3:
        zero = min(rows - 2, max(1, int(hi / (hi - lo) * rows)))
        labels[zero] = "0"
    # Left-justified: a line that starts with blanks is drawn shifted by rsvg (screenshots).
    return [label[: LABEL - 1].ljust(LABEL - 1) + "│" for label in labels]


def _step_axis(first: float, last: float, cols: int, base: Style) -> list[Strip]:
    """The step axis under the strips; neither row starts with a blank (rsvg, which draws
    the screenshots, shifts such a line)."""
    axis = list("─" * (LABEL - 1) + "┴" + "─" * cols)
    labels = list("step".ljust(len(axis)))
    ticks, names = step_ticks(first, last, max_ticks=max(3, cols // 8))
    span = max(last - first, 1e-9)
    end = len("step ")
    for tick, name in zip(ticks, names, strict=True):
        col = LABEL + min(cols - 1, int((tick - first) / span * cols))
        axis[col] = "┬"
        start = max(end, min(col - len(name) // 2, len(labels) - len(name)))
        if start + len(name) <= len(labels):
            labels[start : start + len(name)] = name
            end = start + len(name) + 1
    return [Strip([Segment("".join(axis), base)]), Strip([Segment("".join(labels), base)])]


# ------------------------------------------------------------------- widgets


class _Heat(Widget):
    """A picture drawn from arrays, rebuilt when they change or the size does."""

    DEFAULT_CSS = """
    _Heat {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._strips: list[Strip] | None = None
        self._drawn_size: Any = None
        self.builds = 0

    def palette(self) -> Palette | None:
        if self.app.no_color:
            return None
        return PALETTES.get(self.app.console.color_system, TRUE_COLOR)

    def _background(self) -> RGB:
        color = self.background_colors[1]
        return DEFAULT_BACKGROUND if color.a == 0 else color.rgb

    def changed(self) -> None:
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if self._strips is None or self._drawn_size != self.size:
            self._drawn_size = self.size
            self.builds += 1
            self._strips = self.draw(self.size.width, self.size.height)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def draw(self, width: int, height: int) -> list[Strip]:
        raise NotImplementedError


class SimilarityMatrix(_Heat):
    """One hidden layer's unit similarity; `show(S, title)`."""

    DEFAULT_CSS = """
    SimilarityMatrix {
        width: 1fr;
        height: auto;
        min-height: 4;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.matrix: Array | None = None
        self.title = "similarity"

    def show(self, S: Array | None, title: str) -> None:
        resized = (self.matrix is None) != (S is None) or (
            S is not None and self.matrix is not None and S.shape != self.matrix.shape
        )
        self.matrix, self.title = S, title
        self.changed()
        if resized:
            self.refresh(layout=True)  # its height follows the layer's width

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        n = 0 if self.matrix is None else int(self.matrix.shape[0])
        return max(4, n + 4)

    def draw(self, width: int, height: int) -> list[Strip]:
        return similarity_lines(
            self.matrix, self.title, width, height, self.palette(), self._background(),
            self.rich_style,
        )  # fmt: skip


class DistributionStrips(_Heat):
    """Every layer's distribution over training; `show(layers, title)`."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.distributions: list[Distribution] = []
        self.title = "distributions"

    def show(self, layers: Sequence[Distribution], title: str) -> None:
        self.distributions, self.title = list(layers), title
        self.changed()

    def draw(self, width: int, height: int) -> list[Strip]:
        return strip_lines(
            self.distributions, self.title, width, height, self.palette(), self._background(),
            self.rich_style,
        )  # fmt: skip
