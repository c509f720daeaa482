"""The compare view and the `:` command line in the lab, at 80x24 and 120x40, read off the
screen as the terminal shows it: the runs' lines in the legend, the table, the keys that
select, pin, hide, drop and fork runs, and the single-run view one key away, unchanged."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from textual.screen import Screen
from textual.widgets import Input

from tests.tui.pilot_helpers import CONFIG, wait_until
from tui_nn.app import LabApp
from tui_nn.screens.compare import CommandLine, CompareScreen
from tui_nn.screens.tour import TourScreen
from tui_nn.widgets.boundary import DecisionBoundary
from tui_nn.widgets.compare import BoundaryGrid

pytestmark = pytest.mark.usefixtures("ui_idle")
SIZES = [(80, 24), (120, 40)]


def screen_text(app: LabApp, screen: Screen[Any] | None = None) -> str:
    console = Console(width=app.size.width, record=True, color_system=None, file=io.StringIO())
    console.print((screen or app.screen)._compositor.render_update(full=True))
    return "\n".join(console.export_text().splitlines()[: app.size.height])


async def command(pilot, text: str, key: str = "colon") -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandLine))
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def compare_view(pilot, runs: int) -> CompareScreen:
    def shown() -> bool:
        screen = pilot.app.screen
        return (
            isinstance(screen, CompareScreen)
            and len(screen.runner.snapshot().runs) == runs
            and screen.plots.draws > 0
        )

    await wait_until(pilot, shown)
    return pilot.app.screen


def drawn(screen: CompareScreen, labels: list[str]) -> bool:
    """The plot's legend names these runs and the runs have trained."""
    snap = screen.runner.snapshot()
    legend = screen.plots.figure_text
    return all(r.step > 0 for r in snap.runs) and all(label in legend for label in labels)


@pytest.mark.parametrize("size", SIZES)
async def test_compare_overlays_the_runs_and_tables_them(size: tuple[int, int]) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await command(pilot, "compare activation=relu,tanh,sigmoid")
        screen = await compare_view(pilot, 3)
        await wait_until(pilot, lambda: drawn(screen, ["relu", "tanh", "sigmoid"]))
        screen.poll()
        await pilot.pause()
        text = screen_text(app)
        assert "COMPARE RUNNING" in text and "activation: relu, tanh, sigmoid" in text
        table = [row for row in text.splitlines() if "activation" in row and "loss" in row]
        assert table, text
        for label in ("relu", "tanh", "sigmoid"):
            assert any(
                row.strip().startswith(f"■ {label}") or f" {label} " in row
                for row in text.splitlines()
            ), label
        assert "loss (log)" in text
        await pilot.press("2")
        await wait_until(pilot, lambda: "accuracy" in screen.plots.figure_text)
        await pilot.press("q")


BRAILLE = range(0x2800, 0x2900)  # plotext's line dots; the boundaries draw half blocks


def stray_dots(text: str, screen: CompareScreen) -> list[tuple[int, int]]:
    """Where a line's dot lies outside the plot's axes box (or a legend key outside the
    header over it): (row, column) on the screen."""
    rows = text.splitlines()
    plots = screen.plots.region
    axis_row = next(
        y for y in range(plots.y, plots.bottom) if "└" in rows[y][plots.x : plots.right]
    )
    left = rows[axis_row].index("└", plots.x)
    right = left + len(rows[axis_row][left:].split(" ")[0]) - 1  # the axis line's end
    top = next(y for y in range(plots.y, axis_row) if rows[y][left] in "│┤")
    stray = []
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ord(ch) not in BRAILLE:
                continue
            in_header = plots.y <= y < top and plots.x <= x < plots.right
            in_box = top <= y < axis_row and left < x <= right
            if not (in_header or in_box):
                stray.append((y, x))
    return stray


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("runs", ["relu,tanh,sigmoid", "relu,tanh,sigmoid,leaky_relu"])
async def test_every_plot_stays_inside_its_axes(size: tuple[int, int], runs: str) -> None:
    """No line runs past its x axis into the boundaries (or the grid's empty cell), in
    any tab: the screen's cells, as the terminal shows them."""
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await command(pilot, f"compare activation={runs}")
        screen = await compare_view(pilot, len(runs.split(",")))
        await wait_until(pilot, lambda: drawn(screen, runs.split(",")))
        await wait_until(pilot, lambda: screen.runner.snapshot().runs[0].history_step > 200)
        for tab in ("1", "2", "3", "4", "5"):
            await pilot.press(tab)
            await wait_until(pilot, lambda tab=tab: screen.plots.active == int(tab))
            screen.poll()
            await pilot.pause()
            text = screen_text(app)
            assert not stray_dots(text, screen), (tab, stray_dots(text, screen), text)
            # A blank column between a line's last column and the boundaries beside it.
            between = screen.query_one(BoundaryGrid).region.x - 1
            top = screen.query_one("#compare-top").region
            assert all(row[between] == " " for row in text.splitlines()[top.y : top.bottom])


@pytest.mark.parametrize("size", SIZES)
async def test_select_pin_hide_and_drop(size: tuple[int, int]) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await command(pilot, "compare activation=relu,tanh,sigmoid")
        screen = await compare_view(pilot, 3)
        await wait_until(pilot, lambda: drawn(screen, ["relu", "tanh", "sigmoid"]))
        await pilot.press("down")
        assert screen.selected == 1
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.runner.snapshot().runs[1].pinned)
        await wait_until(pilot, lambda: "tanh ★" in screen_text(app))
        await pilot.press("x")  # a pinned run stays
        assert len(screen.runner.snapshot().runs) == 3
        await pilot.press("down", "h")  # sigmoid: hidden from the plots, still training
        await wait_until(pilot, lambda: "sigmoid" not in screen.plots.figure_text)
        hidden = screen.runner.snapshot().runs[2]
        assert hidden.hidden and hidden.state == "training"
        await pilot.press("x")
        await wait_until(pilot, lambda: len(screen.runner.snapshot().runs) == 2)
        assert [r.label for r in screen.runner.snapshot().runs] == ["relu", "tanh"]


@pytest.mark.parametrize("size", SIZES)
async def test_fork_from_the_lab_then_from_the_compare_view(size: tuple[int, int]) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandLine))
        assert app.screen.query_one(Input).value == "fork "
        app.screen.query_one(Input).value = "fork activation=tanh"
        await pilot.press("enter")
        screen = await compare_view(pilot, 2)
        assert [r.label for r in screen.runner.snapshot().runs] == ["relu", "tanh"]
        await pilot.press("down")  # fork the tanh run: its config with a new rate
        await command(pilot, "fork lr=0.1", key="f")
        await wait_until(pilot, lambda: len(screen.runner.snapshot().runs) == 3)
        snap = screen.runner.snapshot()
        assert snap.varied == ("model.activation", "optimizer.lr")
        assert snap.runs[2].config.model.activation == "tanh"
        assert snap.runs[2].config.optimizer.lr == 0.1 and snap.runs[2].step < snap.runs[0].step


async def test_a_bad_command_says_what_is_wrong_and_changes_nothing() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(80, 24)) as pilot:
        config = app.runner.config
        await command(pilot, "fork nope=1")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)
        assert "nope: unknown field" in app.screen.error
        app.screen.query_one(Input).value = "compare activation=relu,bogus"
        await pilot.press("enter")
        await pilot.pause()
        assert "model.activation: unknown name 'bogus'" in app.screen.error
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandLine))
        assert app.comparison is None and app.runner.config is config


@pytest.mark.parametrize("size", SIZES)
async def test_the_single_run_view_is_one_key_away_and_unchanged(size) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await pilot.press("n", "n")
        picture = app.lab_screen.query_one(DecisionBoundary)
        await wait_until(pilot, lambda: picture.boundary is not None and picture.boundary.step == 2)
        await pilot.pause()
        lab_before = screen_text(app, app.lab_screen)
        await command(pilot, "compare lr=0.1,0.01")
        screen = await compare_view(pilot, 2)
        await pilot.press("C")
        await wait_until(pilot, lambda: app.screen is app.lab_screen)
        assert app.runner.snapshot().step == 2
        assert screen_text(app) == lab_before
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen.runner is screen.runner


@pytest.mark.parametrize("size", SIZES)
async def test_a_lecture_comparison_runs_with_each_runs_verdict(size) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await command(pilot, "compare dying")
        screen = await compare_view(pilot, 3)
        assert screen.plots.active == 3  # the dead-units plot shows this claim

        def judged() -> bool:
            snap = screen.runner.snapshot()
            return snap.state == "done" and all(
                r.verdict is not None and r.verdict.status == "observed" for r in snap.runs
            )

        await wait_until(pilot, judged, timeout=60)
        screen.poll()
        await pilot.pause()
        text = screen_text(app)
        assert text.count("observed") >= 3 and "verdict" in text
        assert "units die: observed: " in text  # the selected run's verdict, in words


@pytest.mark.parametrize("size", SIZES)
async def test_the_tour_key_opens_the_tour_and_its_runs_stop_with_it(size) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TourScreen))
        tour = app.screen
        assert "Tour 1/6: One neuron is a line" in screen_text(app)
        runner = tour.runner
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.lab_screen)
        await wait_until(pilot, lambda: not runner.alive)


@pytest.mark.parametrize("size", SIZES)
async def test_a_sweep_directory_opens_its_members_side_by_side(tmp_path, size) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from engine.sweep import load_sweep, parse_grid, run_sweep
    from tui_nn.cli.lab import is_sweep

    base = CONFIG.with_changes(training={"steps": 40})
    with ThreadPoolExecutor(1) as pool:
        run_sweep(base, parse_grid(["model.activation=relu,tanh"]), 1, tmp_path / "s", pool)
    assert is_sweep(str(tmp_path / "s")) and not is_sweep(str(tmp_path))
    sweep = load_sweep(tmp_path / "s")
    app = LabApp(sweep.base, sweep=sweep)
    async with app.run_test(size=size) as pilot:
        screen = await compare_view(pilot, 2)
        snap = screen.runner.snapshot()
        assert snap.state == "done" and [r.step for r in snap.runs] == [40, 40]
        assert [r.label for r in snap.runs] == ["relu", "tanh"]
        ran = [m.row for m in sweep.members]
        assert all(row is not None for row in ran)
        await wait_until(pilot, lambda: drawn(screen, ["relu", "tanh"]))
        text = screen_text(app)
        assert "sweep " in text and "activation" in text and "COMPARE DONE" in text
        assert snap.runs[1].saturated_share is not None  # tanh: from the restored history


async def test_v_in_the_scenarios_runs_the_claim_beside_its_counter_examples() -> None:
    from engine.lecture.scenarios import SCENARIOS
    from tui_nn.screens.scenarios import ScenarioScreen

    app = LabApp(CONFIG)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ScenarioScreen))
        for _ in range(list(SCENARIOS).index("dead_relu")):
            await pilot.press("down")
        await pilot.press("v")
        screen = await compare_view(pilot, 3)
        runs = screen.runner.snapshot().runs
        assert [r.label for r in runs] == ["relu", "leaky_relu", "maxout"]
        assert [r.scenario.name for r in runs if r.scenario] == [
            "dead_relu",
            "leaky_relu",
            "maxout",
        ]


@pytest.mark.parametrize("size", SIZES)
async def test_every_member_of_a_big_sweep_is_a_page_away(tmp_path, size) -> None:
    """A sweep of 12 members opens on members 1-8, each where it stopped; ] shows 9-12,
    [ goes back: no member is out of reach, and no more than 8 lines overlay."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.sweep import load_sweep, parse_grid, run_sweep

    base = CONFIG.with_changes(training={"steps": 10})
    grid = parse_grid(["model.activation=relu,tanh,sigmoid", "optimizer.lr=0.1,0.01"])
    with ThreadPoolExecutor(1) as pool:
        run_sweep(base, grid, 2, tmp_path / "s", pool)
    sweep = load_sweep(tmp_path / "s")
    configs = [m.member.config for m in sweep.members]
    assert len(configs) == 12
    app = LabApp(sweep.base, sweep=sweep)  # as tui-nn --open DIR
    async with app.run_test(size=size) as pilot:
        screen = await compare_view(pilot, 8)

        def page(first: int, last: int) -> bool:
            snap = screen.runner.snapshot()
            return (
                [r.config for r in snap.runs] == configs[first - 1 : last]
                and all(r.step == 10 for r in snap.runs)
                and f"members {first}-{last} of 12" in screen_text(app)
            )

        await wait_until(pilot, lambda: page(1, 8))
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: page(9, 12))
        snap = screen.runner.snapshot()
        assert snap.state == "done"
        # Every sigmoid member, and the table still says so though the page shares it.
        assert snap.varied == ("model.activation", "optimizer.lr", "training.seed")
        assert snap.runs[0].label == "activation=sigmoid lr=0.1 seed=0"
        await wait_until(pilot, lambda: "activation=sigmoid" in screen.plots.figure_text)
        await pilot.press("right_square_bracket")  # the last page: it stays
        await pilot.pause()
        assert page(9, 12)
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: page(1, 8))
        assert len(screen.runner.snapshot().shown) <= 8


async def test_the_table_ticks_once_a_second_while_training_and_at_once_on_keys() -> None:
    from dataclasses import replace

    from textual.app import App

    from tui_nn.core.compare import CompareRunner, entries_from, parse_assignment
    from tui_nn.widgets.compare import TABLE_INTERVAL, CompareTable

    now = [100.0]
    runner = CompareRunner(entries_from(CONFIG, parse_assignment("activation=relu,tanh")))
    snap = replace(runner.snapshot(), state="running")
    runner.close()

    class TableApp(App[None]):
        def compose(self):
            yield CompareTable(clock=lambda: now[0])

    async with TableApp().run_test(size=(80, 24)) as pilot:
        table = pilot.app.query_one(CompareTable)
        table.show(snap, 0)
        assert table.draws == 1
        now[0] += TABLE_INTERVAL / 2
        table.show(replace(snap, version=snap.version + 1), 0)  # new numbers: they wait
        assert table.draws == 1
        table.show(replace(snap, version=snap.version + 1), 1)  # a key: at once
        assert table.draws == 2
        table.show(replace(snap, version=snap.version + 2, state="paused"), 1)  # paused
        assert table.draws == 3
        now[0] += TABLE_INTERVAL
        table.show(replace(snap, version=snap.version + 3), 1)
        assert table.draws == 4
