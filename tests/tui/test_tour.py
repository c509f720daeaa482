"""The guided tour at 80x24 and 120x40: each stop's text and comparison on screen, next
and back keys, each stop's runs stopped when it is left, and `tui-nn tour`."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from engine.lecture.tour import TOUR
from tests.tui.pilot_helpers import CONFIG, wait_until
from tui_nn.app import LabApp
from tui_nn.cli import main
from tui_nn.screens.tour import TourScreen

pytestmark = pytest.mark.usefixtures("ui_idle")
SIZES = [(80, 24), (120, 40)]


def screen_text(app: LabApp) -> str:
    console = Console(width=app.size.width, record=True, color_system=None, file=io.StringIO())
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(console.export_text().splitlines()[: app.size.height])


def labels(screen: TourScreen) -> list[str]:
    return [r.label for r in screen.runner.snapshot().runs]


@pytest.mark.parametrize("size", SIZES)
async def test_next_and_back_walk_the_lecture(size: tuple[int, int]) -> None:
    app = LabApp(CONFIG, tour=0)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TourScreen))
        tour = app.screen
        first = tour.runner
        assert "Tour 1/6: One neuron is a line" in screen_text(app)
        assert labels(tour) == [run.label for run in TOUR[0].comparison().runs]
        await pilot.press("right")
        await wait_until(pilot, lambda: "Tour 2/6: Many neurons" in screen_text(app))
        await wait_until(pilot, lambda: not first.alive)  # the last stop's runs stop
        assert labels(tour) == [run.label for run in TOUR[1].comparison().runs]
        assert tour.plots.active == TOUR[1].comparison().plot
        await wait_until(pilot, lambda: tour.runner.snapshot().step > 0)
        await pilot.press("left")
        await wait_until(pilot, lambda: "Tour 1/6" in screen_text(app))
        await pilot.press("left")  # the first stop has none before it
        assert tour.at == 0


@pytest.mark.parametrize("size", SIZES)
async def test_a_stop_shows_its_verdicts_and_what_to_look_at(size: tuple[int, int]) -> None:
    app = LabApp(CONFIG, tour=len(TOUR) - 1)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TourScreen))
        tour = app.screen
        await pilot.press("w")  # the whole text, over the plots
        await pilot.pause()
        text = screen_text(app)
        assert "Tour 6/6: Random initialization" in text and "Look at:" in text
        assert "Xavier for tanh, He for ReLU" in " ".join(text.split())

        def judged() -> bool:
            snap = tour.runner.snapshot()
            return snap.state == "done" and all(
                r.verdict is not None and r.verdict.status == "observed" for r in snap.runs
            )

        await wait_until(pilot, judged, timeout=60)
        await pilot.press("w")
        tour.poll()
        await pilot.pause()
        text = screen_text(app)
        for label in ("zeros", "0.01", "1.0", "xavier"):
            assert label in text
        assert "observed" in text


@pytest.mark.parametrize("argv", [["tour", "--stop", "0"], ["tour", "--stop", "7"]])
def test_tour_refuses_a_stop_that_is_not_there(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "--stop: must be 1 to 6" in capsys.readouterr().err
