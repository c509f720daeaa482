"""Charts: every plot the lab draws, and the only module that talks to plotext.

Keeping plotext behind these functions lets the plotting library change later: the
PlotsPanel widget (tui_nn.widgets.plots) hands a `Plot` object (textual-plotext's
`PlotextPlot().plt`) and a `PlotInput` to a draw function and never calls plotext itself.

Two plotext facts shape the code:
- plotext draws in Python, linear in the number of points (about 7 ms a plot at 100
  points a line, 300 ms at 10,000), so every series is reduced to about twice the
  plot's width before it is drawn (`reduce_minmax`, `envelope`).
- plotext's log axis raises "math domain error" on the second `build()`, so log plots
  draw log10 of the value on a linear axis and label the ticks themselves (`log_ticks`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.nn.activations import facts  # the lecture's static facts; no run is touched

Array = np.ndarray
RGB = tuple[int, int, int]

LOG_FLOOR = 1e-12  # zero norms and ratios are drawn here: "vanished", not missing
UPDATE_RATIO_REFERENCE = 1e-3  # CS231n: a healthy update/weight ratio is about 1e-3
MAX_LEGEND = 6  # more labelled lines than this hide the plot behind its legend

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
# Without colour (NO_COLOR) lines are told apart by their marker character instead.
MONO_MARKERS: tuple[str, ...] = ("•", "+", "x", "o", "*", "#", "@", "%", "=", "~")
COLOR_MARKER = "hd"  # plotext's 2x2 block marker: twice the resolution of a character
BAND_MARKER = "dot"  # the band touches the most cells: single-cell dots cost half as much


class SeriesLike(Protocol):
    """engine.train.history.Series: per point, the step and the mean/min/max of its bucket."""

    steps: Array
    mean: Array
    min: Array
    max: Array


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


def log10_safe(values: Array, floor: float = LOG_FLOOR) -> Array:
    """log10 with zeros and negatives drawn at the floor; NaN/inf stay non-finite."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.log10(np.where(np.isnan(values) | (values > floor), values, floor))


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


def log_ticks(lo: float, hi: float, max_ticks: int = 5) -> tuple[list[float], list[str]]:
    """Ticks in log10 space over [lo, hi]: whole decades, else 1-2-5 steps, else the ends."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    max_ticks = max(2, max_ticks)
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    ticks: list[float] = [float(k) for k in decades]
    if len(ticks) < 2:
        ticks = [
            k + math.log10(m)
            for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
            for m in (1, 2, 5)
            if lo - 1e-9 <= k + math.log10(m) <= hi + 1e-9
        ]
    if len(ticks) < 2:
        ticks = [lo, hi]
    stride = math.ceil(len(ticks) / max_ticks)
    ticks = ticks[::stride]
    return ticks, [format_log_tick(t) for t in ticks]


def format_steps(value: float) -> str:
    """A step count as people say it: 500, 2.5k, 1M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


def step_ticks(first: float, last: float, max_ticks: int = 5) -> tuple[list[float], list[str]]:
    """Round-number ticks (1, 2, 2.5, 5 times a power of ten) over a range of steps."""
    span = last - first
    if span <= 0:
        return [first], [format_steps(first)]
    raw = span / max(1, max_ticks - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    nice = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)  # steps are whole numbers
    step = next(m * power for m in nice if m * power >= raw)
    start = math.ceil(first / step) * step
    ticks = list(np.arange(start, last + step * 1e-9, step))
    return ticks, [format_steps(t) for t in ticks]


def percent_ticks() -> tuple[list[float], list[str]]:
    return [0.0, 25.0, 50.0, 75.0, 100.0], ["0%", "25%", "50%", "75%", "100%"]


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
            self._run, have = run, 0
        if len(evals) == have and have > 0:
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

    @classmethod
    def from_snapshot(cls, snapshot: Any, evals: EvalColumns) -> PlotInput:
        return cls(
            series=snapshot.series if snapshot.has_history else _no_series,
            series_many=snapshot.series_many if snapshot.has_history else None,
            evals=evals,
            n_layers=int(snapshot.n_layers),
            hidden=tuple(int(h) for h in snapshot.config.model.hidden),
            activation=str(snapshot.activation),
            task=str(snapshot.task),
            eval_every=int(snapshot.config.training.eval_every),
        )


def read_series(data: PlotInput, name: str, n_buckets: int) -> tuple[Array, ...]:
    """(steps, mean, min, max) of a history column reduced to n_buckets; empty if missing."""
    try:
        s = data.series(name, n_buckets)
    except (LookupError, RuntimeError):
        empty = np.zeros(0)
        return empty, empty, empty, empty
    return reduce_minmax(s.steps, s.min, s.max, n_buckets, mean=s.mean)


def read_many(data: PlotInput, names: list[str], n_buckets: int) -> list[tuple[Array, ...]]:
    """read_series for several columns, in one lock round trip when the input allows."""
    if data.series_many is not None:
        try:
            found = data.series_many(tuple(names), n_buckets)
        except (LookupError, RuntimeError):
            pass  # a missing column: read one by one, so only that one comes back empty
        else:
            return [reduce_minmax(s.steps, s.min, s.max, n_buckets, mean=s.mean) for s in found]
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
    y: Array
    label: str | None
    index: int  # picks the colour and the no-colour marker
    dim: bool = False  # a background band: a faded colour, left out without colour


@dataclass(frozen=True)
class Axis:
    """How the y axis reads: log10 values with number labels, a fixed range, or automatic."""

    log: bool = False
    limits: tuple[float, float] | None = None
    ticks: tuple[list[float], list[str]] | None = None


def _fit(title: str, width: int) -> str:
    """plotext drops a title that does not fit centred over the canvas; cut it instead.

    The canvas is centred right of the y tick labels (up to 5 characters and the frame).
    """
    room = max(1, width - 12)
    return title if len(title) <= room else title[: room - 1] + "…"


def _faded(rgb: RGB) -> RGB:
    """Halfway to grey: visible on dark and light themes, behind the full-colour lines."""
    return (
        (rgb[0] + 128) // 2,
        (rgb[1] + 128) // 2,
        (rgb[2] + 128) // 2,
    )


def _finite(x: Array, y: Array) -> tuple[Array, Array]:
    keep = np.isfinite(y) & np.isfinite(x)
    return x[keep], y[keep]


def _legend_label(i: int, n: int, label: str) -> str | None:
    """Label every line while few; with many, label a spread so the legend stays small."""
    every = math.ceil(n / MAX_LEGEND)
    return label if i % every == 0 or i == n - 1 else None


def draw_lines(
    plt: Any,
    title: str,
    lines: Sequence[Line],
    axis: Axis,
    width: int,
    height: int,
    color: bool = True,
) -> None:
    """Clear the figure and draw the lines with readable ticks; the caller then builds it."""
    # clear_figure, not clear_data: ticks, limits and title from the last draw must go too.
    plt.clear_figure()
    plt.title(_fit(title, width))
    # Without colour a band cannot sit behind its line: leave it out.
    drawn = [(line, *_finite(line.x, line.y)) for line in lines if color or not line.dim]
    drawn = [(line, x, y) for line, x, y in drawn if len(x)]
    for line, x, y in drawn:
        if color:
            rgb = PALETTE[line.index % len(PALETTE)]
            plt.plot(
                x.tolist(),
                y.tolist(),
                color=_faded(rgb) if line.dim else rgb,
                marker=BAND_MARKER if line.dim else COLOR_MARKER,
                label=line.label,
            )
        else:
            marker = MONO_MARKERS[line.index % len(MONO_MARKERS)]
            plt.plot(x.tolist(), y.tolist(), marker=marker, label=line.label)
    if not drawn:
        plt.title(_fit(f"no steps yet: {title}", width))
        return
    x_lo = min(float(x[0]) for _, x, _ in drawn)
    x_hi = max(float(x[-1]) for _, x, _ in drawn)
    if x_lo <= 0.05 * (x_hi - x_lo):
        x_lo = 0.0  # a run starts at step 0 (or 1): let the axis and its first tick say 0
    if x_hi > x_lo:
        plt.xlim(x_lo, x_hi)
    plt.xticks(*step_ticks(x_lo, x_hi, max_ticks=max(2, width // 14)))
    if axis.limits is not None:
        plt.ylim(*axis.limits)
    if axis.ticks is not None:
        plt.yticks(*axis.ticks)
    elif axis.log:
        y_lo = min(float(y.min()) for _, _, y in drawn)
        y_hi = max(float(y.max()) for _, _, y in drawn)
        if y_hi - y_lo < 1e-9:
            # One value (a run at step 0: its first evaluation): a decade around it, so
            # the ticks log_ticks picks for it lie on the axis, not past its ends.
            y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
            plt.ylim(y_lo, y_hi)
        plt.yticks(*log_ticks(y_lo, y_hi, max_ticks=max(2, height // 4)))


# ---------------------------------------------------------------------- plots


def _train_and_val(
    data: PlotInput, name: str, val: Array, width: int, transform: Callable[[Array], Array]
) -> list[Line]:
    """The per-step column as a faded min/max band under its mean, and the evaluations."""
    steps, mean, lo, hi = read_series(data, name, width)
    bx, by = envelope(steps, lo, hi)
    vx, vy, _, _ = reduce_minmax(data.evals.step, val, val, width)
    return [
        Line(bx, transform(by), "min/max", TRAIN, dim=True),
        Line(steps, transform(mean), "train", TRAIN),
        Line(vx, transform(vy), "val", VAL),
    ]


def draw_loss(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> None:
    """Training loss per step (mean, min/max band) and validation loss per evaluation, log10."""
    lines = _train_and_val(data, "loss", data.evals.val_loss, width, log10_safe)
    draw_lines(plt, "loss (log)", lines, Axis(log=True), width, height, color)


def draw_accuracy(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> None:
    """Training accuracy per step (mean, min/max band) and validation accuracy per evaluation."""
    if data.task == "regression":
        draw_lines(plt, "accuracy: not defined when regressing", [], Axis(), width, height, color)
        return
    lines = _train_and_val(data, "accuracy", data.evals.val_acc, width, lambda v: 100.0 * v)
    axis = Axis(limits=(0.0, 100.0), ticks=percent_ticks())
    draw_lines(plt, "accuracy", lines, axis, width, height, color)


def _per_layer(
    data: PlotInput, stat: str, layers: range, width: int, transform: Callable[[Array, int], Array]
) -> list[Line]:
    """One line per layer: each bucket's mean, so that several layers stay readable.

    A point every two columns: plotext's cost follows the length of the drawn path,
    and averaging over twice the steps halves a noisy line's length; trends are the point.
    """
    buckets = max(8, width // 2)
    lines = []
    read = read_many(data, [f"layers.{i}.{stat}" for i in layers], buckets)
    for n, (i, (steps, mean, _, _)) in enumerate(zip(layers, read, strict=True)):
        label = _legend_label(n, len(layers), layer_name(i, data.n_layers))
        lines.append(Line(steps, transform(mean, i), label, n))
    return lines


# One definition of a dead unit (engine.nn.activations): zero for every training sample,
# counted at each evaluation. Saturation is counted on each step's batch.
DEAD_TITLE = "dead: zero on every training sample, %"
NOT_EVALUATED = "dead: not counted, training.eval_every is 0"
SATURATED_TITLE = "saturated per step"


def _share(counts: Array, units: int) -> Array:
    return 100.0 * np.asarray(counts, dtype=np.float64) / max(1, units)


def _count(value: float) -> str:
    return str(round(value)) if math.isfinite(value) else "-"


def _dead_lines(data: PlotInput, width: int, kind: str) -> list[Line]:
    """Per hidden layer, its dead share at each evaluation (step 0 and every eval_every
    steps), labelled with the latest count out of its width, e.g. "L1 3/16"."""
    ev = data.evals
    buckets = max(8, width // 2)  # as _per_layer: a point every two columns
    lines = []
    for i, units in enumerate(data.hidden):
        counts = ev.dead[:, i] if i < ev.dead.shape[1] else np.zeros(0)
        steps = ev.step[: len(counts)]
        x, y, _, _ = reduce_minmax(steps, counts, counts, buckets, mean=counts)
        name = layer_name(i, data.n_layers) + kind
        label = f"{name} {_count(float(counts[-1]))}/{units}" if len(counts) else name
        lines.append(Line(x, _share(y, units), _legend_label(i, len(data.hidden), label), i))
    return lines


def draw_units(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> None:
    """Dead units per hidden layer as a share of its width, from the evaluations (a unit is
    dead when it is zero for every training sample); for sigmoid and tanh, which cannot die
    but saturate, the saturated units of each step's batch too. The legend gives each
    layer's latest count."""
    widths = data.hidden
    lines: list[Line] = []
    parts: list[str] = []
    if saturates(data.activation):
        sat = _per_layer(data, "saturated", range(len(widths)), width, lambda v, i: v)
        for line in sat:
            units = widths[line.index]
            now = f" {_count(float(line.y[-1]))}/{units}" if len(line.y) else ""
            label = line.label and f"{line.label} sat{now}"
            lines.append(Line(line.x, _share(line.y, units), label, line.index))
        parts.append(SATURATED_TITLE)
    if data.eval_every > 0:
        # Colours and markers after the saturated lines', so that no two lines look alike.
        kind = " dead" if lines else ""
        dead = _dead_lines(data, width, kind)
        lines += [Line(d.x, d.y, d.label, len(widths) * bool(parts) + d.index) for d in dead]
        parts.append(DEAD_TITLE)
    else:
        parts.append(NOT_EVALUATED)
    axis = Axis(limits=(0.0, 100.0), ticks=percent_ticks())
    draw_lines(plt, "; ".join(parts), lines, axis, width, height, color)


def draw_grad_norm(plt: Any, data: PlotInput, width: int, height: int, color: bool = True) -> None:
    """Weight-gradient norm per layer, log10: vanishing and exploding gradients."""
    lines = _per_layer(data, "grad_norm_W", range(data.n_layers), width, lambda v, i: log10_safe(v))
    draw_lines(plt, "gradient norm |dW| (log)", lines, Axis(log=True), width, height, color)


def draw_update_ratio(
    plt: Any, data: PlotInput, width: int, height: int, color: bool = True
) -> None:
    """norm(lr*dW)/norm(W) per layer, log10, against the 1e-3 rule of thumb."""
    lines = _per_layer(
        data, "update_ratio", range(data.n_layers), width, lambda v, i: log10_safe(v)
    )
    xs = [line.x for line in lines if len(line.x)]
    if xs:
        ends = np.array([min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs)])
        ref = np.full(2, math.log10(UPDATE_RATIO_REFERENCE))
        lines.append(Line(ends, ref, "1e-3", REFERENCE))
    title = "update/weight (log), ~1e-3 healthy"
    draw_lines(plt, title, lines, Axis(log=True), width, height, color)


DrawFn = Callable[[Any, PlotInput, int, int, bool], None]


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
