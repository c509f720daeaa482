"""The compare view's plots: the lab's five tabs, each overlaying the runs of a comparison,
one line a run in the run's own colour, the legend naming it by its differing values.

The lines are read and drawn with the lab's own plot code (tui_nn.charts: `read_series`,
`draw_lines`, and widgets.chart), so the smoothing, the zoom, the ticks and the legend outside the
canvas are the same as in the single-run view. Per-layer plots (gradient norm, update
ratio) show one layer at a time for every run (`cycle_layer`); the dead-units plot shows
each run's dead share (or, where the activation saturates, its saturated share).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from textual.app import ComposeResult
from textual.containers import Vertical

from tui_nn.charts import (
    LOG,
    PERCENT,
    PLOTS,
    REFERENCE,
    UPDATE_RATIO_REFERENCE,
    Axis,
    EvalCache,
    EvalColumns,
    Line,
    PlotInput,
    View,
    draw_lines,
    format_log_tick,
    new_plot,
    read_many,
    read_series,
    reduce_minmax,
    saturates,
)
from tui_nn.core.compare import CompareSnapshot, RunView
from tui_nn.widgets.chart import Chart
from tui_nn.widgets.plots import MIN_INTERVAL, PlotTabs
from tui_nn.widgets.throttle import Throttle

OUT = -1  # the layer choice that means every run's output layer


def layer_choices(runs: Sequence[RunView]) -> list[int]:
    """The layers `l` steps through: each hidden layer any run has, then the output."""
    deepest = max((len(r.config.model.hidden) for r in runs), default=0)
    return [*range(deepest), OUT]


def layer_label(layer: int) -> str:
    return "out" if layer == OUT else f"L{layer + 1}"


def _input(run: RunView, view: View) -> PlotInput:
    return PlotInput.from_snapshot(run, EvalColumns(), view)


def _windowed(data: PlotInput, steps: np.ndarray, values: np.ndarray) -> tuple[Any, ...]:
    window = data.view.window(data.step)
    if window is not None:
        keep = (steps >= window[0]) & (steps <= window[1])
        steps, values = steps[keep], values[keep]
    return steps, values


def _buckets(width: int) -> int:
    """A point every two columns, as the lab's per-layer plots: plotext's cost follows the
    length of the drawn path, and several noisy lines would cost that many times one."""
    return max(8, width // 2)


def _mean_line(run: RunView, view: View, name: str, width: int, scale: float = 1.0) -> Line:
    steps, mean, _, _ = read_series(_input(run, view), name, _buckets(width))
    return Line(steps, scale * mean, run.label, run.colour)


# A run's evaluations as arrays (charts.EvalCache: only the new ones are converted).
EvalsOf = Callable[[RunView], EvalColumns]


def _columns(run: RunView) -> EvalColumns:
    return EvalCache().update(run.evals)


def _units_line(run: RunView, view: View, width: int, evals: EvalsOf) -> Line | None:
    """Saturated share a step where the activation saturates, else the dead share at each
    evaluation; None without hidden units."""
    units = run.units
    if not units:
        return None
    data = _input(run, view)
    buckets = _buckets(width)
    hidden = range(len(run.config.model.hidden))
    if saturates(run.activation):
        read = read_many(data, [f"layers.{i}.saturated" for i in hidden], buckets)
        steps = read[0][0]
        total = np.sum([mean for _, mean, _, _ in read], axis=0)
        return Line(steps, 100.0 * total / units, run.label, run.colour, kind="sat")
    columns = evals(run)
    steps, dead = _windowed(data, columns.step, 100.0 * columns.dead.sum(axis=1) / units)
    x, y, _, _ = reduce_minmax(steps, dead, dead, buckets, mean=dead)
    return Line(x, y, run.label, run.colour, kind="dead")


def _layer_line(run: RunView, view: View, stat: str, layer: int, width: int) -> Line | None:
    index = run.n_layers - 1 if layer == OUT else layer
    if index >= run.n_layers - 1 and layer != OUT:
        return None  # a shallower run has no such hidden layer
    steps, mean, _, _ = read_series(_input(run, view), f"layers.{index}.{stat}", _buckets(width))
    return Line(steps, mean, run.label, run.colour)


def overlay(
    key: str,
    runs: Sequence[RunView],
    view: View,
    layer: int,
    width: int,
    evals: EvalsOf = _columns,
) -> tuple[str, list[Line], Axis]:
    """The title, one line a run, and the axis of plot `key` (a charts.PLOTS key);
    `evals` gives a run's evaluations as arrays (the plots keep them between draws)."""
    if key == "loss":
        return "loss (log), per step", [_mean_line(r, view, "loss", width) for r in runs], LOG
    if key == "accuracy":
        if runs and all(r.task == "regression" for r in runs):
            return "accuracy: not defined when regressing", [], PERCENT
        lines = [_mean_line(r, view, "accuracy", width, 100.0) for r in runs]
        return "accuracy, per step", lines, PERCENT
    if key == "units":
        found = [_units_line(r, view, width, evals) for r in runs]
        title = "dead (every training sample) or saturated units, % of hidden"
        return title, [line for line in found if line is not None], PERCENT
    where = f"{layer_label(layer)} · l: layer"
    if key == "grad":
        found = [_layer_line(r, view, "grad_norm_W", layer, width) for r in runs]
        return f"gradient norm |dW| (log) of {where}", [x for x in found if x], LOG
    found = [_layer_line(r, view, "update_ratio", layer, width) for r in runs]
    lines = [x for x in found if x]
    xs = [line.x for line in lines if len(line.x)]
    if xs:
        ends = np.array([min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs)])
        ref = np.full(2, UPDATE_RATIO_REFERENCE)
        lines.insert(0, Line(ends, ref, format_log_tick(math.log10(ref[0])), REFERENCE))
    return f"update/weight (log) of {where}, ~1e-3 healthy", lines, LOG


class ComparePlots(Vertical):
    """Plots 1-5 of a comparison; `refresh_from(snapshot)` keeps the visible one current,
    at most every `min_interval` seconds while the runs train (as the lab's PlotsPanel)."""

    DEFAULT_CSS = """
    ComparePlots {
        height: 1fr;
        width: 1fr;
        /* A blank column before the boundaries: a line's last dot never touches one. */
        padding-right: 1;
    }
    """

    def __init__(
        self,
        *,
        id: str | None = None,
        min_interval: float = MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(id=id)
        self._throttle = Throttle(self, self._redraw, min_interval, clock)
        self._active = 0
        self._layer = 0
        self._view = View()
        self._plot = new_plot()
        self._snapshot: CompareSnapshot | None = None
        self._evals: dict[int, EvalCache] = {}
        self._drawn: tuple[Any, ...] | None = None
        self.draws = 0  # how many times the plot was drawn (tests, benchmark)
        self.figure_text = ""  # the last figure's header, as plain text (tests)

    def compose(self) -> ComposeResult:
        yield PlotTabs()
        yield Chart(id="compare-chart")

    def on_mount(self) -> None:
        self.query_one(PlotTabs).show(self._active)

    @property
    def active(self) -> int:
        return self._active + 1

    @property
    def view(self) -> View:
        return self._view

    @property
    def shown_layer(self) -> int:
        return self._layer

    def show_tab(self, number: int) -> None:
        if 1 <= number <= len(PLOTS) and number - 1 != self._active:
            self._active = number - 1
            self.query_one(PlotTabs).show(self._active)
            self._redraw()

    def cycle_smoothing(self) -> None:
        self._view = self._view.next_smoothing()
        self._redraw()

    def cycle_zoom(self) -> None:
        self._view = self._view.next_zoom()
        self._redraw()

    def cycle_layer(self) -> None:
        """The next layer of the per-layer plots: L1, L2, ..., out, L1."""
        runs = self._snapshot.runs if self._snapshot else ()
        choices = layer_choices(runs)
        at = choices.index(self._layer) if self._layer in choices else -1
        self._layer = choices[(at + 1) % len(choices)]
        self._redraw()

    def refresh_from(self, snapshot: CompareSnapshot) -> None:
        self._snapshot = snapshot
        self._throttle.request(snapshot.state == "running")

    def on_resize(self) -> None:
        self._redraw()

    def _evals_of(self, run: RunView) -> EvalColumns:
        """The run's evaluations as arrays, kept a run: a draw converts only the new ones
        (a long run has hundreds, and four runs would cost a few ms at every draw)."""
        if run.index not in self._evals:
            if self._snapshot is not None:  # forget the runs that went
                kept = {r.index for r in self._snapshot.runs}
                self._evals = {i: c for i, c in self._evals.items() if i in kept}
            self._evals[run.index] = EvalCache()
        return self._evals[run.index].update(run.evals, run.index)

    def _redraw(self) -> None:
        snap = self._snapshot
        if snap is None or not self.is_mounted:
            return
        chart = self.query_one(Chart)
        size = chart.content_size
        if size.width < 8 or size.height < 4:
            return
        runs = snap.shown
        color = not self.app.no_color
        base = chart.rich_style  # the theme's colours, under the strips: a new theme redraws
        spec = PLOTS[self._active]
        key = (
            spec.key,
            # A new copy of a history (every HISTORY_INTERVAL) is new data to draw.
            tuple((r.index, r.history_step, len(r.evals), r.label, r.pinned) for r in runs),
            size,
            color,
            base,
            self._view,
            self._layer,
        )
        if key == self._drawn:
            return
        title, lines, axis = overlay(
            spec.key, runs, self._view, self._layer, size.width, self._evals_of
        )
        step = max((r.step for r in runs), default=0)
        data = replace(PlotInput(), step=step, view=self._view)
        figure = draw_lines(self._plot, title, lines, axis, data, size.width, size.height, color)
        chart.draw(self._plot, figure, size.width)
        self.figure_text = "\n".join(row.plain for row in figure.header)
        self._drawn = key
        self._throttle.drew()
        self.draws += 1
