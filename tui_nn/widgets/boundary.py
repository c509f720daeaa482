"""The decision boundary: the network's prediction over its inputs, the data on top.

Three pictures, one per `Boundary.kind`: "classes" (2-D classification) colours each pixel
by its winning class, faded toward the background by confidence, so the boundary shows as
a fade; "values" (2-D regression) maps the predicted value on a diverging scale; "curve"
(1-D regression) draws the fitted function through the data. Training points are pixels
in full colour; validation points (`toggle_validation`) are a glyph.

Each terminal cell shows two pixels with an upper half block ('▀': the top pixel as
foreground, the bottom one as background). A cell is about twice as tall as wide, so the
pixels are square and a 2-D picture gives one data unit as many pixels across as down,
whatever the widget's size; the part it does not need stays blank. Axes carry ticks in data
coordinates; the legend names the classes (or shows the value scale).

Colours follow what the terminal shows (`PALETTES`, by Rich's colour system): blends in
true colour; in 256 and 16 colours a palette of colours that terminal has exactly (a blend
would come out grey, or one colour for several classes); without colour (NO_COLOR, or no
colour system) characters: a shade per class, the class digit for a point, validation
points in reverse video.

The pictures are plain functions over NumPy arrays (tested without a terminal); the
widget only caches the strips and throttles rebuilds to twice a second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rich._palettes import STANDARD_PALETTE  # the table Rich's 16-colour downgrade matches
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from engine.registry import Registry
from tui_nn.widgets.throttle import Throttle

Array = np.ndarray
RGB = tuple[int, int, int]

MIN_INTERVAL = 0.5  # seconds between rebuilds: at most twice a second
REGION_STRENGTH = 0.55  # a fully confident region is this far from background to class colour
POINT_LIGHTEN = 0.2  # points are their class colour lifted toward white, to stand out
UNSURE = 0.2  # below this confidence (0 chance .. 1 certain) a region is background
SURE = 0.5  # without blends (256 and 16 colours): from here a region is its full colour
# Blend steps from background to full region colour. Few steps make runs of equal cells,
# so fewer segments and escape codes per frame (SSH); they read as confidence contours.
LEVELS = 8
VALUE_BAND = 1.0 / 3.0  # without blends: values this near the middle (-1..1) are background
CELL_ASPECT = 2.0  # a terminal cell is about twice as tall as it is wide
CURVE_MARGIN = 0.05  # of the value range, above and below a curve
LEGEND_WIDTH = 18  # at most; longer names are cut
SCALE_TICKS = 5  # at most, in the value scale
X_TICK_SPACING = 8  # columns between x ticks, about
Y_TICK_SPACING = 3  # rows between y ticks, about
SPLIT_AXIS_HEIGHT = 14  # rows: from this tall the x labels get a row of their own
AXES_MIN = (24, 6)  # a widget smaller than this (columns, rows) shows the picture alone

CLASS_COLORS: tuple[RGB, ...] = (
    (66, 133, 244),  # blue
    (234, 67, 53),  # red
    (52, 168, 83),  # green
    (251, 188, 5),  # yellow
    (171, 71, 188),  # purple
    (0, 172, 193),  # cyan
    (255, 112, 67),  # orange
    (158, 157, 36),  # olive
    (236, 64, 122),  # pink
    (120, 144, 156),  # slate
)
# Regression: below the middle of the value range toward blue, above toward red.
DIVERGING_LOW: RGB = (59, 110, 220)
DIVERGING_HIGH: RGB = (220, 60, 50)
GREY: RGB = (150, 150, 150)  # a point of a middle value: seen on the background
# The ANSI colours in CLASS_COLORS' order: blue, red, green, yellow, magenta, cyan.
ANSI_HUES = (4, 1, 2, 3, 5, 6)
BRIGHT = 8  # an ANSI colour's bright variant

HALF_BLOCK = "▀"
VAL_GLYPH = "○"  # a validation point, in its class colour on the region under it
SWATCH = "■"
MONO_CLASS_CHARS = ("·", "░", "▒", "▓", ":", "+", "=", "~", "-", "'")
MONO_RAMP = " .:-=+*#%@"  # regression without colour: low to high
POINT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
MONO_FIT, MONO_DATA = "*", "o"  # a curve without colour
PLAIN, BOLD, REVERSE = 0, 1, 2  # no colour: region, training point, validation point

DEFAULT_BACKGROUND: RGB = (30, 30, 30)
NO_PICTURE = "no picture (drawn for 2-D inputs and 1-D regression)"


# -------------------------------------------------------------------- colours


def _ansi(index: int) -> RGB:
    red, green, blue = STANDARD_PALETTE[index]
    return red, green, blue


def _lift(color: RGB) -> RGB:
    red, green, blue = (round(c + (255 - c) * POINT_LIGHTEN) for c in color)
    return red, green, blue


@dataclass(frozen=True)
class Palette:
    """The colours one colour system shows well. A smooth palette blends a region toward
    the background by confidence; the others take their colours as they are: `regions`
    where the net is sure, `faint` where it is less so, the background where it is unsure."""

    regions: tuple[RGB, ...]  # a class region the net is sure of
    faint: tuple[RGB, ...]  # a class region it is less sure of (not used when smooth)
    points: tuple[RGB, ...]  # a point of that class
    low: tuple[RGB, RGB]  # values: the region colours of low values, faint then full
    high: tuple[RGB, RGB]
    point_low: RGB  # values: a point of the lowest target
    point_mid: RGB
    point_high: RGB
    smooth: bool


TRUE_COLOR = Palette(
    regions=CLASS_COLORS,
    faint=CLASS_COLORS,
    points=tuple(_lift(c) for c in CLASS_COLORS),
    low=(DIVERGING_LOW, DIVERGING_LOW),
    high=(DIVERGING_HIGH, DIVERGING_HIGH),
    point_low=_lift(DIVERGING_LOW),
    point_mid=GREY,
    point_high=_lift(DIVERGING_HIGH),
    smooth=True,
)
# 256 colours: a blend toward a dark background lands on few of the 6x6x6 cube's dark
# colours (blue, green and cyan on the same one), so the regions are cube colours of
# their own; the first six hues have a darker faint variant.
CUBE_256 = Palette(
    regions=(
        (0, 95, 175), (175, 0, 0), (0, 135, 0), (175, 135, 0), (135, 0, 175),
        (0, 135, 135), (215, 95, 0), (135, 135, 0), (175, 0, 95), (95, 95, 135),
    ),
    faint=(
        (0, 0, 135), (95, 0, 0), (0, 95, 0), (135, 95, 0), (95, 0, 135),
        (0, 95, 95), (215, 95, 0), (135, 135, 0), (175, 0, 95), (95, 95, 135),
    ),
    points=(
        (95, 175, 255), (255, 95, 95), (95, 215, 95), (255, 215, 95), (215, 135, 255),
        (95, 215, 215), (255, 175, 95), (215, 215, 95), (255, 95, 175), (175, 175, 215),
    ),
    low=((0, 0, 135), (0, 95, 175)),
    high=((95, 0, 0), (175, 0, 0)),
    point_low=(95, 175, 255),
    point_mid=(138, 138, 138),
    point_high=(255, 95, 95),
    smooth=False,
)  # fmt: skip
# 16 colours: six hues, a region dark and its points bright (the next six the other way
# round), each exactly a colour Rich's downgrade keeps as it is.
_NORMAL = tuple(_ansi(i) for i in ANSI_HUES)
_BRIGHT = tuple(_ansi(i + BRIGHT) for i in ANSI_HUES)
ANSI_16 = Palette(
    regions=_NORMAL + _BRIGHT,
    faint=_NORMAL + _BRIGHT,
    points=_BRIGHT + _NORMAL,
    low=(_ansi(4), _ansi(4)),
    high=(_ansi(1), _ansi(1)),
    point_low=_ansi(4 + BRIGHT),
    point_mid=_ansi(7),
    point_high=_ansi(1 + BRIGHT),
    smooth=False,
)
# What each of Rich's colour systems gets; None (no colour) draws characters.
PALETTES: dict[str | None, Palette | None] = {
    "truecolor": TRUE_COLOR,
    "256": CUBE_256,
    "standard": ANSI_16,
    "windows": ANSI_16,
    None: None,
}


def _rgb(colors: tuple[RGB, ...] | RGB) -> Array:
    return np.array(colors, dtype=np.float64)


def blend(background: RGB | Array, colors: Array, amount: Array) -> Array:
    """Mix each colour with the background: amount 0 is background, 1 is the colour."""
    bg = np.asarray(background, dtype=np.float64)
    return bg + (colors - bg) * amount[..., None]


def quantize(amount: Array) -> Array:
    """Round a 0..1 amount to LEVELS steps."""
    return np.rint(amount * LEVELS) / LEVELS


def class_probs(probs: Array) -> Array:
    """A single sigmoid output p becomes the two columns (1 - p, p)."""
    if probs.shape[-1] == 1:
        return np.concatenate([1.0 - probs, probs], axis=-1)
    return probs


def confidence(probs: Array) -> tuple[Array, Array]:
    """(winning class, confidence scaled so that chance is 0 and certainty is 1)."""
    n = probs.shape[-1]
    winner = np.argmax(probs, axis=-1)
    top = np.max(probs, axis=-1)
    scaled = (top - 1.0 / n) / (1.0 - 1.0 / n) if n > 1 else top
    return winner, np.clip(np.nan_to_num(scaled), 0.0, 1.0)


def class_pixels(probs: Array, palette: Palette, background: RGB) -> Array:
    """(rows, cols, C) probabilities -> (rows, cols, 3) RGB floats."""
    winner, conf = confidence(class_probs(probs))
    colors = _rgb(palette.regions)[winner % len(palette.regions)]
    if palette.smooth:
        return blend(background, colors, REGION_STRENGTH * quantize(conf))
    faint = _rgb(palette.faint)[winner % len(palette.faint)]
    colors = np.where((conf >= SURE)[..., None], colors, faint)
    return np.where((conf >= UNSURE)[..., None], colors, _rgb(background))


def class_point_colors(labels: Array, palette: Palette) -> Array:
    return _rgb(palette.points)[labels.astype(int) % len(palette.points)]


def value_range(*arrays: Array) -> tuple[float, float]:
    """The range a value map spans: every finite value of the arrays."""
    both = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    both = both[np.isfinite(both)]
    if not len(both):
        return 0.0, 1.0
    lo, hi = float(both.min()), float(both.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def scaled(values: Array, lo: float, hi: float) -> Array:
    """Values -> -1 (lo) .. 1 (hi); not finite -> 0, the middle."""
    return np.clip(np.nan_to_num((values - lo) / (hi - lo) * 2.0 - 1.0), -1.0, 1.0)


def diverging(
    t: Array, mid: RGB, low: tuple[RGB, RGB], high: tuple[RGB, RGB], strength: float, smooth: bool
) -> Array:
    """-1..1 -> RGB: the middle is `mid`, the ends toward `low` and `high` (faint, full):
    blended when smooth, else in bands: the middle, faint, full."""
    below = (t < 0)[..., None]
    ends = np.where(below, _rgb(low[1]), _rgb(high[1]))
    size = np.abs(t)
    if smooth:
        return blend(mid, ends, strength * quantize(size))
    faint = np.where(below, _rgb(low[0]), _rgb(high[0]))
    colors = np.where((size > 2 * VALUE_BAND)[..., None], ends, faint)
    return np.where((size > VALUE_BAND)[..., None], colors, _rgb(mid))


def value_pixels(t: Array, palette: Palette, background: RGB) -> Array:
    return diverging(t, background, palette.low, palette.high, REGION_STRENGTH, palette.smooth)


def value_point_colors(t: Array, palette: Palette) -> Array:
    p = palette
    low, high = (p.point_low, p.point_low), (p.point_high, p.point_high)
    return diverging(t, p.point_mid, low, high, 1.0, p.smooth)


# ------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class View:
    """The data rectangle a picture shows: pixel (row, col) covers x from
    left + col * dx and y down from top - row * dy."""

    left: float
    top: float
    dx: float
    dy: float
    cols: int
    rows: int  # pixel rows

    def x_centres(self) -> Array:
        return self.left + (np.arange(self.cols) + 0.5) * self.dx

    def y_centres(self) -> Array:
        return self.top - (np.arange(self.rows) + 0.5) * self.dy

    def col_of(self, x: float) -> int:
        return math.floor((x - self.left) / self.dx)

    def row_of(self, y: float) -> int:
        return math.floor((self.top - y) / self.dy)

    def pixels_of(self, points: Array) -> tuple[Array, Array, Array]:
        """Pixel row and column of each (x, y) point in the view, and which points those are."""
        with np.errstate(invalid="ignore"):
            col = np.floor((points[:, 0] - self.left) / self.dx)
            row = np.floor((self.top - points[:, 1]) / self.dy)
            inside = (col >= 0) & (col < self.cols) & (row >= 0) & (row < self.rows)
        return row[inside].astype(int), col[inside].astype(int), np.flatnonzero(inside)


Extent = tuple[float, float, float, float]  # x_lo, x_hi, y_lo, y_hi


def square_view(extent: Extent, cols: int, rows: int, aspect: float, row_step: int) -> View:
    """The largest view of the extent in cols x rows pixels, a pixel `aspect` times as tall
    as wide on screen, with one data unit the same length across and down; centred, and
    rows a whole number of `row_step` (the pixels of one cell)."""
    x_lo, x_hi, y_lo, y_hi = extent
    width, height = max(x_hi - x_lo, 0.0), max(y_hi - y_lo, 0.0)
    unit = max(width / cols, height / (rows * aspect)) or 1.0  # data per pixel across
    used_cols = min(cols, max(1, math.ceil(width / unit - 1e-9)))
    used_rows = min(
        rows, max(row_step, row_step * math.ceil(height / unit / aspect / row_step - 1e-9))
    )
    dx, dy = unit, unit * aspect
    return View(
        (x_lo + x_hi - used_cols * dx) / 2,
        (y_lo + y_hi + used_rows * dy) / 2,
        dx,
        dy,
        used_cols,
        used_rows,
    )


def fill_view(extent: Extent, cols: int, rows: int) -> View:
    """The extent stretched over all cols x rows pixels (a function plot)."""
    x_lo, x_hi, y_lo, y_hi = extent
    return View(x_lo, y_hi, (x_hi - x_lo) / cols or 1.0, (y_hi - y_lo) / rows or 1.0, cols, rows)


def grid_span(grid: Array) -> tuple[float, float]:
    """What a grid of samples covers: half a spacing beyond the first and the last."""
    lo, hi = float(np.min(grid)), float(np.max(grid))
    half = (hi - lo) / (len(grid) - 1) / 2 if len(grid) > 1 else 0.5
    return lo - half, hi + half


def _nearest(grid: Array, at: Array) -> tuple[Array, Array]:
    """Index of the nearest sample of an ascending uniform grid, and which `at` it covers."""
    step = (grid[-1] - grid[0]) / (len(grid) - 1) if len(grid) > 1 else 1.0
    index = np.rint((at - grid[0]) / (step or 1.0))
    inside = (index >= 0) & (index <= len(grid) - 1)
    return np.clip(index, 0, len(grid) - 1).astype(int), inside


def sample(boundary: Any, view: View) -> tuple[Array, Array]:
    """The grid's prediction at each pixel's centre (its nearest sample), and which pixels
    the grid covers."""
    probs = np.asarray(boundary.probs, dtype=np.float64)
    xs, ys = np.asarray(boundary.xs, dtype=np.float64), np.asarray(boundary.ys, dtype=np.float64)
    if len(xs) > 1 and xs[0] > xs[-1]:
        xs, probs = xs[::-1], probs[:, ::-1]
    if len(ys) > 1 and ys[0] > ys[-1]:
        ys, probs = ys[::-1], probs[::-1]
    ix, in_x = _nearest(xs, view.x_centres())
    iy, in_y = _nearest(ys, view.y_centres())
    return probs[iy][:, ix], in_y[:, None] & in_x[None, :]


def _points(points: Any, dims: int) -> Array:
    array = np.asarray(points, dtype=np.float64)
    return array.reshape(len(array), -1) if array.size else np.zeros((0, dims))


def _labels(labels: Any) -> Array:
    """One label per point: a class id, or the first target of (n, t) targets."""
    array = np.asarray(labels)
    return array.reshape(len(array), -1)[:, 0] if array.ndim > 1 else array


def curve_pixels(view: View, xs: Array, values: Array) -> tuple[Array, Array]:
    """Pixels of the line through (xs, values) across the view: each column's value, and
    toward each neighbour's up to halfway, so that a steep stretch stays connected."""
    order = np.argsort(xs)
    at = view.x_centres()
    with np.errstate(invalid="ignore"):
        y = np.interp(at, xs[order], values[order])
        row = np.rint((view.top - y) / view.dy - 0.5)
    row[(at < xs.min()) | (at > xs.max()) | ~np.isfinite(row)] = np.nan
    lo, hi = row.copy(), row.copy()
    gap = np.full(1, np.nan)
    for near in (np.concatenate([gap, row[:-1]]), np.concatenate([row[1:], gap])):
        reach = row + np.trunc((near - row) / 2)
        lo, hi = np.fmin(lo, reach), np.fmax(hi, reach)
    rows: list[int] = []
    cols: list[int] = []
    for col in np.flatnonzero(np.isfinite(row)):
        first, last = max(0, int(lo[col])), min(view.rows - 1, int(hi[col]))
        rows.extend(range(first, last + 1))
        cols.extend([int(col)] * max(0, last + 1 - first))
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


# ---------------------------------------------------------------- the pictures


@dataclass
class Painting:
    """A colour picture: pixels, and the validation glyphs drawn over them."""

    pixels: Array  # (rows, cols, 3) RGB: regions, training points on top
    under: Array  # the regions alone: what a validation glyph is drawn on
    marks: tuple[Array, Array, Array]  # validation points: pixel row, column, colour


@dataclass
class Characters:
    """A picture without colour: one character a cell, and how each is drawn."""

    chars: Array  # (rows, cols) one character each
    style: Array  # (rows, cols) PLAIN, BOLD or REVERSE


NO_MARKS = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros((0, 3)))


def _paint(
    under: Array, view: View, boundary: Any, colors: Callable[[Array], Array], show_val: bool
) -> Painting:
    """Training points as pixels over `under`, validation points as marks."""
    pixels = under.copy()
    row, col, which = view.pixels_of(_points(boundary.points, 2))
    pixels[row, col] = colors(_labels(boundary.labels)[which])
    marks = NO_MARKS
    if show_val:
        row, col, which = view.pixels_of(_points(boundary.val_points, 2))
        marks = (row, col, colors(_labels(boundary.val_labels)[which]))
    return Painting(pixels, under, marks)


def _write(pic: Characters, view: View, points: Any, chars: Array, style: int) -> None:
    """Characters at (x, y) points, one each."""
    row, col, which = view.pixels_of(_points(points, 2))
    pic.chars[row, col] = chars[which]
    pic.style[row, col] = style


def _blank(view: View) -> Characters:
    shape = (view.rows, view.cols)
    return Characters(np.full(shape, " ", dtype="<U1"), np.full(shape, PLAIN, dtype=np.int8))


# classes


def _class_count(boundary: Any) -> int:
    return len(boundary.class_names) or max(2, np.asarray(boundary.probs).shape[-1])


def paint_classes(boundary: Any, view: View, palette: Palette, bg: RGB, show_val: bool) -> Painting:
    probs, covered = sample(boundary, view)
    under = np.where(covered[..., None], class_pixels(probs, palette, bg), _rgb(bg))
    return _paint(under, view, boundary, lambda y: class_point_colors(y, palette), show_val)


def mono_classes(boundary: Any, view: View, show_val: bool) -> Characters:
    probs, covered = sample(boundary, view)
    winner, conf = confidence(class_probs(probs))
    pic = _blank(view)
    shades = np.array(MONO_CLASS_CHARS)[winner % len(MONO_CLASS_CHARS)]
    pic.chars[:] = np.where(covered & (conf >= UNSURE), shades, " ")
    digits = np.array(list(POINT_CHARS))
    for points, labels, style in _point_sets(boundary, show_val):
        _write(pic, view, points, digits[_labels(labels).astype(int) % len(digits)], style)
    return pic


def _point_sets(boundary: Any, show_val: bool) -> list[tuple[Any, Any, int]]:
    sets = [(boundary.points, boundary.labels, BOLD)]
    if show_val:
        sets.append((boundary.val_points, boundary.val_labels, REVERSE))
    return sets


# values


def _value_range(boundary: Any) -> tuple[float, float]:
    """The targets' range: a prediction beyond it (the corners of the plane, away from the
    data) takes the end colour rather than squeezing the data's colours together."""
    targets = np.concatenate([_labels(boundary.labels), _labels(boundary.val_labels)])
    if np.any(np.isfinite(targets.astype(np.float64))):
        return value_range(targets)
    return value_range(boundary.probs[..., 0])


def paint_values(boundary: Any, view: View, palette: Palette, bg: RGB, show_val: bool) -> Painting:
    lo, hi = _value_range(boundary)
    probs, covered = sample(boundary, view)
    under = np.where(
        covered[..., None], value_pixels(scaled(probs[..., 0], lo, hi), palette, bg), _rgb(bg)
    )

    def colors(targets: Array) -> Array:
        return value_point_colors(scaled(targets.astype(np.float64), lo, hi), palette)

    return _paint(under, view, boundary, colors, show_val)


def ramp(t: Array, chars: str) -> Array:
    """-1..1 -> one of `chars`, low to high."""
    index = np.rint((t + 1.0) / 2.0 * (len(chars) - 1)).astype(int)
    return np.array(list(chars))[index]


def mono_values(boundary: Any, view: View, show_val: bool) -> Characters:
    lo, hi = _value_range(boundary)
    probs, covered = sample(boundary, view)
    pic = _blank(view)
    pic.chars[:] = np.where(covered, ramp(scaled(probs[..., 0], lo, hi), MONO_RAMP), " ")
    for points, labels, style in _point_sets(boundary, show_val):
        t = scaled(_labels(labels).astype(np.float64), lo, hi)
        _write(pic, view, points, ramp(t, POINT_CHARS[:10]), style)
    return pic


# curve


def _curve_data(points: Any, labels: Any, output: int) -> Array:
    """(x, target) of each point for one output."""
    x = _points(points, 1)[:, :1]
    y = np.asarray(labels, dtype=np.float64).reshape(len(x), -1)[:, output : output + 1]
    return np.concatenate([x, y], axis=1) if len(x) else np.zeros((0, 2))


def _outputs(boundary: Any) -> int:
    return int(np.asarray(boundary.probs).shape[-1])


def curve_colors(output: int, palette: Palette) -> tuple[Array, Array]:
    """(data, fit) colours of one output: two different hues."""
    n = len(palette.regions)
    return _rgb(palette.regions[2 * output % n]), _rgb(palette.points[(2 * output + 1) % n])


def paint_curve(boundary: Any, view: View, palette: Palette, bg: RGB, show_val: bool) -> Painting:
    under = np.broadcast_to(_rgb(bg), (view.rows, view.cols, 3)).copy()
    pixels = under.copy()
    xs, fitted = (
        np.asarray(boundary.xs, dtype=np.float64),
        np.asarray(boundary.probs, dtype=np.float64),
    )
    marks = [NO_MARKS]
    for output in range(_outputs(boundary)):
        data, fit = curve_colors(output, palette)
        row, col, _ = view.pixels_of(_curve_data(boundary.points, boundary.labels, output))
        pixels[row, col] = data
        row, col = curve_pixels(view, xs, fitted[0, :, output])
        pixels[row, col] = fit
        if show_val:
            val = _curve_data(boundary.val_points, boundary.val_labels, output)
            row, col, _ = view.pixels_of(val)
            marks.append((row, col, np.broadcast_to(data, (len(row), 3))))
    row, col, color = (np.concatenate(part) for part in zip(*marks, strict=True))
    return Painting(pixels, under, (row, col, color))


def mono_curve(boundary: Any, view: View, show_val: bool) -> Characters:
    pic = _blank(view)
    xs, fitted = (
        np.asarray(boundary.xs, dtype=np.float64),
        np.asarray(boundary.probs, dtype=np.float64),
    )
    for output in range(_outputs(boundary)):
        data = _curve_data(boundary.points, boundary.labels, output)
        _write(pic, view, data, np.full(len(data), MONO_DATA), PLAIN)
        row, col = curve_pixels(view, xs, fitted[0, :, output])
        pic.chars[row, col] = MONO_FIT
        pic.style[row, col] = BOLD
        if show_val:
            val = _curve_data(boundary.val_points, boundary.val_labels, output)
            _write(pic, view, val, np.full(len(val), MONO_DATA), REVERSE)
    return pic


def curve_extent(boundary: Any) -> Extent:
    x_lo, x_hi = float(np.min(boundary.xs)), float(np.max(boundary.xs))
    y_lo, y_hi = value_range(boundary.probs, boundary.labels, boundary.val_labels)
    pad = (y_hi - y_lo) * CURVE_MARGIN
    return x_lo, x_hi, y_lo - pad, y_hi + pad


def plane_extent(boundary: Any) -> Extent:
    return (*grid_span(np.asarray(boundary.xs)), *grid_span(np.asarray(boundary.ys)))


# ------------------------------------------------------------------ the legend

# (swatch, its style over the widget's, text); a line without a swatch is text alone.
LegendLine = tuple[str, Style, str]
MONO_STYLES = {PLAIN: Style(), BOLD: Style(bold=True), REVERSE: Style(reverse=True)}


def _color_style(rgb: RGB | Array, background: bool = False) -> Style:
    red, green, blue = (int(c) for c in np.clip(np.rint(rgb), 0, 255))
    color = f"#{red:02x}{green:02x}{blue:02x}"
    return Style(bgcolor=color) if background else Style(color=color)


def _step_line(boundary: Any) -> LegendLine:
    return ("", Style(), f"step {boundary.step}")


def _val_line(palette: Palette | None, show_val: bool, swatch: str) -> list[LegendLine]:
    """The validation points' entry, when they are shown."""
    if not show_val:
        return []
    if palette is None:
        return [(swatch, MONO_STYLES[REVERSE], "validation")]
    return [(VAL_GLYPH, Style(), "validation")]


def legend_classes(
    boundary: Any, palette: Palette | None, show_val: bool, bg: RGB
) -> list[LegendLine]:
    """Each class by name: its point colour, or its point digit and region shade."""
    names = list(boundary.class_names) or [str(k) for k in range(_class_count(boundary))]
    lines = [_step_line(boundary)]
    for k, name in enumerate(names):
        if palette is None:
            swatch = POINT_CHARS[k % len(POINT_CHARS)] + MONO_CLASS_CHARS[k % len(MONO_CLASS_CHARS)]
            lines.append((swatch, MONO_STYLES[BOLD], name))
        else:
            lines.append((SWATCH, _color_style(palette.points[k % len(palette.points)]), name))
    return lines + _val_line(palette, show_val, POINT_CHARS[0])


def legend_values(
    boundary: Any, palette: Palette | None, show_val: bool, bg: RGB
) -> list[LegendLine]:
    """The value scale, high to low: region colours (or shades and point digits)."""
    lo, hi = _value_range(boundary)
    values, step = nice_ticks(lo, hi, SCALE_TICKS)
    values = values[::-1]
    t = scaled(np.array(values), lo, hi)
    texts = [format_tick(value, step) for value in values]
    lines = [_step_line(boundary)]
    if palette is None:
        shades, digits = ramp(t, MONO_RAMP), ramp(t, POINT_CHARS[:10])
        for shade, digit, text in zip(shades, digits, texts, strict=True):
            lines.append((shade * 2, Style(), f"{digit} {text}"))
        return lines + _val_line(palette, show_val, POINT_CHARS[0])
    for color, text in zip(value_pixels(t, palette, bg), texts, strict=True):
        lines.append(("  ", _color_style(color, background=True), text))
    return lines + _val_line(palette, show_val, "")


def legend_curve(
    boundary: Any, palette: Palette | None, show_val: bool, bg: RGB
) -> list[LegendLine]:
    """The fitted line and the data, for each output."""
    lines = [_step_line(boundary)]
    n = _outputs(boundary)
    for output in range(n):
        suffix = f" {output + 1}" if n > 1 else ""
        if palette is None:
            lines.append((MONO_FIT, MONO_STYLES[BOLD], "fit" + suffix))
            lines.append((MONO_DATA, Style(), "data" + suffix))
        else:
            data, fit = curve_colors(output, palette)
            lines.append(("━", _color_style(fit), "fit" + suffix))
            lines.append((SWATCH, _color_style(data), "data" + suffix))
    return lines + _val_line(palette, show_val, MONO_DATA)


# -------------------------------------------------------------------- the kinds


@dataclass(frozen=True)
class Kind:
    """How one kind of boundary is drawn."""

    square: bool  # the inputs on both axes: one data unit as long across as down
    extent: Callable[[Any], Extent]
    paint: Callable[[Any, View, Palette, RGB, bool], Painting]
    mono: Callable[[Any, View, bool], Characters]
    legend: Callable[[Any, Palette | None, bool, RGB], list[LegendLine]]


KINDS = Registry[Kind]("boundary kind")
KINDS.add("classes", Kind(True, plane_extent, paint_classes, mono_classes, legend_classes))
KINDS.add("values", Kind(True, plane_extent, paint_values, mono_values, legend_values))
KINDS.add("curve", Kind(False, curve_extent, paint_curve, mono_curve, legend_curve))


# ---------------------------------------------------------------------- ticks


def nice_ticks(lo: float, hi: float, max_ticks: int) -> tuple[list[float], float]:
    """The most round numbers (1, 2 or 5 times a power of ten apart) in [lo, hi], at most
    max_ticks of them, and their spacing."""
    if not hi > lo or not math.isfinite(hi - lo) or max_ticks < 1:
        return [], 1.0
    power = 10.0 ** math.floor(math.log10((hi - lo) / max_ticks))
    for step in (m * power for m in (1, 2, 5, 10, 20, 50, 100)):
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        if last - first + 1 <= max_ticks:
            return [k * step for k in range(first, last + 1)], step
    return [], 1.0


def format_tick(value: float, step: float) -> str:
    """As many decimals as the spacing needs; never "-0"."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:.{decimals}f}"
    return f"{0.0:.{decimals}f}" if float(text) == 0 else text


@dataclass(frozen=True)
class Ticks:
    """Tick labels by the cell (row or column) they mark."""

    at: tuple[tuple[int, str], ...]

    @property
    def width(self) -> int:
        return max((len(label) for _, label in self.at), default=0)


def y_ticks(view: View, row_step: int) -> Ticks:
    """About one tick every Y_TICK_SPACING rows, each on the row its value falls in."""
    rows = view.rows // row_step
    bottom = view.top - view.rows * view.dy
    for count in range(max(3, rows // Y_TICK_SPACING + 1), 1, -1):
        values, step = nice_ticks(bottom, view.top, count)
        at = {min(rows - 1, view.row_of(v) // row_step): format_tick(v, step) for v in values}
        if len(at) >= 2 or count == 2:
            return Ticks(tuple(sorted(at.items())))
    return Ticks(())


def label_offset(label: str) -> int:
    """Where a label starts left of its tick: the number centred, a minus sign before it."""
    number = label.lstrip("-")
    return len(label) - len(number) + (len(number) - 1) // 2


def x_ticks(view: View) -> Ticks:
    """About one tick every X_TICK_SPACING columns, their labels two apart at least."""
    right = view.left + view.cols * view.dx
    for count in range(max(3, view.cols // X_TICK_SPACING + 1), 1, -1):
        values, step = nice_ticks(view.left, right, count)
        labels = [(min(view.cols - 1, view.col_of(v)), format_tick(v, step)) for v in values]
        starts = [col - label_offset(label) for col, label in labels]
        ends = [start + len(label) for start, (_, label) in zip(starts, labels, strict=True)]
        apart = all(ends[i] + 2 <= starts[i + 1] for i in range(len(labels) - 1))
        if apart and (len(labels) >= 2 or count == 2):
            return Ticks(tuple(labels))
    return Ticks(())


# --------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Frame:
    """Where the parts go, in cells: y labels and axis at the left, the picture, the legend
    beside or above it, the x axis and its labels below."""

    view: View
    row_step: int  # pixels a cell holds vertically: 2 with half blocks, 1 without colour
    left: int  # columns before the picture: the y labels and the axis
    below: int  # rows under it: the x axis and its labels, 1 when they share the row, 0
    legend: str  # "right", "top" or "none"

    @property
    def axes(self) -> bool:
        return self.below > 0

    @property
    def cols(self) -> int:
        return self.view.cols

    @property
    def rows(self) -> int:
        return self.view.rows // self.row_step


def frame(
    kind: Kind, extent: Extent, width: int, height: int, legend: list[LegendLine], row_step: int
) -> Frame:
    """The arrangement that shows the legend and gives the picture the most pixels."""
    if width < AXES_MIN[0] or height < AXES_MIN[1]:
        return Frame(_fit(kind, extent, width, height, row_step), row_step, 0, 0, "none")
    label_width = 1
    for _ in range(3):  # the labels' width depends on the ticks, which depend on the view
        best = _arrange(kind, extent, width, height, legend, row_step, label_width + 1)
        needed = y_ticks(best.view, row_step).width
        if needed <= label_width:
            break
        label_width = needed
    return best


def _arrange(
    kind: Kind,
    extent: Extent,
    width: int,
    height: int,
    legend: list[LegendLine],
    row_step: int,
    left: int,
) -> Frame:
    below = 2 if height >= SPLIT_AXIS_HEIGHT else 1
    beside = width - left - _legend_width(legend) - 1
    options = []
    if legend and beside >= 1:
        right = Frame(
            _fit(kind, extent, beside, height - below, row_step), row_step, left, below, "right"
        )
        if len(legend) <= right.rows + below:
            options.append(right)
    if legend and height - below - 1 >= 1:
        top = _fit(kind, extent, width - left, height - below - 1, row_step)
        options.append(Frame(top, row_step, left, below, "top"))
    if not options:
        none = _fit(kind, extent, width - left, height - below, row_step)
        return Frame(none, row_step, left, below, "none")
    return max(options, key=lambda option: option.cols * option.rows)  # the first of equals


def _fit(kind: Kind, extent: Extent, cols: int, rows: int, row_step: int) -> View:
    if kind.square:
        return square_view(extent, cols, rows * row_step, CELL_ASPECT / row_step, row_step)
    return fill_view(extent, cols, rows * row_step)


def _legend_width(legend: list[LegendLine]) -> int:
    return min(LEGEND_WIDTH, max((len(_legend_text(line)) for line in legend), default=0))


def _legend_text(line: LegendLine) -> str:
    swatch, _, text = line
    return f"{swatch} {text}" if swatch else text


# ------------------------------------------------------------- terminal cells


@lru_cache(maxsize=4096)
def _cell_style(cell: bytes) -> Style:
    return Style(color=f"#{cell[:3].hex()}", bgcolor=f"#{cell[3:6].hex()}")


def _runs(keys: Array) -> list[tuple[int, int]]:
    """(start, end) of each run of equal rows of `keys`: equal cells merge into one
    segment, fewer to build, diff and send."""
    changes = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    starts = np.concatenate([[0], changes]).astype(int)
    ends = np.append(changes, len(keys)).astype(int)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def colour_rows(painting: Painting) -> list[list[Segment]]:
    """Two pixel rows a line: '▀' in the top pixel's colour on the bottom pixel's colour;
    a validation glyph in its colour on the region under it."""
    pixels = np.clip(np.rint(painting.pixels), 0, 255).astype(np.uint8)
    under = np.clip(np.rint(painting.under), 0, 255).astype(np.uint8)
    if len(pixels) % 2:
        pixels, under = (np.concatenate([a, a[-1:]], axis=0) for a in (pixels, under))
    top, bottom = pixels[0::2].copy(), pixels[1::2].copy()
    glyph = np.zeros(top.shape[:2], dtype=np.uint8)
    row, col, color = painting.marks
    top[row // 2, col] = np.clip(np.rint(color), 0, 255).astype(np.uint8)
    bottom[row // 2, col] = under[row, col]
    glyph[row // 2, col] = 1
    cells = np.concatenate([top, bottom, glyph[..., None]], axis=2)  # (rows, cols, 7)
    return [
        [
            Segment(
                (VAL_GLYPH if line[start, 6] else HALF_BLOCK) * (end - start),
                _cell_style(line[start, :6].tobytes()),
            )
            for start, end in _runs(line)
        ]
        for line in cells
    ]


def mono_rows(pic: Characters, base: Style) -> list[list[Segment]]:
    """One character a cell; training points bold, validation points reversed."""
    styles = {key: base + style for key, style in MONO_STYLES.items()}
    return [
        [
            Segment("".join(chars[start:end]), styles[int(kinds[start])])
            for start, end in _runs(kinds[:, None])
        ]
        for chars, kinds in zip(pic.chars, pic.style, strict=True)
    ]


def _legend_segments(line: LegendLine, width: int, base: Style) -> list[Segment]:
    swatch, style, text = line
    if not swatch:
        return [Segment(_cut(text, width), base)]
    return [Segment(swatch, base + style), Segment(_cut(" " + text, width - len(swatch)), base)]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _legend_top(legend: list[LegendLine], width: int, base: Style) -> list[Segment]:
    """As many legend entries as fit on one line."""
    segments: list[Segment] = []
    used = 0
    for line in legend:
        needed = len(_legend_text(line)) + (2 if segments else 0)
        if used + needed > width:
            break
        if segments:
            segments.append(Segment("  ", base))
        segments.extend(_legend_segments(line, needed, base))
        used += needed
    return segments


def _with_y_axis(f: Frame, picture: list[list[Segment]], base: Style) -> list[list[Segment]]:
    if not f.axes:
        return picture
    labels = dict(y_ticks(f.view, f.row_step).at)
    return [
        [
            Segment(labels.get(row, "").rjust(f.left - 1) + ("┤" if row in labels else "│"), base),
            *line,
        ]
        for row, line in enumerate(picture)
    ]


def _x_axis(f: Frame, base: Style) -> list[list[Segment]]:
    """The axis line with its tick marks and the labels centred under them; on a short
    widget the labels sit on the line itself."""
    axis = list(" " * (f.left - 1) + "└" + "─" * f.cols)
    labels = list(" " * len(axis))
    on_line = f.below == 1
    for col, label in x_ticks(f.view).at:
        axis[f.left + col] = "┬"
        row = axis if on_line else labels
        lowest = f.left if on_line else 0
        start = max(lowest, min(f.left + col - label_offset(label), len(row) - len(label)))
        row[start : start + len(label)] = label
    lines = [axis] if on_line else [axis, labels]
    return [[Segment("".join(line), base)] for line in lines]


def compose(
    boundary: Any,
    width: int,
    height: int,
    palette: Palette | None,
    show_val: bool,
    base: Style,
    background: RGB,
) -> list[Strip]:
    """The whole widget: the picture with its axes and legend, centred in width x height."""
    kind = KINDS[boundary.kind]
    row_step = 1 if palette is None else 2
    legend = kind.legend(boundary, palette, show_val, background)
    f = frame(kind, kind.extent(boundary), width, height, legend, row_step)
    if palette is None:
        picture = mono_rows(kind.mono(boundary, f.view, show_val), base)
    else:
        picture = colour_rows(kind.paint(boundary, f.view, palette, background, show_val))
    body = _with_y_axis(f, picture, base) + (_x_axis(f, base) if f.axes else [])
    main = f.left + f.cols  # the picture and its axes
    lines = [Strip(line).adjust_cell_length(main, base) for line in body]
    legend_width = _legend_width(legend)
    if f.legend == "right":
        for i, line in enumerate(legend[: len(lines)]):
            segments = [Segment(" ", base), *_legend_segments(line, legend_width, base)]
            lines[i] = Strip([*lines[i], *segments])
        main += 1 + legend_width
    if f.legend == "top":
        lines.insert(0, Strip(_legend_top(legend, width, base)))
        main = max(main, lines[0].cell_length)
    off_x, off_y = max(0, (width - main) // 2), max(0, (height - len(lines)) // 2)
    blank = Strip.blank(width, base)
    margin = [Segment(" " * off_x, base)] if off_x else []
    shown = [Strip([*margin, *line]).adjust_cell_length(width, base) for line in lines]
    return ([blank] * off_y + shown + [blank] * height)[:height]


# --------------------------------------------------------------------- widget


class DecisionBoundary(Widget):
    """Shows `snapshot.boundary`; call `refresh_from(snapshot)` at the poll rate."""

    DEFAULT_CSS = """
    DecisionBoundary {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._throttle = Throttle(self, self._show_pending, MIN_INTERVAL, clock)
        self._boundary: Any = None
        self._pending: tuple[Any] | None = None  # (the boundary to show next,) when held back
        self._strips: list[Strip] | None = None
        self._strips_size: Size | None = None
        self._show_val = False
        self.builds = 0  # how many times the picture was rebuilt (tests, benchmark)

    @property
    def boundary(self) -> Any:
        return self._boundary

    @property
    def show_validation(self) -> bool:
        return self._show_val

    def toggle_validation(self) -> None:
        """Show or hide the validation points."""
        self._show_val = not self._show_val
        self._strips = None
        self.refresh()

    def refresh_from(self, snapshot: Any) -> None:
        """Take the snapshot's boundary; rebuild at most every MIN_INTERVAL seconds."""
        boundary = getattr(snapshot, "boundary", None)
        latest = self._boundary if self._pending is None else self._pending[0]
        if boundary is not latest or _step(boundary) != _step(latest):
            self._pending = (boundary,)
        if self._pending is None:
            return
        # Held, it stays pending: a later poll or the throttle's timer shows it.
        self._throttle.request()

    def _show_pending(self) -> None:
        if self._pending is None:
            return
        (self._boundary,) = self._pending
        self._pending = None
        self._throttle.drew()
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        size = self.size
        if self._strips is None or self._strips_size != size:
            self._strips = self._build(size)
            self._strips_size = size
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(size.width, self.rich_style)

    def _build(self, size: Size) -> list[Strip]:
        if self._boundary is None or size.width == 0 or size.height == 0:
            # None also before a run's first picture: say what has one, not why.
            text = NO_PICTURE if self._boundary is None else ""
            return self._message(size, text)
        self.builds += 1
        return compose(
            self._boundary,
            size.width,
            size.height,
            self.palette(),
            self._show_val,
            self.rich_style,
            self._background(),
        )

    def palette(self) -> Palette | None:
        """The colours the terminal shows well; None: no colour (NO_COLOR, or none at all)."""
        if self.app.no_color:
            return None
        return PALETTES.get(self.app.console.color_system, TRUE_COLOR)

    def _message(self, size: Size, text: str) -> list[Strip]:
        line = text.center(size.width)[: size.width]
        middle = size.height // 2
        return [
            Strip([Segment(line if y == middle else " " * size.width, self.rich_style)], size.width)
            for y in range(size.height)
        ]

    def _background(self) -> RGB:
        color = self.background_colors[1]
        if color.a == 0:
            return DEFAULT_BACKGROUND
        return color.rgb


def _step(boundary: Any) -> int | None:
    return None if boundary is None else int(boundary.step)
