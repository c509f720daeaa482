"""The keys issue 9 adds to the lab: the pace (< and >), the plots' smoothing and zoom
(e, z), the validation points (v), and their entries in the help screen and palette."""

from __future__ import annotations

import pytest
from pilot_helpers import CONFIG, wait_until
from rich.console import Console

from tui_nn.app import LabApp
from tui_nn.commands import LAB_ACTIONS, SPEEDS, LabCommands
from tui_nn.widgets.boundary import DecisionBoundary
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine

pytestmark = pytest.mark.usefixtures("ui_idle")

NARROW = (80, 24)
NEW_KEYS = {
    "less_than_sign": "slower",
    "greater_than_sign": "faster",
    "e": "smoothing",
    "z": "zoom",
    "v": "validation_points",
    "w": "expand",
}


def status(app: LabApp) -> str:
    return str(app.query_one(StatusLine).render())


async def test_less_than_slows_down_to_3_and_greater_than_goes_back_to_full_speed() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        assert app.runner.snapshot().speed is None  # full speed is the default
        assert "speed" not in status(app)
        await pilot.press("less_than_sign")
        assert app.runner.snapshot().speed == 1000
        assert "speed 1,000 steps/s" in status(app)
        slower = [app.runner.snapshot().speed]
        for _ in range(len(SPEEDS)):  # more presses than steps: it stays at the slowest
            await pilot.press("less_than_sign")
            slower.append(app.runner.snapshot().speed)
        assert slower == [*SPEEDS[1:], SPEEDS[-1], SPEEDS[-1]]
        assert "speed 3 steps/s" in status(app)
        await pilot.press("greater_than_sign")
        assert app.runner.snapshot().speed == 10
        for _ in range(len(SPEEDS)):
            await pilot.press("greater_than_sign")
        assert app.runner.snapshot().speed is None
        assert "speed" not in status(app)


async def test_a_running_run_shows_its_rate_of_the_pace() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        for _ in range(SPEEDS.index(30.0)):
            await pilot.press("less_than_sign")
        await pilot.press("space")
        await wait_until(pilot, lambda: " of 30 steps/s" in status(app))
        await pilot.press("space")
        assert "speed 30 steps/s" in status(app)


async def test_a_pace_set_elsewhere_steps_from_the_nearest() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        app.runner.set_speed(250.0)  # nearest on the ladder: 300
        await pilot.press("less_than_sign")
        assert app.runner.snapshot().speed == 100


async def test_e_and_z_cycle_the_plots_smoothing_and_zoom() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        plots = app.query_one(PlotsPanel)
        smoothings = []
        for _ in range(4):
            await pilot.press("e")
            smoothings.append(plots.view.smoothing)
        assert smoothings == [0.6, 0.9, 0.99, 0.0]
        zooms = []
        for _ in range(3):
            await pilot.press("z")
            zooms.append(plots.view.zoom)
        assert zooms[-1] == "all" and len(set(zooms)) == 3


async def test_v_shows_and_hides_the_validation_points() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        boundary = app.query_one(DecisionBoundary)
        assert not boundary.show_validation
        await pilot.press("v")
        assert boundary.show_validation
        await pilot.press("v")
        assert not boundary.show_validation


async def test_the_new_keys_are_in_the_help_screen_and_the_palette() -> None:
    actions = {entry.key: entry for entry in LAB_ACTIONS}
    for key, action in NEW_KEYS.items():
        assert actions[key].action == action
    app = LabApp(CONFIG)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [str(hit.text) async for hit in LabCommands(app.screen).discover()]
        await pilot.press("question_mark")
        console = Console(width=120, record=True)
        console.print(app.screen.query_one("#help-keys").content)
        text = console.export_text()
        for key in NEW_KEYS:
            entry = actions[key]
            assert f"{entry.key_name} " in text and entry.help in text
            assert f"{entry.title} ({entry.key_name})" in titles
