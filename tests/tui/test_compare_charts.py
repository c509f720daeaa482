"""The compare view's plots as strips: charts.render_strips draws what charts.render draws,
cell for cell, without the Text that a frame would turn into strips again."""

from __future__ import annotations

import numpy as np
import pytest
from rich.color import Color
from rich.console import Console
from rich.style import Style
from textual.strip import Strip

from tui_nn.charts import (
    LOG,
    PERCENT,
    Axis,
    EvalCache,
    Line,
    PlotInput,
    _ansi_segments,
    draw_lines,
    new_plot,
    render,
    render_strips,
)
from tui_nn.core.compare import entries_from, parse_assignment

BASE = Style(color="rgb(200,200,200)", bgcolor="rgb(10,10,10)")


def cells(strip: Strip) -> list[tuple[object, ...]]:
    def rgb(colour: Color | None) -> object:
        return None if colour is None else colour.get_truecolor()

    return [
        (ch, rgb(s.style.color), rgb(s.style.bgcolor), bool(s.style.bold), bool(s.style.dim))
        for s in strip
        for ch in s.text
    ]


@pytest.mark.parametrize("color", [True, False])
@pytest.mark.parametrize("axis", [LOG, PERCENT])
@pytest.mark.parametrize("size", [(72, 31), (53, 14), (30, 6)])
def test_strips_show_what_the_text_shows(color: bool, axis: Axis, size: tuple[int, int]) -> None:
    width, height = size
    x = np.arange(0.0, 1000.0, 10.0)
    lines = [
        Line(x, np.exp(-x / 300) + 0.01 * i + 0.01, f"run{i}", i, dim=i == 0) for i in range(5)
    ]
    data = PlotInput(step=990)
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    plt = new_plot()
    text = render(plt, draw_lines(plt, "loss", lines, axis, data, width, height, color), width)
    want = [
        Strip(list(row.render(console))).apply_style(BASE).adjust_cell_length(width, BASE)
        for row in text.split("\n")
    ]
    figure = draw_lines(plt, "loss", lines, axis, data, width, height, color)
    got = render_strips(plt, figure, width, console, BASE)
    assert [cells(s) for s in got] == [cells(s) for s in want]


def test_a_code_plotext_does_not_write_is_left_to_rich() -> None:
    assert _ansi_segments("\x1b[1mbold\x1b[0m", {}) is None
    segments = _ansi_segments("a\x1b[38;2;1;2;3mb\x1b[0mc", {})
    assert segments is not None and [s.text for s in segments] == ["a", "b", "c"]
    assert segments[1].style.color is not None and segments[2].style == Style.null()


def test_eval_columns_of_a_run_without_evaluations_are_empty() -> None:
    """training.eval_every = 0: the dead-units plot of a comparison has nothing to read."""
    columns = EvalCache().update([])
    assert columns.step.shape == (0,) and columns.dead.shape == (0, 0)


@pytest.mark.usefixtures("ui_idle")
async def test_the_dead_units_plot_draws_runs_never_evaluated() -> None:
    from tests.tui.pilot_helpers import CONFIG, wait_until
    from tui_nn.app import LabApp
    from tui_nn.screens.compare import CompareScreen

    config = CONFIG.with_changes(training={"eval_every": 0})
    app = LabApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        app.start_comparison(
            entries_from(config, parse_assignment("activation=relu,tanh")), "no evals"
        )
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        await pilot.press("3")
        await wait_until(pilot, lambda: screen.plots.active == 3 and screen.plots.draws > 0)
        assert "dead" in screen.plots.figure_text
