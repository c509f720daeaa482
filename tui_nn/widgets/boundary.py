"""The decision boundary: the network's prediction over the input plane, points on top.

Each terminal cell shows two square-ish pixels with an upper half block: '▀' with the
top pixel as foreground and the bottom pixel as background. A class region is its
class colour blended toward the background by confidence, so the boundary shows as
a fade to the background; training points are drawn in the full colour of their class.
Regression uses a diverging map of the prediction. Without colour (NO_COLOR) each cell
is a character instead: a shade per class, blank where unsure, the class digit for a point.

The pixel maths are plain functions over NumPy arrays (tested without a terminal);
the widget only caches the strips and throttles rebuilds to twice a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

Array = np.ndarray
RGB = tuple[int, int, int]

MIN_INTERVAL = 0.5  # seconds between rebuilds: at most twice a second
REGION_STRENGTH = 0.55  # a fully confident region is this far from background to class colour
POINT_LIGHTEN = 0.2  # points are their class colour lifted toward white, to stand out
UNSURE = 0.2  # below this confidence (0 chance .. 1 certain) a no-colour cell stays blank
# Blend steps from background to full region colour. Few steps make runs of equal cells,
# so fewer segments and escape codes per frame (SSH); they read as confidence contours.
LEVELS = 8

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
MONO_CLASS_CHARS = ("·", "░", "▒", "▓", ":", "+", "=", "~", "-", "'")
MONO_RAMP = " .:-=+*#%@"  # regression without colour: low to high
POINT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"

DEFAULT_BACKGROUND: RGB = (30, 30, 30)


# --------------------------------------------------------------- pixel maths


def _as_rgb(colors: tuple[RGB, ...]) -> Array:
    return np.array(colors, dtype=np.float64)


def sample_grid(probs: Array, ys: Array, rows: int, cols: int) -> Array:
    """Nearest-neighbour resample of (height, width, C) to (rows, cols, C), top row = largest y."""
    if len(ys) > 1 and ys[0] < ys[-1]:
        probs = probs[::-1]  # grid row 0 is the smallest y; the screen's row 0 is the top
    h, w = probs.shape[:2]
    r = np.minimum(((np.arange(rows) + 0.5) * h / rows).astype(int), h - 1)
    c = np.minimum(((np.arange(cols) + 0.5) * w / cols).astype(int), w - 1)
    return probs[r][:, c]


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


def blend(background: RGB, colors: Array, amount: Array) -> Array:
    """Mix each colour with the background: amount 0 is background, 1 is the colour."""
    bg = np.array(background, dtype=np.float64)
    return bg + (colors - bg) * amount[..., None]


def classify_pixels(probs: Array, background: RGB) -> Array:
    """(rows, cols, C) probabilities -> (rows, cols, 3) RGB floats."""
    winner, conf = confidence(class_probs(probs))
    palette = _as_rgb(CLASS_COLORS)
    return blend(background, palette[winner % len(palette)], REGION_STRENGTH * quantize(conf))


def quantize(amount: Array) -> Array:
    """Round a 0..1 amount to LEVELS steps."""
    return np.rint(amount * LEVELS) / LEVELS


def value_range(values: Array, targets: Array) -> tuple[float, float]:
    """The range the regression colour map spans: predictions and targets, finite only."""
    both = np.concatenate([np.ravel(values), np.ravel(targets)])
    both = both[np.isfinite(both)]
    if not len(both):
        return 0.0, 1.0
    lo, hi = float(both.min()), float(both.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def diverging(values: Array, lo: float, hi: float, background: RGB, strength: float) -> Array:
    """Values -> RGB: the middle of [lo, hi] is background, the ends are blue and red."""
    t = np.clip(np.nan_to_num((values - lo) / (hi - lo) * 2.0 - 1.0), -1.0, 1.0)
    ends = np.where((t < 0)[..., None], _as_rgb((DIVERGING_LOW,)), _as_rgb((DIVERGING_HIGH,)))
    return blend(background, ends, strength * quantize(np.abs(t)))


def regress_pixels(values: Array, lo: float, hi: float, background: RGB) -> Array:
    return diverging(values[..., 0], lo, hi, background, REGION_STRENGTH)


def point_cells(
    points: Array, xs: Array, ys: Array, rows: int, cols: int
) -> tuple[Array, Array, Array]:
    """Pixel (row, col) of each point inside the grid's extent, and which points those are."""
    if not len(points) or len(xs) < 2 or len(ys) < 2:
        empty = np.zeros(0, dtype=int)
        return empty, empty, empty
    x0, x1 = float(np.min(xs)), float(np.max(xs))
    y0, y1 = float(np.min(ys)), float(np.max(ys))
    fx = (points[:, 0] - x0) / (x1 - x0)
    fy = (y1 - points[:, 1]) / (y1 - y0)  # top row is the largest y
    inside = (fx >= 0) & (fx <= 1) & (fy >= 0) & (fy <= 1) & np.isfinite(fx) & np.isfinite(fy)
    col = np.minimum((fx[inside] * cols).astype(int), cols - 1)
    row = np.minimum((fy[inside] * rows).astype(int), rows - 1)
    return row, col, np.flatnonzero(inside)


def point_labels(labels: Any) -> Array:
    """One label per point: a class id, or the first target of a (n, t) regression target."""
    labels = np.asarray(labels)
    return labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels


def point_colors(labels: Array, task: str, lo: float, hi: float) -> Array:
    """Full-strength colours for the points: their class, or their target on the map."""
    if task == "regression":
        white: RGB = (255, 255, 255)
        return diverging(labels.astype(np.float64), lo, hi, white, 1.0)
    palette = _as_rgb(CLASS_COLORS)
    base = palette[labels.astype(int) % len(palette)]
    return base + (255.0 - base) * POINT_LIGHTEN


def boundary_pixels(boundary: Any, task: str, cols: int, rows: int, background: RGB) -> Array:
    """The whole picture as (rows, cols, 3) uint8 RGB: regions, then points on top."""
    probs = sample_grid(np.asarray(boundary.probs, dtype=np.float64), boundary.ys, rows, cols)
    labels = point_labels(boundary.labels)
    lo, hi = value_range(boundary.probs, labels) if task == "regression" else (0.0, 1.0)
    if task == "regression":
        pixels = regress_pixels(probs, lo, hi, background)
    else:
        pixels = classify_pixels(probs, background)
    row, col, which = point_cells(np.asarray(boundary.points), boundary.xs, boundary.ys, rows, cols)
    pixels[row, col] = point_colors(labels[which], task, lo, hi)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


# ------------------------------------------------------------- to terminal cells


def half_block_strips(pixels: Array) -> list[Strip]:
    """Two pixel rows per line: '▀' in the top pixel's colour on the bottom pixel's colour."""
    rows, cols = pixels.shape[:2]
    if rows % 2:
        pixels = np.concatenate([pixels, pixels[-1:]], axis=0)
    strips = []
    for r in range(0, rows, 2):
        pair = np.concatenate([pixels[r], pixels[r + 1]], axis=1)  # (cols, 6): top rgb, bottom rgb
        # Merge runs of equal cells: fewer segments to build, diff and send.
        changes = np.flatnonzero(np.any(pair[1:] != pair[:-1], axis=1)) + 1
        starts = np.concatenate([[0], changes])
        ends = np.append(changes, cols)
        segments = [
            Segment("▀" * int(end - start), _half_block_style(pair[start].tobytes()))
            for start, end in zip(starts, ends, strict=True)
        ]
        strips.append(Strip(segments, cols))
    return strips


@lru_cache(maxsize=4096)
def _half_block_style(cell: bytes) -> Style:
    t, b = cell[:3], cell[3:]
    return Style(color=f"#{t.hex()}", bgcolor=f"#{b.hex()}")


def mono_chars(boundary: Any, task: str, cols: int, rows: int) -> list[str]:
    """One character per cell for NO_COLOR: class shades, blank where unsure, point labels."""
    probs = sample_grid(np.asarray(boundary.probs, dtype=np.float64), boundary.ys, rows, cols)
    labels = point_labels(boundary.labels)
    if task == "regression":
        lo, hi = value_range(boundary.probs, labels)
        level = np.clip((probs[..., 0] - lo) / (hi - lo), 0.0, 1.0)
        index = np.rint(np.nan_to_num(level) * (len(MONO_RAMP) - 1)).astype(int)
        grid = np.array(list(MONO_RAMP))[index]
        point_char = np.full(len(labels), "o")
    else:
        winner, conf = confidence(class_probs(probs))
        grid = np.array(MONO_CLASS_CHARS)[winner % len(MONO_CLASS_CHARS)]
        grid[conf < UNSURE] = " "
        point_char = np.array(list(POINT_CHARS))[labels.astype(int) % len(POINT_CHARS)]
    row, col, which = point_cells(np.asarray(boundary.points), boundary.xs, boundary.ys, rows, cols)
    grid[row, col] = point_char[which]
    return ["".join(line) for line in grid]


def mono_strips(lines: list[str], base: Style) -> list[Strip]:
    bold = base + Style(bold=True)
    strips = []
    for line in lines:
        # Point labels in bold, the regions plain: still readable on a monochrome screen.
        segments = [Segment(ch, bold if ch in POINT_CHARS or ch == "o" else base) for ch in line]
        strips.append(Strip(Segment.simplify(segments), len(line)))
    return strips


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
        self._clock = clock
        self._boundary: Any = None
        self._shown_task = "classification"
        self._pending: tuple[Any, str] | None = None
        self._shown_at = -MIN_INTERVAL
        self._strips: list[Strip] | None = None
        self._strips_size: Size | None = None
        self._deferred: Timer | None = None
        self.builds = 0  # how many times the picture was rebuilt (tests, benchmark)

    @property
    def boundary(self) -> Any:
        return self._boundary

    def refresh_from(self, snapshot: Any) -> None:
        """Take the snapshot's boundary; rebuild at most every MIN_INTERVAL seconds."""
        boundary = getattr(snapshot, "boundary", None)
        task = str(getattr(snapshot, "task", "classification"))
        if boundary is not self._boundary or task != self._shown_task:
            self._pending = (boundary, task)
        if self._pending is None:
            return
        wait = self._shown_at + MIN_INTERVAL - self._clock()
        if wait > 0:
            # Kept pending: a later poll or this timer shows it, even if the run stopped.
            if self._deferred is None:
                self._deferred = self.set_timer(wait, self._show_pending)
            return
        self._show_pending()

    def _show_pending(self) -> None:
        self._deferred = None
        if self._pending is None:
            return
        self._boundary, self._shown_task = self._pending
        self._pending = None
        self._shown_at = self._clock()
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
            return self._message(size, "no 2-D data to draw" if self._boundary is None else "")
        self.builds += 1
        if self.app.no_color:
            chars = mono_chars(self._boundary, self._shown_task, size.width, size.height)
            return mono_strips(chars, self.rich_style)
        pixels = boundary_pixels(
            self._boundary, self._shown_task, size.width, 2 * size.height, self._background()
        )
        return half_block_strips(pixels)

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
