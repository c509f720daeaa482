"""The compare view's table of runs and its decision boundaries as small multiples.

The table has a row a run: its colour and marks (selected, pinned, hidden), only the
fields that differ between the runs, then the latest evaluation's loss and validation
accuracy, the dead and saturated shares, steps a second and the verdict where a scenario
judges the run. The boundaries are the lab's DecisionBoundary widget, one a shown run,
under a line that names the run in its colour.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from engine.config import FIELDS
from tui_nn.charts import line_style, saturates
from tui_nn.core.compare import CompareSnapshot, RunView, label_of, value_of
from tui_nn.widgets.boundary import DecisionBoundary

WIDE_TABLE = 100  # columns from which the verdict cell names the claim too
MAX_ROWS = 8  # runs the table lists at once (all of them: MAX_RUNS)
SHORT_ROWS = 4  # below TALL rows of screen, so that the plot keeps 10 rows at 80x24
TALL = 30
SWATCH = "■"
# Seconds between redraws of the table while the runs train (a rich Table costs a few ms
# to lay out): the step counts tick at the rate of the plots' history copies.
TABLE_INTERVAL = 1.0
STATUS_MARKS = {"observed": "✓", "not observed": "✗", "not yet": "…"}


def colour_of(run: RunView, color: bool = True) -> Style:
    rgb, _ = line_style(run.colour, color)
    return Style(color=None if rgb is None else f"rgb({rgb[0]},{rgb[1]},{rgb[2]})")


def run_name(run: RunView, color: bool = True, named: bool = True) -> Text:
    """The run's swatch in its colour and its name (`named`); ★ when pinned."""
    text = Text(SWATCH, style=colour_of(run, color))
    text.append((f" {run.label}" if named else "") + (" ★" if run.pinned else ""))
    return text


def named(snap: CompareSnapshot) -> bool:
    """Whether the table needs the runs' names: some run has a name of its own (a lecture
    comparison's), or no field tells them apart."""
    return not snap.varied or any(r.label != label_of(r.config, snap.varied) for r in snap.runs)


def column_name(key: str) -> str:
    """A varied field's column: its lab label ("dataset"), else its name."""
    return FIELDS[key].label or key.rsplit(".", 1)[1]


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def verdict_cell(run: RunView, wide: bool) -> str:
    if run.verdict is None:
        return "–" if run.scenario is None else "…"
    status = run.verdict.status
    cell = f"{STATUS_MARKS.get(status, '')} {status}"
    return f"{run.claim}: {cell}" if wide and run.claim else cell


def state_cell(run: RunView) -> str:
    """The steps done; a diverged run says it stopped there (its error says why)."""
    return f"{run.step:,}" + (" diverged" if run.state == "diverged" else "")


def window(runs: tuple[RunView, ...], selected: int | None, rows: int) -> tuple[RunView, ...]:
    """At most `rows` runs, the selected one among them (a short screen keeps its plot)."""
    if len(runs) <= rows:
        return runs
    at = next((i for i, r in enumerate(runs) if r.index == selected), 0)
    start = min(max(0, at - rows // 2), len(runs) - rows)
    return runs[start : start + rows]


def table(
    snap: CompareSnapshot,
    selected: int | None,
    width: int,
    color: bool = True,
    rows: int = MAX_ROWS,
) -> Table:
    """The runs as a table of only what tells them apart, and how each is doing: the
    dead share where a run has hidden units, the saturated share where one saturates,
    the rate while they train and the verdict where a scenario judges them. Past `rows`
    runs, the ones around the selected run (the header counts the others)."""
    runs = snap.runs
    grid = Table(box=None, padding=(0, 1), expand=False, header_style="bold", show_edge=False)
    names = named(snap)
    shown = window(runs, selected, rows)
    more = f"+{len(runs) - len(shown)}" if len(shown) < len(runs) else ""
    grid.add_column(("run " if names else "") + more, no_wrap=True)
    for key in snap.varied:
        grid.add_column(column_name(key), no_wrap=True)
    numbers: list[tuple[str, Callable[[RunView], str]]] = [
        ("step", state_cell),
        ("loss", lambda r: _number(r.last_eval.train_loss if r.last_eval else None)),
    ]
    if any(r.task != "regression" for r in runs):
        numbers.append(("val acc", _val_accuracy))
    if any(r.units for r in runs):
        numbers.append(("dead", lambda r: _percent(r.dead_share)))
    if any(saturates(r.activation) for r in runs if r.units):
        numbers.append(("sat", lambda r: _percent(r.saturated_share)))
    if any(r.steps_per_sec for r in runs):
        numbers.append(("steps/s", lambda r: f"{r.steps_per_sec:,.0f}"))
    for name, _ in numbers:
        grid.add_column(name, justify="right", no_wrap=True)
    judged = any(r.scenario is not None for r in runs)
    if judged:
        grid.add_column("verdict", no_wrap=True, overflow="ellipsis")
    for run in shown:
        cells: list[Any] = [run_name(run, color, names)]
        cells += [value_of(run.config, key) for key in snap.varied]
        cells += [cell(run) for _, cell in numbers]
        if judged:
            cells.append(verdict_cell(run, width >= WIDE_TABLE))
        style = "reverse" if run.index == selected else "dim" if run.hidden else ""
        grid.add_row(*cells, style=style)
    return grid


def _val_accuracy(run: RunView) -> str:
    ev = run.last_eval
    return _percent(None if ev is None or run.task == "regression" else ev.val_accuracy)


def detail(snap: CompareSnapshot, selected: int | None) -> Text:
    """The selected run in a line: its name, what hides or pins it, its verdict or error."""
    run = next((r for r in snap.runs if r.index == selected), None)
    if run is None:
        return Text("no run selected", style="dim")
    text = Text(f"{run.label}: ", style="bold")
    flags = [flag for flag, on in (("pinned", run.pinned), ("hidden", run.hidden)) if on]
    if flags:
        text.append(f"({', '.join(flags)}) ")
    if run.error:
        text.append(run.error)
    elif run.verdict is not None:
        claim = f"{run.claim}: " if run.claim else ""
        text.append(f"{claim}{run.verdict.status}: {run.verdict.summary}")
    else:
        text.append(f"{run.n_parameters:,} parameters, {run.loss_name}")
    return text


class CompareTable(Static):
    """The table; `show(snapshot, selected)` redraws it when something in it changed (while
    the runs train, their numbers at most every TABLE_INTERVAL)."""

    DEFAULT_CSS = """
    CompareTable {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(
        self, *, id: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__("", id=id)
        self._clock = clock
        self._shown: tuple[Any, ...] | None = None
        self._shown_at = -TABLE_INTERVAL
        self._rows = -1
        self.draws = 0  # how many times the table was laid out (tests)

    def show(self, snap: CompareSnapshot, selected: int | None) -> None:
        width = self.size.width or self.app.size.width
        rows = MAX_ROWS if self.app.size.height >= TALL else SHORT_ROWS
        key = (snap.version, selected, width, rows)
        if key == self._shown:
            return
        now = self._clock()
        numbers_only = self._shown is not None and key[1:] == self._shown[1:]
        if numbers_only and snap.state == "running" and now - self._shown_at < TABLE_INTERVAL:
            return  # training: its numbers tick once a second, keys show at once
        # A new layout only when the table's height changes (a run came or went).
        count = min(len(snap.runs), rows)
        layout = self._shown is None or count != self._rows
        self._shown, self._rows, self._shown_at = key, count, now
        text = table(snap, selected, width, not self.app.no_color, rows)
        self.update(text, layout=layout)
        self.draws += 1

    def on_resize(self) -> None:
        self._shown = None


class BoundaryCell(Vertical):
    """One run's decision boundary under its name."""

    DEFAULT_CSS = """
    BoundaryCell {
        height: 1fr;
        width: 1fr;
    }
    BoundaryCell > .cell-name {
        height: 1;
        width: 1fr;
        padding: 0 1 0 0;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BoundaryCell > DecisionBoundary {
        min-height: 2;
    }
    """

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self._named: tuple[Any, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", classes="cell-name")
        # The compare view polls twice a second and hands every cell its
        # run in the same poll: a clock that has always moved on lets each picture show at
        # once, so all of them change in one frame instead of one frame each.
        yield DecisionBoundary(clock=itertools.count().__next__)

    def refresh_from(self, run: RunView, selected: bool) -> None:
        labels, pictures = self.query(".cell-name"), self.query(DecisionBoundary)
        if not labels or not pictures:
            return  # not composed yet: the next poll fills it
        color = not self.app.no_color
        named = (run.label, run.colour, run.pinned, selected, color)
        if named != self._named:  # a new name costs a frame of the cell
            self._named = named
            name = run_name(run, color)
            if selected:
                name.stylize("reverse")
            labels.first(Static).update(name, layout=False)  # one row, always
        pictures.first().refresh_from(run)


class BoundaryGrid(Grid):
    """The shown runs' boundaries as small multiples: 1, 2 or 3 to a row."""

    DEFAULT_CSS = """
    BoundaryGrid {
        height: 1fr;
        width: 1fr;
        grid-gutter: 0 0;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._indices: tuple[int, ...] = ()

    def refresh_from(self, snap: CompareSnapshot, selected: int | None) -> None:
        runs = snap.shown
        indices = tuple(r.index for r in runs)
        if indices != self._indices:
            self._indices = indices
            self.remove_children()
            n = len(runs)
            columns = 1 if n <= 1 else 2 if n <= 4 else 3
            self.styles.grid_size_columns = columns
            self.styles.grid_size_rows = max(1, -(-n // columns))
            self.mount_all(BoundaryCell(i) for i in indices)
            self.call_after_refresh(self._fill, snap, selected)
            return
        self._fill(snap, selected)

    def _fill(self, snap: CompareSnapshot, selected: int | None) -> None:
        runs = {r.index: r for r in snap.shown}
        for cell in self.query(BoundaryCell):
            run = runs.get(cell.index)
            if run is not None and cell.is_mounted:
                cell.refresh_from(run, run.index == selected)
