"""Inside the network: a tile per unit (its activation over the input plane), how alike
each layer's units are (the similarity matrix of the selected layer), and the mean
similarity of every hidden layer as a line over the run.

What is shown is read at the decision boundary's pace, never per step: when the run's
boundary is new (its step or its run changed; at most every READ_INTERVAL while it
trains), the weights are copied inside `reader.read(...)` (one copy of theta: less than a
step), and the tiles are computed from the copy on a worker thread, on the boundary's own
grid, so a big net never holds a key up. Arrow keys select a unit, enter shows it large
with its incoming weights and bias (esc goes back), [ and ] page a wide layer. Below 100
columns the tiles and the similarity take the screen in turn (s).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from engine import Trainer
from engine.data.features import FEATURES
from engine.train.diagnostics import unit_similarity
from tui_nn import charts
from tui_nn.core.runner import Boundary, RunReader, Snapshot, network_over
from tui_nn.screens.view import View
from tui_nn.widgets.boundary import DIVERGING_HIGH, DIVERGING_LOW, DecisionBoundary
from tui_nn.widgets.heat import SimilarityMatrix
from tui_nn.widgets.tiles import (
    HIDDEN,
    MAX_KEPT,
    Column,
    Selection,
    TileGrid,
    UnitMaps,
    build_maps,
    plane,
)

Array = np.ndarray

PLANE_KINDS = ("classes", "values")  # boundaries over the 2-D input plane: tiles apply
NO_TILES = "Tiles are drawn for 2-D inputs: this run's data has no input plane."
SIMILARITY_AXIS = charts.Axis(limits=(-1.0, 1.0), steps=(0.25, 0.5, 1.0))
BAR = 12  # columns of the longest weight bar in the unit's detail
POSITIVE = Style(color="#{:02x}{:02x}{:02x}".format(*DIVERGING_HIGH))  # as the tiles' colours
NEGATIVE = Style(color="#{:02x}{:02x}{:02x}".format(*DIVERGING_LOW))
# While the run trains, a reading (and the line's plotext draw) at most this often: each
# costs the training thread GIL time (about 30 ms of Python a reading on an 8 x 6 net).
READ_INTERVAL = 1.0  # seconds; a paused run's new boundary is read at once
LINE_INTERVAL = 2.0


Rows = tuple[tuple[int, tuple[float, ...]], ...]  # (step, per hidden layer mean similarity)


@dataclass(frozen=True)
class Copied:
    """What a read takes from the trainer between two steps: a copy of the weights, the
    similarity rows not read before, and a shallow copy of the trainer for what no step
    changes (the data, the features, the loss, the config, the network's layer objects)."""

    view: Trainer
    theta: Array
    similarity: Rows  # the trainer's rows from `since` on
    since: int
    record: int  # which record they come from (its id): a new run has a new one
    step: int


def copy_run(trainer: Trainer, known: tuple[int, int] = (0, 0)) -> Copied:
    """Runs inside `reader.read`: one copy of theta, the similarity rows after the `known`
    (record id, rows) ones (all of them from a record not known), references."""
    record = trainer.similarity
    since = known[1] if known[0] == id(record) and known[1] <= len(record) else 0
    return Copied(
        view=copy.copy(trainer),
        theta=trainer.network.theta.copy(),
        similarity=tuple((step, tuple(means)) for step, means in record[since:]),
        since=since,
        record=id(record),
        step=int(trainer.steps_done),
    )


@dataclass(frozen=True)
class Inside:
    """One reading: the tiles and every hidden layer's similarity matrix."""

    maps: UnitMaps
    similarity: tuple[Array, ...]  # per hidden layer, (units, units) for the first MAX_KEPT
    step: int


def input_names(view: Trainer) -> tuple[str, ...]:
    """The network's inputs as the lab writes them: x1, x2, x1², sin x1, ..."""
    names = tuple(FEATURES[name].formula for name in view.config.data.features)
    if len(names) == view.n_inputs:
        return names
    return tuple(f"x{i + 1}" for i in range(view.n_inputs))


def compute(copied: Copied, xs: Array, ys: Array) -> Inside:
    """The tiles on the grid xs by ys and the similarities, from the copy (any thread)."""
    view = copied.view
    view.network = network_over(view.network, copied.theta)
    hidden = view.unit_maps(xs, ys)  # the forward of the grid: the output's logits too
    logits = view.network.layers[-1].a
    maps = build_maps(
        view.network,
        xs,
        ys,
        view.inputs(plane(xs, ys)),
        hidden,
        logits,
        view.X_train,
        input_names=input_names(view),
        activation=view.config.model.activation,
        output=view.loss.probabilities,
        output_names=tuple(view.dataset.class_names),
        step=copied.step,
    )
    similarity = tuple(
        unit_similarity(np.asarray(layer.W)[:, :MAX_KEPT]) for layer in view.network.layers[:-1]
    )
    return Inside(maps, similarity, copied.step)


def unit_detail(maps: UnitMaps, column: Column, unit: int) -> Text:
    """The unit's name, its marks, its bias and incoming weights as signed bars."""
    text = Text()
    # No span starts with a blank: rsvg (the screenshots) would drop it.
    text.append(f"{column.unit_name(unit)} ", style="bold")
    text.append(f"({column.activation}) · step {maps.step}\n", style="dim")
    if column.dead[unit]:
        text.append("dead: zero for every training sample\n", style="bold red")
    if column.saturated[unit]:
        text.append("saturated for most training samples\n", style="bold yellow")
    if not column.weights.size:
        text.append("an input: no incoming weights\n", style="dim")
        return text
    W, b = column.weights[:, unit, :], column.bias[unit]
    top = float(np.max(np.abs(W))) if W.size else 0.0
    sources = _sources(maps, column)
    for piece in range(W.shape[1]):
        if W.shape[1] > 1:
            text.append(f"piece {piece + 1}\n", style="italic")
        text.append(f"bias {b[piece]:+.4g}\n")
        for i, w in enumerate(W[:, piece]):
            length = round(abs(w) / top * BAR) if top > 0 else 0
            text.append(f"{sources[i][:10]:<10} {w:+.3f} ")
            text.append("█" * length, style=POSITIVE if w > 0 else NEGATIVE)
            text.append("\n")
    return text


def _sources(maps: UnitMaps, column: Column) -> list[str]:
    """The names of a column's inputs: the input features, or the previous layer's units."""
    index = maps.columns.index(column)
    before = maps.columns[index - 1]
    fan_in = column.weights.shape[0]
    if before.role != HIDDEN:
        return [before.unit_name(i) for i in range(fan_in)]
    return [f"{before.name} u{i + 1}" for i in range(fan_in)]


class SimilarityLine(Static):
    """The mean similarity plot: drawn by its screen for its size, again when that
    changes (the matrix above it grows with the selected layer's width)."""

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, InsideScreen):
            screen.show_line()


class InsideScreen(View):
    """Tiles, the selected layer's similarity matrix, the mean similarity over time."""

    DEFAULT_CSS: ClassVar[str] = """
    InsideScreen #inside-body { height: 1fr; border: round $accent; padding: 0 1; }
    InsideScreen #inside-main { height: 1fr; }
    InsideScreen #inside-tiles, InsideScreen #inside-detail { width: 1fr; height: 1fr; }
    InsideScreen #inside-detail { display: none; }
    InsideScreen #inside-detail DecisionBoundary { width: 1fr; }
    InsideScreen #inside-weights { width: 34; height: 1fr; }
    InsideScreen #inside-side { width: 36; height: 1fr; padding: 0 0 0 1; }
    InsideScreen #inside-line { height: 1fr; }
    InsideScreen #inside-message { height: auto; display: none; }
    InsideScreen.-narrow #inside-side { display: none; layout: horizontal; width: 1fr; }
    InsideScreen.-narrow #inside-side SimilarityMatrix { width: 2fr; height: 1fr; }
    InsideScreen.-narrow #inside-line { width: 3fr; }
    InsideScreen.-narrow.-similarity #inside-side { display: block; }
    InsideScreen.-narrow.-similarity #inside-tiles,
    InsideScreen.-narrow.-similarity #inside-detail { display: none; }
    InsideScreen.-large #inside-tiles { display: none; }
    InsideScreen.-large #inside-detail { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "similarity", "similarity"),
        Binding("escape,q", "back", "back", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self._ready = False  # on_mount has run: the widgets exist
        # Textual reads them from the instance: below 100 columns one pane at a time.
        self.HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
        self.run = run
        self.inside: Inside | None = None
        self._asked: tuple[int, int, int] | None = None  # run id, step, boundary id read
        self._worker: Worker[Inside] | None = None
        self._again: Snapshot | None = None  # a newer boundary came while the worker ran
        self._run_id = -1
        self._snapshot: Snapshot | None = None
        self.means: list[tuple[int, tuple[float, ...]]] = []  # the trainer's similarity rows
        self._record = 0  # the id of the record they were read from
        self._line_key: tuple[int, ...] | None = None  # what the line was drawn for
        self._read_at = -READ_INTERVAL
        self._line_at = -LINE_INTERVAL
        self._plt = charts.new_plot()
        self.reads = 0  # copies taken through reader.read (tests)

    def compose(self) -> ComposeResult:
        with Vertical(id="inside-body") as body:
            body.border_title = "Inside the network: a tile per unit"
            body.border_subtitle = "arrows select · enter large · s similarity · esc"
            yield Static(NO_TILES, id="inside-message")
            with Horizontal(id="inside-main"):
                yield TileGrid(id="inside-tiles")
                with Horizontal(id="inside-detail"):
                    yield DecisionBoundary(id="inside-large")
                    yield Static("", id="inside-weights")
                with Vertical(id="inside-side"):
                    yield SimilarityMatrix(id="inside-matrix")
                    yield SimilarityLine("", id="inside-line")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ready = True
        self.query_one(TileGrid).focus()
        self.refresh_from(self.run.snapshot())

    # ------------------------------------------------------------------ reading

    def refresh_from(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if not self._ready:
            return  # pushed, not composed yet: on_mount reads the run itself
        boundary = snapshot.boundary
        plane_run = snapshot.boundary_kind in PLANE_KINDS
        self.query_one("#inside-message").display = not plane_run
        if not plane_run or boundary is None:
            return
        key = (snapshot.run_id, boundary.step, id(boundary))
        if key == self._asked:
            return
        now = time.monotonic()
        if snapshot.state == "running" and now - self._read_at < READ_INTERVAL:
            return  # a later snapshot of the running run comes within a poll or two
        self._read_at = now
        if self._worker is not None and not self._worker.is_finished:
            self._again = snapshot
            return
        self._asked = key
        if snapshot.run_id != self._run_id:  # a new run: its own record (whatever its id)
            self.means, self._record = [], 0
        known = (self._record, len(self.means))
        copied = self.run.read(lambda trainer: copy_run(trainer, known))
        self.reads += 1
        if copied.since == 0:
            self.means = []
        self.means += copied.similarity
        self._record = copied.record
        xs, ys = boundary.xs, boundary.ys
        run_id = snapshot.run_id
        self._worker = self.run_worker(
            lambda: compute(copied, xs, ys),
            thread=True,
            exclusive=True,
            group="inside",
            exit_on_error=False,
            name=f"inside-{run_id}-{copied.step}",
        )
        self._run_id = run_id

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.query_one("#inside-message", Static).update(
                f"cannot draw the tiles: {event.worker.error}"
            )
            self.query_one("#inside-message").display = True
        again, self._again = self._again, None
        if again is not None:
            self.refresh_from(again)

    def show(self, inside: Inside) -> None:
        """A new reading: the tiles, the matrix of the selected layer, the line."""
        self.inside = inside
        self.query_one(TileGrid).show(inside.maps)
        self._show_side()
        if self.has_class("-large"):
            self._show_large()

    # ------------------------------------------------------------------ drawing

    def selected_layer(self) -> int | None:
        """The hidden layer the similarity shows: the selected column's, else the first."""
        if self.inside is None or not self.inside.similarity:
            return None
        column = self.query_one(TileGrid).selection.column
        hidden = [i for i, c in enumerate(self.inside.maps.columns) if c.role == HIDDEN]
        return hidden.index(column) if column in hidden else 0

    def _show_side(self) -> None:
        if self.inside is None:
            return
        layer = self.selected_layer()
        matrix = self.query_one(SimilarityMatrix)
        if layer is None:
            matrix.show(None, "similarity: no hidden layer")
        else:
            S = self.inside.similarity[layer]
            mean = f" · mean {self.means[-1][1][layer]:.2f}" if self.means else ""
            matrix.show(S, f"L{layer + 1} similarity{mean}")
        self.call_after_refresh(self.show_line)  # after the matrix took its height

    def show_line(self) -> None:
        """The mean similarity of every hidden layer at each evaluation, reduced to the
        plot's width; drawn again only when a row came or the size changed."""
        line = self.query_one("#inside-line", Static)
        width, height = line.content_region.width, line.content_region.height
        if width < 10 or height < 4 or self._snapshot is None:
            return
        samples = self.means
        key = (len(samples), samples[-1][0] if samples else -1, width, height)
        if key == self._line_key:
            return
        now = time.monotonic()
        resized = self._line_key is None or self._line_key[2:] != key[2:]
        if (
            self._snapshot.state == "running"
            and not resized
            and now - self._line_at < LINE_INTERVAL
        ):
            return
        self._line_key, self._line_at = key, now
        if not samples:
            line.update(
                Text("mean similarity: recorded at each evaluation", style="dim"), layout=False
            )
            return
        steps = np.array([s for s, _ in samples], dtype=np.float64)
        means = np.array([m for _, m in samples], dtype=np.float64).reshape(len(samples), -1)
        n_layers = self._snapshot.n_layers
        lines = []
        for i in range(means.shape[1]):
            x, y, _, _ = charts.reduce_minmax(steps, means[:, i], means[:, i], width, means[:, i])
            lines.append(charts.Line(x, y, charts.layer_name(i, n_layers), i))
        data = charts.PlotInput.from_snapshot(self._snapshot, charts.EvalColumns())
        figure = charts.draw_lines(
            self._plt, "mean similarity", lines, SIMILARITY_AXIS, data, width, height,
            not self.app.no_color,
        )  # fmt: skip
        # Its size is the layout's (1fr), never its content's: no layout pass of the screen.
        line.update(charts.render(self._plt, figure, width), layout=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self.show_line)

    def on_tile_grid_moved(self, event: TileGrid.Moved) -> None:
        self._show_side()

    def on_tile_grid_chosen(self, event: TileGrid.Chosen) -> None:
        self.add_class("-large")
        self._show_large()

    def _show_large(self) -> None:
        if self.inside is None:
            return
        maps = self.inside.maps
        selection: Selection = self.query_one(TileGrid).selection
        column = maps.columns[selection.column]
        unit = selection.unit
        picture = _unit_boundary(maps, column, unit)
        self.query_one(DecisionBoundary).refresh_from(_Shown(picture))
        weights = self.query_one("#inside-weights", Static)
        weights.update(unit_detail(maps, column, unit), layout=False)  # a fixed size

    # ------------------------------------------------------------------ keys

    def action_similarity(self) -> None:
        self.toggle_class("-similarity")
        if not self.has_class("-similarity"):
            self.query_one(TileGrid).focus()  # hidden meanwhile below 100 columns
        self.call_after_refresh(self.show_line)

    def action_back(self) -> None:
        if self.has_class("-large"):
            self.remove_class("-large")
            self.query_one(TileGrid).focus()
            return
        self.dismiss(None)


@dataclass(frozen=True)
class _Shown:
    """What DecisionBoundary.refresh_from reads: a boundary."""

    boundary: Boundary


def _unit_boundary(maps: UnitMaps, column: Column, unit: int) -> Boundary:
    """One unit's map as a "values" picture over the plane, without data points. A
    values picture takes its colour range from the targets: given the column's scale
    (+-), 0 is the background as in the tiles."""
    none = np.zeros((0, 2))
    return Boundary(
        kind="values",
        xs=maps.xs,
        ys=maps.ys,
        probs=column.maps[:, :, unit : unit + 1],
        points=none,
        labels=np.array([-column.scale, column.scale]),
        val_points=none,
        val_labels=np.zeros(0),
        class_names=(),
        step=maps.step,
    )
