"""A view hides the lab: the lab's widgets wait under it (each of their redraws would
re-render the view too) and catch up with the run when it closes; a view pushed a
moment ago gets no snapshot before it has composed."""

from __future__ import annotations

from typing import Any

import pytest
from pilot_helpers import CONFIG, SIZE, wait_until

from tui_nn.app import LabApp
from tui_nn.screens.matrix import MatrixScreen
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine

pytestmark = pytest.mark.usefixtures("ui_idle")


async def test_the_lab_waits_under_a_view_and_catches_up(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = PlotsPanel.refresh_from

    def counted(self: PlotsPanel, snap: Any) -> None:
        seen.append(snap.step)
        original(self, snap)

    monkeypatch.setattr(PlotsPanel, "refresh_from", counted)
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")  # the notes: a view
        await wait_until(pilot, lambda: app.screen is not app.lab_screen)
        app.poll()
        seen.clear()
        app.runner.step(5)
        await wait_until(pilot, lambda: app.runner.snapshot().step == 5)
        app.poll()
        assert seen == []  # nothing drawn under the view
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.lab_screen)
        app.poll()
        assert seen and seen[-1] == 5
        assert "step 5" in str(app.query_one(StatusLine).render())


async def test_a_view_pushed_while_training_waits_for_its_mount() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.snapshot().step > 0)
        app.push_screen(MatrixScreen(app.runner))
        app.poll()  # before the view has composed: no NoMatches
        await wait_until(pilot, lambda: isinstance(app.screen, MatrixScreen))
        step = app.runner.snapshot().step
        await wait_until(pilot, lambda: app.runner.snapshot().step > step)
        app.poll()
        await pilot.press("space")
