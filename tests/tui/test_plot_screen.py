"""The plots as a student sees them: the PlotsPanel's cells on screen, read back.

These tests read the screen, not the chart code, so they hold whatever draws it:
the legend stays off the canvas, the validation line starts at step 0, tick labels sit
at their true positions (linear in rows), and marks are named under the x axis.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import FakeHistory, make_evals
from textual.app import App, ComposeResult
from textual.widgets import ContentSwitcher

from tui_nn.widgets.plots import PlotsPanel

ORANGE = (229, 142, 38)  # the validation line's colour (charts.PALETTE[VAL])
AXIS = set("│┤├┼")  # the y axis' column, with and without a tick
LEGEND_WORDS = ("min/max", "train", "val")


def snapshot(
    steps: int,
    every: int = 10,
    hidden: tuple[int, ...] = (16, 16),
    activation: str = "relu",
    history: FakeHistory | None = None,
    marks: tuple[SimpleNamespace, ...] = (),
    zero_losses_after: int | None = None,
) -> SimpleNamespace:
    """A paused run's snapshot: `steps` steps, an evaluation at step 0 and every `every`;
    from `zero_losses_after` on, each bucket's lowest batch loss is exactly zero."""
    history = history or FakeHistory(steps, n_layers=len(hidden) + 1)

    def series(name: str, n: int) -> SimpleNamespace:
        s = history.series(name, n)
        if name != "loss" or zero_losses_after is None:
            return s
        low = np.where(s.steps > zero_losses_after, 0.0, s.min)
        return SimpleNamespace(steps=s.steps, mean=s.mean, min=low, max=s.max)

    evals = [
        SimpleNamespace(**{**vars(e), "dead": [0] * len(hidden)})
        for e in make_evals(steps // every + 1, every)
    ]
    return SimpleNamespace(
        version=steps,
        run_id=0,
        state="paused",
        step=steps,
        evals=tuple(evals),
        has_history=True,
        series=series,
        series_many=lambda names, n: [series(name, n) for name in names],
        n_layers=len(hidden) + 1,
        config=SimpleNamespace(
            model=SimpleNamespace(hidden=list(hidden)),
            training=SimpleNamespace(eval_every=every),
        ),
        activation=activation,
        task="classification",
        boundary=None,
        marks=marks,
    )


class PlotsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PlotsPanel(min_interval=0.0)


Cell = tuple[str, tuple[int, int, int] | None]


def cells(app: App[None]) -> list[list[Cell]]:
    """The visible plot's cells, row by row: each character and its colour."""
    switcher = app.query_one(PlotsPanel).query_one(ContentSwitcher)
    region = switcher.get_child_by_id(str(switcher.current)).region
    grid: list[list[Cell]] = []
    for strip in app.screen._compositor.render_strips()[region.y : region.bottom]:
        row: list[Cell] = []
        for segment in strip:
            color = segment.style.color if segment.style else None
            rgb = tuple(color.triplet) if color is not None and color.triplet else None
            row += [(ch, rgb) for ch in segment.text]
        grid.append(row[region.x : region.right])
    return grid


def text(grid: list[list[Cell]]) -> list[str]:
    return ["".join(ch for ch, _ in row) for row in grid]


def axis_column(rows: list[str]) -> int:
    """The y axis' column: where the corner of the two axes is."""
    return next(row.index("└") for row in rows if "└" in row)


def canvas_rows(rows: list[str]) -> range:
    """The rows of the canvas: the rows of the y axis above the x axis' corner."""
    col = axis_column(rows)
    bottom = next(i for i, row in enumerate(rows) if "└" in row)
    top = bottom
    while top > 0 and len(rows[top - 1]) > col and rows[top - 1][col] in AXIS | {"┌"}:
        top -= 1
    return range(top, bottom)


async def draw(snap: SimpleNamespace, size: tuple[int, int], tab: int = 1) -> list[list[Cell]]:
    app = PlotsApp()
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(PlotsPanel)
        panel.show_tab(tab)
        panel.refresh_from(snap)
        await pilot.pause()
        return cells(app)


# ---------------------------------------------------------------- the legend


@pytest.mark.parametrize("size", [(100, 30), (50, 12)], ids=["120-column lab", "80-column lab"])
@pytest.mark.parametrize("steps", [40, 100_000], ids=["short run", "long run"])
async def test_the_legend_is_outside_the_canvas(size: tuple[int, int], steps: int) -> None:
    """plotext's own legend sat over the top left of the canvas, where a falling loss
    starts (a quarter of the x axis at 80 columns): the legend is drawn above it."""
    rows = text(await draw(snapshot(steps, every=max(10, steps // 50)), size))
    inside = canvas_rows(rows)
    col = axis_column(rows)
    for word in LEGEND_WORDS:
        assert not any(word in rows[i][col:] for i in inside), f"{word!r} on the canvas"
        assert any(word in rows[i] for i in range(inside.start)), f"{word!r} not in the legend"


async def test_the_validation_line_starts_at_step_0() -> None:
    """The trainer evaluates at step 0: the val line starts at the canvas' first column."""
    grid = await draw(snapshot(400, every=50), (100, 30))
    rows = text(grid)
    first = axis_column(rows) + 1
    assert any(grid[i][first][1] == ORANGE for i in canvas_rows(rows))


# ---------------------------------------------------------------------- ticks


def x_labels(rows: list[str]) -> list[str]:
    bottom = next(i for i, row in enumerate(rows) if "└" in row)
    return rows[bottom + 1].split()


def y_labels(rows: list[str]) -> list[tuple[int, str]]:
    """(row counted from the bottom of the canvas, label) of each y tick label, on the
    canvas' rows and the x axis' row (where a squeezed plot put some)."""
    col = axis_column(rows)
    inside = canvas_rows(rows)
    return [
        (inside.stop - 1 - i, rows[i][:col].strip())
        for i in range(inside.start, inside.stop + 1)
        if rows[i][:col].strip()
    ]


def number(label: str) -> float:
    return float(label.rstrip("%"))


def assert_at_true_rows(labels: list[tuple[int, float]], rows: int) -> None:
    """Labels rising upwards, each within a quarter row of where the line through the
    lowest and the highest puts its value: an axis that reads evenly. A canvas of four
    rows or more has two labels at least, one of two rows one, one of a row none."""
    assert len(labels) >= (2 if rows >= 4 else 1 if rows >= 2 else 0), labels
    labels = sorted(labels)
    values = [v for _, v in labels]
    assert values == sorted(values) and len(set(values)) == len(values), labels
    if len(labels) < 2:
        return
    (r0, v0), (r1, v1) = labels[0], labels[-1]
    for r, v in labels[1:-1]:
        assert abs(r0 + (r1 - r0) * (v - v0) / (v1 - v0) - r) <= 0.25, labels


async def test_a_two_step_run_counts_its_steps_once() -> None:
    rows = text(await draw(snapshot(2), (100, 30)))
    labels = x_labels(rows)
    assert labels == sorted(set(labels), key=labels.index)  # no label twice
    assert labels[0] == "0" and labels[-1] == "2"


@pytest.mark.parametrize("size", [(50, 9), (50, 11), (50, 12), (83, 18), (83, 30)])
async def test_percent_ticks_sit_at_their_true_rows(size: tuple[int, int]) -> None:
    """At 80x24 the accuracy axis read 100/50/25/0 on evenly spaced rows. Val accuracy
    is 40% throughout: its line is on the row the labels put 40% on."""
    grid = await draw(snapshot(300), size, tab=2)
    rows = text(grid)
    labels = [(r, number(s)) for r, s in y_labels(rows)]
    assert_at_true_rows(labels, len(canvas_rows(rows)))
    (r0, v0), (r1, v1) = min(labels), max(labels)
    inside = canvas_rows(rows)
    val_rows = {inside.stop - 1 - i for i in inside for ch, rgb in grid[i] if rgb == ORANGE}
    assert val_rows, "no val line"
    expected = r0 + (r1 - r0) * (40 - v0) / (v1 - v0)
    assert all(abs(r - expected) <= 0.75 for r in val_rows), (val_rows, expected)


LOG_LABEL = re.compile(r"^(\d+(\.\d+)?)(e(-?\d+))?$")


def log_value(label: str) -> float:
    m = LOG_LABEL.match(label)
    assert m, label
    return math.log10(float(m.group(1))) + (int(m.group(4)) if m.group(4) else 0)


@pytest.mark.parametrize("size", [(40, 5), (40, 6), (40, 7), (40, 11), (50, 12), (83, 18)])
@pytest.mark.parametrize("tab", [1, 4, 5], ids=["loss", "grad", "update"])
async def test_log_ticks_rise_at_their_true_rows(size: tuple[int, int], tab: int) -> None:
    """In a 40x12 lab the log ticks came out upside down (0.01 over 1)."""
    rows = text(await draw(snapshot(500), size, tab))
    labels = [(r, log_value(s)) for r, s in y_labels(rows)]
    assert_at_true_rows(labels, len(canvas_rows(rows)))


async def test_exact_zero_losses_do_not_stretch_the_loss_axis() -> None:
    """Zero batch losses were drawn at 1e-12: a 12-decade axis on a long run. The axis
    ends a few decades under the lowest line (the mean loss, 0.1 here; the val loss)."""
    snap = snapshot(100_000, every=1000, zero_losses_after=10_000)
    rows = text(await draw(snap, (100, 30)))
    lowest = min(log_value(s) for _, s in y_labels(rows))
    lowest_line = math.log10(min(e.val_loss for e in snap.evals))
    assert lowest >= math.floor(lowest_line) - 3
    header = " ".join(rows[: canvas_rows(rows).start])
    assert "0 drawn at" in header


# ---------------------------------------------------------------------- marks


async def test_marks_are_named_under_the_x_axis_at_their_step() -> None:
    marks = (
        SimpleNamespace(step=0, kind="reset", label="reset"),
        SimpleNamespace(step=600, kind="lr", label="lr 0.05"),
    )
    rows = text(await draw(snapshot(1000, every=50, marks=marks), (100, 30)))
    bottom = next(i for i, row in enumerate(rows) if "└" in row)
    named = rows[bottom + 2]  # under the x axis and its step labels
    assert "▲lr 0.05" in named and "▲reset" in named
    # The ▲ is under the x axis' mark of step 600, a third of the way from 1000.
    col = named.index("▲lr")
    assert rows[bottom][col] == "┴"
    left = axis_column(rows)
    assert abs((col - left) / (len(rows[bottom].rstrip()) - left) - 0.6) < 0.03
    assert not any("lr 0.05" in rows[i] for i in canvas_rows(rows))


async def test_many_layers_get_a_legend_that_names_the_lines_under_others() -> None:
    """Six tanh layers: 12 lines on the units plot, with a legend (there was none)."""
    history = FakeHistory(300, n_layers=7)
    for i in range(6):  # every layer saturates alike: the lines lie on one another
        history.columns[f"layers.{i}.saturated"] = np.full(300, 8.0)
    snap = snapshot(300, hidden=(64,) * 6, activation="tanh", history=history)
    rows = text(await draw(snap, (100, 30), tab=3))
    header = " ".join(rows[: canvas_rows(rows).start])
    assert "L1-L5 sat under L6 sat 8/64" in header
    assert "dead" in header
