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
