"""Charts: every plot the lab draws, and the only module that talks to plotext.

A plot is a `Figure`: a header (the title and the legend), plotext's canvas with a left
and a bottom axis, and, when the run has marks (a learning-rate change, a reset), a row
under the x axis that names them. Legend and labels sit outside the canvas, so they
never cover data. The PlotsPanel widget (tui_nn.widgets.plots) keeps a `Plot` a tab
(`new_plot`), hands it with a `PlotInput` to `render` and shows the text it returns.

Three plotext facts shape the code:
- plotext draws in Python, linear in the number of points (about 7 ms a plot at 100
  points a line, 300 ms at 10,000), so every series is reduced to about twice the
  plot's width before it is drawn (`reduce_minmax`, `envelope`).
- plotext's log axis raises "math domain error" on the second `build()`, so log plots
  draw log10 of the value on a linear axis and label the ticks themselves.
- plotext writes a tick label on the row nearest its value: on a short canvas labels
  share a row or sit half a row off (an axis read 100/50/25/0 on evenly spaced rows).
  So the y axis is stretched a little until every tick falls exactly on a row
  (`aligned_axis`), or keeps only the ticks within a quarter row of theirs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual_plotext import Plot

from engine.nn.activations import facts  # the lecture's static facts; no run is touched

Array = np.ndarray
RGB = tuple[int, int, int]

LOG_FLOOR = 1e-12  # a log plot whose values are all zero draws them here
MIN_DECADES = 1.0  # a log axis spans at least this many decades
FLOOR_DECADES = 3  # zeros (and tinier values) are drawn this many decades under the lines
UPDATE_RATIO_REFERENCE = 1e-3  # CS231n: a healthy update/weight ratio is about 1e-3
COVERED = 0.9  # a line hidden on this share of its cells "lies under" the lines on top

# Colours for lines, in the order lines are added; muted enough for dark and light themes.
PALETTE: tuple[RGB, ...] = (
    (86, 156, 214),  # blue
    (229, 142, 38),  # orange
    (106, 190, 48),  # green
    (214, 90, 90),  # red
    (170, 120, 220),  # purple
    (60, 190, 190),  # cyan
    (220, 200, 60),  # yellow
    (200, 120, 170),  # pink
    (150, 150, 150),  # grey
    (160, 110, 60),  # brown
)
TRAIN, VAL, REFERENCE = 0, 1, 8  # palette (and no-colour marker) indices: blue, orange, grey
# A line is its colour and its marker: lines 0-9 are braille (2x4 dots a cell, the finest
# line plotext draws), 10-19 hd blocks (2x2), 20-29 dots, so no two of 30 lines look alike.
LINE_MARKERS: tuple[str, ...] = ("braille", "hd", "dot")
# Without colour (NO_COLOR) lines are told apart by their marker character instead.
MONO_MARKERS: tuple[str, ...] = tuple("•+xo*#@%=~&$^v<>?!:;")
BAND_MARKER = "dot"  # the band touches the most cells: single-cell dots cost the least
GLYPHS: dict[str, str] = {"braille": "⠤⠤", "hd": "▄▄", "dot": "••"}  # a marker in a key
MARK_COLOURS: dict[str, RGB] = {"lr": (220, 200, 60), "config": (170, 120, 220)}
MARK_COLOUR = (214, 90, 90)  # a reset, and any other kind of mark


def line_style(index: int, color: bool) -> tuple[RGB | None, str]:
    """The colour (None without colour) and plotext marker of line number `index`."""
    if not color:
        return None, MONO_MARKERS[index % len(MONO_MARKERS)]
    n = len(PALETTE)
    return PALETTE[index % n], LINE_MARKERS[(index // n) % len(LINE_MARKERS)]


def _look(line: Line, color: bool) -> tuple[RGB | None, str]:
    """How a line is drawn: its style, or for a band its colour faded, in dots."""
    rgb, marker = line_style(line.index, color)
    if line.dim and rgb is not None:
        return _faded(rgb), BAND_MARKER
    return rgb, marker


def _rich(rgb: RGB | None) -> str | None:
    return None if rgb is None else f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"


def _faded(rgb: RGB) -> RGB:
    """Halfway to grey: visible on dark and light themes, behind the full-colour lines."""
    return (
        (rgb[0] + 128) // 2,
        (rgb[1] + 128) // 2,
        (rgb[2] + 128) // 2,
    )


class SeriesLike(Protocol):
    """engine.train.history.Series: per point, the step and the mean/min/max of its bucket."""

    steps: Array
    mean: Array
    min: Array
    max: Array


class MarkLike(Protocol):
    """tui_nn.core.runner.Mark: where something changed in the run, and what."""

    step: int
    kind: str  # "lr", "config", "reset"
    label: str  # e.g. "lr 0.05"


SeriesReader = Callable[[str, int], SeriesLike]
ManyReader = Callable[[tuple[str, ...], int], list[SeriesLike]]


# ------------------------------------------------------------------ reduction


def reduce_minmax(
    steps: Array, lo: Array, hi: Array, n_buckets: int, mean: Array | None = None
) -> tuple[Array, Array, Array, Array]:
    """Bucket points by step into n_buckets equal step ranges: (steps, mean, min, max).

    Buckets are equal in step, not in index, because the x axis is linear in steps and
    a multi-resolution history holds old steps more coarsely than new ones. Each bucket
    keeps its first step, the min of `lo`, the max of `hi` and the average of `mean`
    (of lo and hi when no mean is given); empty buckets are dropped. At most n_buckets
    points come out, so drawing cost no longer depends on the length of the run.
    """
    steps = np.asarray(steps, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    mid = (lo + hi) / 2 if mean is None else np.asarray(mean, dtype=np.float64)
    if len(steps) <= n_buckets or n_buckets < 1:
        return steps, mid, lo, hi
    edges = np.linspace(steps[0], steps[-1], n_buckets + 1)[:-1]
    starts = np.unique(np.searchsorted(steps, edges, side="left"))
    starts = starts[starts < len(steps)]
    counts = np.diff(np.append(starts, len(steps)))
    return (
        steps[starts],
        np.add.reduceat(mid, starts) / counts,
        np.minimum.reduceat(lo, starts),
        np.maximum.reduceat(hi, starts),
    )


def envelope(steps: Array, lo: Array, hi: Array) -> tuple[Array, Array]:
    """Two points per bucket, min then max at the same step: a line that shows the spread.

    Drawn as one line it fills each bucket's range with a vertical stroke, so a spike
    (a diverging step, a noisy minibatch) stays visible however long the run.
    """
    x = np.repeat(steps, 2)
    y = np.empty(2 * len(steps))
    y[0::2], y[1::2] = lo, hi
    return x, y


def ema(steps: Array, values: Array, beta: float) -> Array:
    """Exponential moving average over steps (TensorBoard's smoothing, weight `beta` on
    the past). A point n steps after the last one moves beta**n of the way less, so a
    bucket of a reduced series counts as the steps it holds: the smoothing means the
    same at any zoom and run length. Non-finite values are skipped."""
    out = np.array(values, dtype=np.float64)
    level, last = math.nan, 0.0
    for i, (step, value) in enumerate(zip(steps.tolist(), out.tolist(), strict=True)):
        if math.isfinite(value):
            if math.isfinite(level):
                keep = beta ** max(step - last, 1.0)
                level = keep * level + (1.0 - keep) * value
            else:
                level = value
            last = step
        out[i] = level
    return out


# ---------------------------------------------------------------------- ticks


def format_log_tick(exponent: float) -> str:
    """Label a log10 value as the number it means: -3 -> '1e-3', 0 -> '1', log10(50) -> '50'."""
    value = 10.0**exponent
    if 0.01 <= value < 1000:
        return f"{value:.3g}"
    k = math.floor(exponent + 1e-9)
    mantissa = float(f"{10.0 ** (exponent - k):.2g}")
    if mantissa >= 10:  # 9.99e-4 rounds up to 1e-3
        mantissa, k = 1.0, k + 1
    return f"{mantissa:g}e{k}"


def format_steps(value: float) -> str:
    """A step count as people say it: 500, 2.5k, 1M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


def round_up(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least value (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-9))


def step_ticks(first: float, last: float, max_ticks: int = 5) -> tuple[list[float], list[str]]:
    """Round-number ticks (1, 2, 2.5, 5 times a power of ten) over a range of steps.

    Steps are whole numbers, so ticks are at least one step apart: a 2-step run reads
    0 1 2, never 1 1 1 2 2 2.
    """
    span = last - first
    if span <= 0:
        return [first], [format_steps(first)]
    raw = max(1.0, span / max(1, max_ticks - 1))
    power = 10.0 ** math.floor(math.log10(raw))
    nice = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    step = next(m * power for m in nice if m * power >= raw)
    start = math.ceil(first / step) * step
    ticks = [float(t) for t in np.arange(start, last + step * 1e-9, step)]
    return ticks, [format_steps(t) for t in ticks]


def row_of(value: float, lo: float, hi: float, rows: int) -> float:
    """Where plotext puts a value on an axis of `rows` rows (0 at the bottom), unrounded:
    it draws the value's tick label on the nearest row."""
    return (rows - 1) * (value - lo) / (hi - lo)


def aligned_axis(
    lo: float, hi: float, rows: int, steps: Sequence[float], min_fill: float = 0.75
) -> tuple[float, float, list[float]] | None:
    """An axis [a, b] holding [lo, hi] on which every multiple of a tick step falls
    exactly on a row, ticks at least two rows apart: (a, b, ticks), or None when no step
    gives two ticks with the data filling min_fill of the axis. Three to six ticks are
    preferred, then the fullest axis, then more ticks."""
    span = hi - lo
    if rows < 3 or span <= 0:
        return None
    found = []
    for step in steps:
        # k rows a tick: the largest k whose axis still reaches hi.
        for k in range(math.floor((rows - 1) * step / span + 1e-9), 1, -1):
            unit = step / k
            a = math.floor(lo / unit + 1e-9) * unit
            b = a + (rows - 1) * unit
            if b < hi - 1e-9 * max(1.0, abs(hi)):
                continue
            first = math.ceil(a / step - 1e-9)
            ticks = [j * step for j in range(first, math.floor(b / step + 1e-9) + 1)]
            fill = span / (b - a)
            if len(ticks) >= 2 and fill >= min_fill:
                found.append(((3 <= len(ticks) <= 6, round(fill, 2), len(ticks)), (a, b, ticks)))
            break
    return max(found, key=lambda f: f[0])[1] if found else None


def near_rows(candidates: Sequence[float], lo: float, hi: float, rows: int) -> list[float]:
    """The candidates within a quarter row of a row, in order of preference (earlier
    ones first), at least two rows apart (a sixth of the axis on a tall one); sorted."""
    gap = max(2, rows // 6)
    taken: list[float] = []
    for t in candidates:
        pos = row_of(t, lo, hi, rows)
        if not -0.25 <= pos <= rows - 0.75 or abs(pos - round(pos)) > 0.25:
            continue
        if all(abs(round(pos) - round(row_of(u, lo, hi, rows))) >= gap for u in taken):
            taken.append(t)
    return sorted(taken)


@dataclass(frozen=True)
class Axis:
    """How the y axis reads: log10 of the values with number labels, or linear over a
    fixed range (percent) with a unit after each label."""

    log: bool = False
    limits: tuple[float, float] | None = None  # the range a linear value can take
    unit: str = ""
    steps: tuple[float, ...] = (1, 2, 3, 5, 10, 20, 50, 100)  # tick steps (decades if log)


MANTISSAS = (1, 2, 5, 3, 4, 6, 7, 8, 9)  # log ticks' leading digits, the roundest first
PERCENT = Axis(limits=(0.0, 100.0), unit="%", steps=(10, 20, 25, 50, 100))
LOG = Axis(log=True)


def y_axis(axis: Axis, lo: float, hi: float, rows: int) -> tuple[float, float, list[float]]:
    """(bottom, top, ticks) of an axis of `rows` rows showing [lo, hi]: every tick within
    a quarter row of the row it is drawn on, no two closer than two rows."""
    if axis.limits is not None:
        lo, hi = axis.limits
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5  # one value: half a unit (a decade) either side
    if rows < 2:
        return lo, hi, []  # one row: any label would be half the axis off
    aligned = aligned_axis(lo, hi, rows, axis.steps)
    if aligned is not None:
        bottom, top, ticks = aligned
        if axis.limits is not None:  # no 120% above an axis that ends at 100%
            ticks = [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]
        return bottom, top, ticks
    if axis.log:
        # Decades first, then 2 and 5 times one, then the other digits: a narrow axis
        # still finds a round number near a row.
        powers = range(math.floor(lo), math.ceil(hi) + 1)
        candidates = [k + math.log10(m) for m in MANTISSAS for k in powers]
    else:  # the sparsest steps first: 0 and 100% before 50%, before 25%
        candidates = [
            float(t) for step in reversed(axis.steps) for t in np.arange(lo, hi + step / 2, step)
        ]
    ticks = near_rows(candidates, lo, hi, rows)
    if len(ticks) < 2:  # the top and bottom rows, labelled with their exact values
        ticks = near_rows([*ticks, hi, lo], lo, hi, rows)
    return lo, hi, ticks


def tick_label(value: float, axis: Axis) -> str:
    if axis.log:
        return format_log_tick(value)
    return f"{value:.3g}{axis.unit}"


# --------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class EvalColumns:
    """The run's evaluations as arrays, one entry (row) per EvalRecord."""

    step: Array = field(default_factory=lambda: np.zeros(0))
    train_loss: Array = field(default_factory=lambda: np.zeros(0))
    train_acc: Array = field(default_factory=lambda: np.zeros(0))
    val_loss: Array = field(default_factory=lambda: np.zeros(0))
    val_acc: Array = field(default_factory=lambda: np.zeros(0))
    dead: Array = field(default_factory=lambda: np.zeros((0, 0)))  # (evals, hidden layers)


# EvalColumns field -> engine EvalRecord attribute.
EVAL_FIELDS: dict[str, str] = {
    "step": "step",
    "train_loss": "train_loss",
    "train_acc": "train_accuracy",
    "val_loss": "val_loss",
    "val_acc": "val_accuracy",
}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


class EvalCache:
    """Turns the growing list of EvalRecords into arrays, converting only the new ones.

    The snapshot hands over the whole list each time; converting all of it would cost
    time in proportion to the run's length on every poll.
    """

    def __init__(self) -> None:
        self._run: Any = None
        self._columns = EvalColumns()

    def update(self, evals: Sequence[Any], run: Any = None) -> EvalColumns:
        have = len(self._columns.step)
        if run != self._run or len(evals) < have:
            self._run, have, self._columns = run, 0, EvalColumns()
        if len(evals) == have:  # nothing new (or nothing yet: no record says the layers)
            return self._columns
        new = evals[have:]
        columns = {}
        for name, attribute in EVAL_FIELDS.items():
            old = getattr(self._columns, name)[:have]
            added = np.array([_number(getattr(e, attribute)) for e in new], dtype=np.float64)
            columns[name] = np.concatenate([old, added])
        # Every record of a run counts the same hidden layers.
        dead = np.array([e.dead for e in new], dtype=np.float64).reshape(len(new), -1)
        if have:
            dead = np.concatenate([self._columns.dead[:have], dead])
        self._columns = EvalColumns(**columns, dead=dead)
        return self._columns


SMOOTHINGS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)  # EMA weights; 0 is off
ZOOMS: tuple[str, ...] = ("all", "first", "last")  # the whole run, its first or last tenth
ZOOM_SHARE = 10  # a zoom shows about 1/ZOOM_SHARE of the run, read at that much more detail
MIN_WINDOW = 10  # steps a zoom shows at least


@dataclass(frozen=True)
class View:
    """How the plots look at a run: its smoothing and its zoom (PlotsPanel cycles them)."""

    smoothing: float = 0.0  # EMA weight on the past, one of SMOOTHINGS
    zoom: str = "all"  # one of ZOOMS

    def next_smoothing(self) -> View:
        i = SMOOTHINGS.index(self.smoothing) if self.smoothing in SMOOTHINGS else -1
        return replace(self, smoothing=SMOOTHINGS[(i + 1) % len(SMOOTHINGS)])

    def next_zoom(self) -> View:
        i = ZOOMS.index(self.zoom) if self.zoom in ZOOMS else -1
        return replace(self, zoom=ZOOMS[(i + 1) % len(ZOOMS)])

    def window(self, step: int) -> tuple[float, float] | None:
        """The steps a zoom shows at a run of `step` steps, or None for the whole run:
        a round number of steps, about a tenth of the run."""
        if self.zoom not in ("first", "last"):
            return None
        n = max(float(MIN_WINDOW), round_up(max(step, 1) / ZOOM_SHARE))
        return (0.0, n) if self.zoom == "first" else (max(0.0, step - n), float(step))

    def describe(self, step: int) -> list[str]:
        """What the title says of the view, e.g. ["EMA 0.9", "last 200 steps"]."""
        parts = [f"EMA {self.smoothing:g}"] if self.smoothing else []
        window = self.window(step)
        if window is not None:
            parts.append(f"{self.zoom} {format_steps(window[1] - window[0])} steps")
        return parts


def _no_series(name: str, max_points: int) -> SeriesLike:
    raise LookupError(name)


@dataclass(frozen=True)
class PlotInput:
    """What the plots read from a run; built from a runner Snapshot or by hand in tests."""

    series: SeriesReader = _no_series  # snapshot.series: reads the history under its lock
    series_many: ManyReader | None = None  # snapshot.series_many: several under one lock
    evals: EvalColumns = field(default_factory=EvalColumns)
    n_layers: int = 0  # dense layers, the output layer last
    hidden: tuple[int, ...] = ()  # units per hidden layer
    activation: str = "relu"
    task: str = "classification"
    eval_every: int = 1  # 0: the run is never evaluated, so no dead units are counted
    step: int = 0  # steps done: where a zoom's window is
    marks: tuple[MarkLike, ...] = ()  # where the run changed, drawn on the x axis
    view: View = View()

    @classmethod
    def from_snapshot(cls, snapshot: Any, evals: EvalColumns, view: View = View()) -> PlotInput:
        return cls(
            series=snapshot.series if snapshot.has_history else _no_series,
            series_many=snapshot.series_many if snapshot.has_history else None,
            evals=evals,
            n_layers=int(snapshot.n_layers),
            hidden=tuple(int(h) for h in snapshot.config.model.hidden),
            activation=str(snapshot.activation),
            task=str(snapshot.task),
            eval_every=int(snapshot.config.training.eval_every),
            step=int(snapshot.step),
            marks=tuple(snapshot.marks),
            view=view,
        )

    def points(self, n_buckets: int) -> int:
        """How many points to read of a series so that n_buckets fall in the view."""
        return n_buckets * ZOOM_SHARE if self.view.window(self.step) else n_buckets


def _in_view(data: PlotInput, steps: Array, *columns: Array) -> tuple[Array, ...]:
    window = data.view.window(data.step)
    if window is None:
        return (steps, *columns)
    keep = (steps >= window[0]) & (steps <= window[1])
    return tuple(a[keep] for a in (steps, *columns))


def _prepare(data: PlotInput, s: SeriesLike, n_buckets: int) -> tuple[Array, ...]:
    """Smooth the means over the whole run (so a zoom starts smoothed), keep the view's
    window and reduce to n_buckets: (steps, mean, min, max)."""
    steps = np.asarray(s.steps, dtype=np.float64)
    mean = np.asarray(s.mean, dtype=np.float64)
    if data.view.smoothing and len(steps):
        mean = ema(steps, mean, data.view.smoothing)
    steps, mean, lo, hi = _in_view(data, steps, mean, np.asarray(s.min), np.asarray(s.max))
    return reduce_minmax(steps, lo, hi, n_buckets, mean=mean)


def read_series(data: PlotInput, name: str, n_buckets: int) -> tuple[Array, ...]:
    """(steps, mean, min, max) of a history column in the view, reduced to n_buckets;
    empty if missing."""
    try:
        s = data.series(name, data.points(n_buckets))
    except (LookupError, RuntimeError):
        empty = np.zeros(0)
        return empty, empty, empty, empty
    return _prepare(data, s, n_buckets)


def read_many(data: PlotInput, names: list[str], n_buckets: int) -> list[tuple[Array, ...]]:
    """read_series for several columns, in one lock round trip when the input allows."""
    if data.series_many is not None:
        try:
            found = data.series_many(tuple(names), data.points(n_buckets))
        except (LookupError, RuntimeError):
            pass  # a missing column: read one by one, so only that one comes back empty
        else:
            return [_prepare(data, s, n_buckets) for s in found]
    return [read_series(data, name, n_buckets) for name in names]


def saturates(activation: str) -> bool:
    """Whether the lecture says this activation saturates (sigmoid, tanh)."""
    try:
        return facts(activation).saturates
    except KeyError:
        return False


def layer_name(i: int, n_layers: int) -> str:
    return "out" if i == n_layers - 1 else f"L{i + 1}"


# ---------------------------------------------------------------------- lines


@dataclass(frozen=True)
class Line:
    x: Array
    y: Array  # the values; a log axis takes their log10 when it draws them
    name: str  # what the legend calls it: "train", "L1", "out"
    index: int  # its colour and marker (line_style)
    kind: str = ""  # what of the layer it shows ("sat", "dead"), said after the name
    note: str = ""  # its latest value, e.g. "3/16", said after the kind
    layer: int = -1  # the layer it belongs to, so that several can be named "L1-L4"
    dim: bool = False  # a background band: faded, first, left out without colour

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.name, self.kind, self.note) if part)


@dataclass(frozen=True)
class Key:
    """One entry of a legend: how a line looks (its marker, in its colour) and its text."""

    text: str
    rgb: RGB | None = None
    glyph: str = ""  # no glyph: a note about the plot, e.g. where zeros are drawn

    def rich(self) -> Text:
        if not self.glyph:
            return Text(self.text, style="dim")
        # The label in the line's colour too: the eye goes from a line to its name.
        return Text(f"{self.glyph} {self.text}", style=Style(color=_rich(self.rgb)))


@dataclass(frozen=True)
class Canvas:
    """Where plotext draws the data: `left` columns of y labels and axis, then `cols`
    columns; `rows` rows over the x axis and its labels."""

    left: int
    cols: int
    rows: int

    def column(self, x: float, lo: float, hi: float) -> int:
        """The screen column of step x (plotext's rounding), counted from the plot's edge."""
        return self.left + math.floor(0.5 + (self.cols - 1) * (x - lo) / (hi - lo))


@dataclass(frozen=True)
class Figure:
    """A plot as drawn: header rows (title and legend), plotext's canvas of `height` rows
    (with its axes and tick labels), footer rows (the marks)."""

    title: str
    header: tuple[Text, ...]
    keys: tuple[Key, ...] = ()
    footer: tuple[Text, ...] = ()
    height: int = 0
    canvas: Canvas | None = None  # None when nothing was drawn


def _finite(x: Array, y: Array) -> tuple[Array, Array]:
    keep = np.isfinite(y) & np.isfinite(x)
    return x[keep], y[keep]


def _log_floor(lines: Sequence[tuple[Line, Array, Array]]) -> tuple[float, str]:
    """The value zeros and tiny values are drawn at on a log axis, and what the legend
    says of it ("" when nothing is under it). The floor sits FLOOR_DECADES under the
    lowest decade the lines reach (the band's batch minima do not count), so exact-zero
    losses do not stretch the axis to 1e-12."""
    values = [y[y > 0] for line, _, y in lines if not line.dim]
    positive = np.concatenate(values) if values else np.zeros(0)
    if not len(positive):
        positive = np.concatenate([y[y > 0] for _, _, y in lines])
    if not len(positive):
        return LOG_FLOOR, f"all 0, drawn at {format_log_tick(math.log10(LOG_FLOOR))}"
    floor = 10.0 ** (math.floor(math.log10(float(positive.min()))) - FLOOR_DECADES)
    under = np.concatenate([y[y < floor] for _, _, y in lines])
    if not len(under):
        return floor, ""
    at = format_log_tick(math.log10(floor))
    return floor, f"0 drawn at {at}" if (under <= 0).all() else f"<{at} drawn at {at}"


# Sub-cells a character cell holds for a marker, across and down (plotext's marker_factor).
MARKER_CELLS: dict[str, tuple[int, int]] = {"braille": (2, 4), "hd": (2, 2)}


def _cells(
    x: Array,
    y: Array,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    canvas: Canvas,
    marker: str,
) -> Array:
    """The canvas cells a line takes, (cols, rows) booleans, as plotext draws it: each
    point on the marker's grid of sub-cells, consecutive points joined by as many evenly
    spaced sub-cells as the longer side of the step. What a later line must cover to
    hide it."""
    xf, yf = MARKER_CELLS.get(marker, (1, 1))
    cols, rows = canvas.cols * xf, canvas.rows * yf
    taken = np.zeros((canvas.cols, canvas.rows), dtype=bool)
    if cols < 2 or rows < 2:
        return taken
    (x0, x1), (y0, y1) = xlim, ylim
    sx = np.floor(np.round(0.5 + (cols - 1) * (x - x0) / (x1 - x0), 8)).astype(np.int64)
    sy = np.floor(np.round(0.5 + (rows - 1) * (y - y0) / (y1 - y0), 8)).astype(np.int64)
    if len(sx) > 1:
        dx, dy = np.diff(sx), np.diff(sy)
        n = np.maximum(np.abs(dx), np.abs(dy)) + 1
        segment = np.repeat(np.arange(len(n)), n)
        k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        t = k / np.maximum(n[segment] - 1, 1)
        sx = np.trunc(sx[:-1][segment] + t * dx[segment]).astype(np.int64)
        sy = np.trunc(sy[:-1][segment] + t * dy[segment]).astype(np.int64)
    inside = (sx >= 0) & (sx < cols) & (sy >= 0) & (sy < rows)
    taken[sx[inside] // xf, sy[inside] // yf] = True
    return taken


def _covers(cells: list[Array]) -> list[int | None]:
    """For each line, the line drawn later that it lies under, or None when it shows.

    A line lies under others when they cover COVERED of its cells; it is named under
    the one that covers most (the topmost among equals), and under what that one lies
    under, so "L1-L4 under L5" names the line that shows.
    """
    under: list[int | None] = [None] * len(cells)
    for i, mine in enumerate(cells):
        total = int(mine.sum())
        if not total or i == len(cells) - 1:
            continue
        later = cells[i + 1 :]
        if (mine & np.logical_or.reduce(later)).sum() < COVERED * total:
            continue
        shared = [int((mine & other).sum()) for other in later]
        under[i] = i + 1 + len(shared) - 1 - int(np.argmax(shared[::-1]))
    for i in reversed(range(len(under))):  # later lines are resolved first
        j = under[i]
        if j is not None and under[j] is not None:
            under[i] = under[j]
    return under


def _names(lines: Sequence[Line]) -> str:
    """Several lines said briefly: consecutive layers of a kind as a range, "L1-L4 sat"."""
    parts = []
    for kind in dict.fromkeys(line.kind for line in lines):
        same = [line for line in lines if line.kind == kind]
        runs: list[list[Line]] = []
        for line in same:
            if runs and line.layer >= 0 and line.layer == runs[-1][-1].layer + 1:
                runs[-1].append(line)
            else:
                runs.append([line])
        names = [r[0].name if len(r) == 1 else f"{r[0].name}-{r[-1].name}" for r in runs]
        parts.append(" ".join(part for part in (",".join(names), kind) if part))
    return ", ".join(parts)


def _keys(
    drawn: Sequence[tuple[Line, Array, Array]], under: list[int | None], color: bool
) -> list[Key]:
    """A key a line that shows; the lines under it are named in its key."""
    keys = []
    for i, (line, _, _) in enumerate(drawn):
        if under[i] is not None:
            continue
        rgb, marker = _look(line, color)
        hidden = [drawn[j][0] for j in range(len(drawn)) if under[j] == i]
        text = f"{_names(hidden)} under {line.label}" if hidden else line.label
        keys.append(Key(text, rgb, GLYPHS.get(marker, marker * 2)))
    return keys


MIN_TITLE = 12  # characters of the title kept when the legend needs the room


def _pack(head: Text, keys: Sequence[Text], width: int) -> list[Text]:
    """The head, then the keys, as many to a row of `width` as fit, two spaces apart."""
    rows = [head.copy()]
    for key in keys:
        if not rows[-1].cell_len:
            rows[-1].append_text(key)
        elif rows[-1].cell_len + 2 + key.cell_len <= width:
            rows[-1].append("  ")
            rows[-1].append_text(key)
        else:
            rows.append(key.copy())
    return rows


def _header(title: str, view: str, keys: Sequence[Key], width: int, max_rows: int) -> list[Text]:
    """The title and the view ("EMA 0.9"), then the keys, in at most max_rows rows of
    `width`. When they do not fit the title is cut, then left out (the tab names the
    plot; the view stays), then keys are left out from the end and counted ("+3")."""
    texts = [key.rich() for key in keys]
    for text in texts:
        text.truncate(width, overflow="ellipsis")
    heads = [title, _cut(title, MIN_TITLE), ""]
    for head in heads:
        line = Text(" · ".join(part for part in (head, view) if part), style="bold")
        line.truncate(width, overflow="ellipsis")
        rows = _pack(line, texts, width)
        if len(rows) <= max_rows:
            return rows
    for shown in range(len(texts) - 1, -1, -1):
        more = Key(f"+{len(texts) - shown}").rich()
        rows = _pack(line, [*texts[:shown], more], width)
        if len(rows) <= max_rows:
            return rows
    return rows[:max_rows]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _footer(
    marks: Sequence[MarkLike], xlim: tuple[float, float], canvas: Canvas, width: int, color: bool
) -> Text:
    """One row under the x axis: a ▲ under each mark, its label after it (before it at the
    right edge), cut where the next mark starts; marks on one column share it."""
    at: dict[int, list[MarkLike]] = {}
    for mark in sorted(marks, key=lambda m: m.step):
        at.setdefault(canvas.column(float(mark.step), *xlim), []).append(mark)
    row = Text(no_wrap=True)
    columns = sorted(at)
    for n, col in enumerate(columns):
        if col < row.cell_len:
            continue
        room = (columns[n + 1] - 1 if n + 1 < len(columns) else width) - col - 1
        label = ", ".join(m.label for m in at[col])
        rgb = MARK_COLOURS.get(at[col][0].kind, MARK_COLOUR) if color else None
        before = len(label) > room and len(label) < col - row.cell_len
        row.append(" " * (col - row.cell_len - (len(label) if before else 0)))
        if before:
            row.append(label)
        row.append("▲", style=Style(color=_rich(rgb)))
        if not before:
            row.append(label[: max(0, room)])
    row.truncate(width)
    return row


def draw_lines(
    plt: Any,
    title: str,
    lines: Sequence[Line],
    axis: Axis,
    data: PlotInput,
    width: int,
    height: int,
    color: bool = True,
) -> Figure:
    """Clear the figure and set up plotext to draw the lines; the figure around them.

    Lines are drawn in order, later ones over earlier ones; the legend says which
    lines lie under which. `render` then builds it.
    """
    # clear_figure, not clear_data: ticks, limits and title from the last draw must go too.
    plt.clear_figure()
    plt.theme("clear")  # no colours of its own: the widget's background and text show
    plt.xaxes(True, False)  # a left and a bottom axis: the top row and right column hold data
    plt.yaxes(True, False)
    view = " · ".join(data.view.describe(data.step))
    # Without colour a band cannot sit behind its line: leave it out.
    drawn = [(line, *_finite(line.x, line.y)) for line in lines if color or not line.dim]
    drawn = [(line, x, y) for line, x, y in drawn if len(x)]
    if not drawn:
        head = " · ".join(part for part in (f"no steps yet: {title}", view) if part)
        return Figure(title, (Text(_cut(head, width), style="bold"),))
    window = data.view.window(data.step)
    if window is not None:
        x_lo, x_hi = window
    else:
        x_lo = min(float(x[0]) for _, x, _ in drawn)
        x_hi = max(float(x[-1]) for _, x, _ in drawn)
        x_hi = max(x_hi, float(data.step))  # the last bucket starts before the last step
        if x_lo <= 0.05 * (x_hi - x_lo):
            x_lo = 0.0  # a run starts at step 0 (or 1): let the axis and its first tick say 0
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 0.5, x_lo + 0.5
    xlim = (x_lo, x_hi)
    notes = []
    if axis.log:
        floor, note = _log_floor(drawn)
        drawn = [(line, x, np.log10(np.maximum(y, floor))) for line, x, y in drawn]
        notes = [Key(note)] if note else []
    y_lo = min(float(y.min()) for _, _, y in drawn)
    y_hi = max(float(y.max()) for _, _, y in drawn)
    if axis.log and y_hi - y_lo < MIN_DECADES:
        # A flat norm stays flat: its noise is not blown up to the plot's height (which
        # would also lengthen the lines plotext draws, and its time).
        middle = (y_lo + y_hi) / 2
        y_lo, y_hi = middle - MIN_DECADES / 2, middle + MIN_DECADES / 2
    marks = [m for m in data.marks if x_lo <= m.step <= x_hi]
    footer_rows = 1 if marks and height >= 8 else 0
    max_rows = 1 if height < 10 else 2 if height < 18 else 3
    header_rows = 1
    for _ in range(2):  # the legend's rows fix the canvas, which fixes what lies under what
        canvas_height = height - header_rows - footer_rows
        rows = max(0, canvas_height - 2)  # the x axis and its labels
        bottom, top, ticks = y_axis(axis, y_lo, y_hi, rows)
        labels = [tick_label(t, axis) for t in ticks]
        left = max((len(s) for s in labels), default=0) + 1
        canvas = Canvas(left, width - left, rows)
        # A band lies under the lines by design: only lines can hide lines.
        taken = [
            np.zeros((canvas.cols, canvas.rows), dtype=bool)
            if line.dim
            else _cells(x, y, xlim, (bottom, top), canvas, _look(line, color)[1])
            for line, x, y in drawn
        ]
        keys = _keys(drawn, _covers(taken), color) + notes
        header = _header(title, view, keys, width, max_rows)
        if len(header) == header_rows:
            break
        header_rows = len(header)
    for line, x, y in drawn:
        rgb, marker = _look(line, color)
        plt.plot(x.tolist(), y.tolist(), marker=marker, color=rgb or "default")
    for mark in marks:
        if canvas.column(float(mark.step), x_lo, x_hi) == canvas.left:
            continue  # at the start of the axis (a reset at step 0) a line would double it
        rgb = MARK_COLOURS.get(mark.kind, MARK_COLOUR)
        plt.vline(float(mark.step), _faded(rgb) if color else "default")
    plt.xlim(x_lo, x_hi)
    plt.xticks(*step_ticks(x_lo, x_hi, max_ticks=max(2, canvas.cols // 10)))
    plt.ylim(bottom, top)
    plt.yticks(ticks, labels)
    footer = (_footer(marks, xlim, canvas, width, color),) if footer_rows else ()
    return Figure(title, tuple(header), tuple(keys), footer, canvas_height, canvas)


def new_plot() -> Any:
    """A plotext figure for one tab (textual-plotext's Plot: plotext without global state)."""
    return Plot()


def _canvas(plt: Any, figure: Figure, width: int) -> str | None:
    """plotext's canvas built at the figure's size, as ANSI text; None without one."""
    if figure.canvas is None or figure.height < 3:
        return None
    # plotext sizes a figure for print, capped at the terminal's size; a widget knows its
    # own size (textual-plotext's PlotextPlot does the same).
    plt._limit_size(False, False)
    plt.plotsize(width, figure.height)
    return str(plt.build())


def render(plt: Any, figure: Figure, width: int) -> Text:
    """The figure as text: its header, plotext's canvas built at its size, its footer."""
    rows = list(figure.header)
    canvas = _canvas(plt, figure, width)
    if canvas is not None:
        rows += Text.from_ansi(canvas).split("\n")
    rows += figure.footer
    for row in rows:
        row.no_wrap = True
    return Text("\n").join(rows)


ANSI_CODE = re.compile(r"\x1b\[([0-9;]*)m")


def _ansi_style(code: str) -> Style | None:
    """The style of one of the codes plotext writes: a reset, or a 24-bit colour (foreground
    38;2;r;g;b, background 48;2;r;g;b); None for any other."""
    if code in ("", "0"):
        return Style.null()
    parts = code.split(";")
    if len(parts) == 5 and parts[0] in ("38", "48") and parts[1] == "2":
        rgb = "rgb(" + ",".join(parts[2:]) + ")"
        return Style(color=rgb) if parts[0] == "38" else Style(bgcolor=rgb)
    return None


def _ansi_segments(row: str, styles: dict[str, Style | None]) -> list[Segment] | None:
    """A row of plotext's canvas as segments, each code's style looked up once; None when
    the row has a code _ansi_style does not read."""
    segments = []
    style = Style.null()
    at = 0
    for match in ANSI_CODE.finditer(row):
        if match.start() > at:
            segments.append(Segment(row[at : match.start()], style))
        code = match.group(1)
        if code not in styles:
            styles[code] = _ansi_style(code)
        found = styles[code]
        if found is None:
            return None
        style = Style.null() if code in ("", "0") else style + found
        at = match.end()
    if at < len(row):
        segments.append(Segment(row[at:], style))
    return segments


def render_strips(
    plt: Any, figure: Figure, width: int, console: Console, base: Style
) -> list[Strip]:
    """The figure as `render` draws it, as strips over `base` (the widget's colours), for a
    widget that draws its own lines: plotext's canvas goes straight into segments, with
    neither Text.from_ansi nor a Text to convert at every frame (half a redraw's cost)."""
    options = console.options.update(width=width, no_wrap=True, overflow="crop")

    def strip(row: Text) -> Strip:
        return Strip(console.render_lines(row, options, pad=False)[0])

    rows = [strip(row) for row in figure.header]
    canvas = _canvas(plt, figure, width)
    styles: dict[str, Style | None] = {}
    lines = canvas.split("\n") if canvas is not None else []
    if lines and not lines[-1]:
        lines.pop()  # as Text.split drops the empty line after the last newline
    for line in lines:
        segments = _ansi_segments(line, styles)
        if segments is None:  # a code of another kind: rich reads every kind
            segments = list(Text.from_ansi(line).render(console))
        rows.append(Strip(segments))
    rows += [strip(row) for row in figure.footer]
    return [row.apply_style(base).adjust_cell_length(width, base) for row in rows]


# ---------------------------------------------------------------------- plots


def _train_and_val(data: PlotInput, name: str, val: Array, width: int) -> list[Line]:
    """The per-step column as a faded min/max band under its mean, and the evaluations."""
    steps, mean, lo, hi = read_series(data, name, width)
    bx, by = envelope(steps, lo, hi)
    ev_steps, ev_val = _in_view(data, data.evals.step, val)
    vx, vy, _, _ = reduce_minmax(ev_steps, ev_val, ev_val, width)
    return [
        Line(bx, by, "min/max", TRAIN, dim=True),
        Line(steps, mean, "train", TRAIN),
        Line(vx, vy, "val", VAL),
    ]


def draw_loss(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> Figure:
    """Training loss per step (mean, min/max band) and validation loss per evaluation, log10."""
    lines = _train_and_val(data, "loss", data.evals.val_loss, width)
    return draw_lines(plt, "loss (log)", lines, LOG, data, width, height, color)


def draw_accuracy(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> Figure:
    """Training accuracy per step (mean, min/max band) and validation accuracy per evaluation."""
    title = "accuracy"
    if data.task == "regression":
        return draw_lines(
            plt, f"{title}: not defined when regressing", [], PERCENT, data, width, height, color
        )
    lines = [
        replace(line, y=100.0 * line.y)
        for line in _train_and_val(data, "accuracy", data.evals.val_acc, width)
    ]
    return draw_lines(plt, title, lines, PERCENT, data, width, height, color)


def _per_layer(data: PlotInput, stat: str, layers: range, width: int) -> list[Line]:
    """One line per layer: each bucket's mean, so that several layers stay readable.

    A point every two columns: plotext's cost follows the length of the drawn path,
    and averaging over twice the steps halves a noisy line's length; trends are the point.
    """
    buckets = max(8, width // 2)
    read = read_many(data, [f"layers.{i}.{stat}" for i in layers], buckets)
    return [
        Line(steps, mean, layer_name(i, data.n_layers), n, layer=i)
        for n, (i, (steps, mean, _, _)) in enumerate(zip(layers, read, strict=True))
    ]


# One definition of a dead unit (engine.nn.activations): zero for every training sample,
# counted at each evaluation. Saturation is counted on each step's batch.
DEAD_TITLE = "dead: zero on every training sample, %"
NOT_EVALUATED = "dead: not counted, training.eval_every is 0"
SATURATED_TITLE = "saturated per step"


def _share(counts: Array, units: int) -> Array:
    return 100.0 * np.asarray(counts, dtype=np.float64) / max(1, units)


def _count(value: float) -> str:
    return str(round(value)) if math.isfinite(value) else "-"


def _dead_lines(data: PlotInput, width: int, kind: str, first_index: int) -> list[Line]:
    """Per hidden layer, its dead share at each evaluation (step 0 and every eval_every
    steps), with the latest count out of its width, e.g. "L1 3/16"."""
    ev = data.evals
    buckets = max(8, width // 2)  # as _per_layer: a point every two columns
    lines = []
    for i, units in enumerate(data.hidden):
        counts = ev.dead[:, i] if i < ev.dead.shape[1] else np.zeros(0)
        note = f"{_count(float(counts[-1]))}/{units}" if len(counts) else ""
        steps, counts = _in_view(data, ev.step[: len(counts)], counts)
        x, y, _, _ = reduce_minmax(steps, counts, counts, buckets, mean=counts)
        name = layer_name(i, data.n_layers)
        lines.append(Line(x, _share(y, units), name, first_index + i, kind, note, layer=i))
    return lines


def draw_units(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> Figure:
    """Dead units per hidden layer as a share of its width, from the evaluations (a unit is
    dead when it is zero for every training sample); for sigmoid and tanh, which cannot die
    but saturate, the saturated units of each step's batch too. The legend gives each
    layer's latest count."""
    widths = data.hidden
    lines: list[Line] = []
    parts: list[str] = []
    if saturates(data.activation):
        for line in _per_layer(data, "saturated", range(len(widths)), width):
            units = widths[line.layer]
            note = f"{_count(float(line.y[-1]))}/{units}" if len(line.y) else ""
            lines.append(replace(line, y=_share(line.y, units), kind="sat", note=note))
        parts.append(SATURATED_TITLE)
    if data.eval_every > 0:
        # A layer's dead line takes its saturated line's colour and the next marker.
        first = len(PALETTE) * math.ceil(len(lines) / len(PALETTE))
        lines += _dead_lines(data, width, "dead" if lines else "", first)
        parts.append(DEAD_TITLE)
    else:
        parts.append(NOT_EVALUATED)
    return draw_lines(plt, "; ".join(parts), lines, PERCENT, data, width, height, color)


def draw_grad_norm(
    plt: Any, data: PlotInput, width: int, height: int, color: bool = True
) -> Figure:
    """Weight-gradient norm per layer, log10: vanishing and exploding gradients."""
    lines = _per_layer(data, "grad_norm_W", range(data.n_layers), width)
    return draw_lines(plt, "gradient norm |dW| (log)", lines, LOG, data, width, height, color)


def draw_update_ratio(
    plt: Any, data: PlotInput, width: int, height: int, color: bool = True
) -> Figure:
    """norm(lr*dW)/norm(W) per layer, log10, against the 1e-3 rule of thumb (drawn first,
    under the layers)."""
    lines = _per_layer(data, "update_ratio", range(data.n_layers), width)
    xs = [line.x for line in lines if len(line.x)]
    if xs:
        ends = np.array([min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs)])
        ref = np.full(2, UPDATE_RATIO_REFERENCE)
        lines.insert(0, Line(ends, ref, format_log_tick(math.log10(ref[0])), REFERENCE))
    title = "update/weight (log), ~1e-3 healthy"
    return draw_lines(plt, title, lines, LOG, data, width, height, color)


DrawFn = Callable[[Any, PlotInput, int, int, bool], Figure]


@dataclass(frozen=True)
class PlotSpec:
    key: str
    tab: str  # the tab's label; its number is the key that shows it
    draw: DrawFn


PLOTS: tuple[PlotSpec, ...] = (
    # Short tab labels: all five fit an 80-column screen next to the config column.
    PlotSpec("loss", "loss", draw_loss),
    PlotSpec("accuracy", "acc", draw_accuracy),
    PlotSpec("units", "dead", draw_units),
    PlotSpec("grad", "grad", draw_grad_norm),
    PlotSpec("update", "update", draw_update_ratio),
)
