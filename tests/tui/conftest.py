"""Shared test helpers for the TUI tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from runner_helpers import SMALL

from engine import ExperimentConfig
from tui_nn.core.runner import Runner


async def _ui_thread_idle(min_sleep: float = 0.01, max_sleep: float = 1.0) -> None:
    """textual._wait.wait_for_idle, but measuring the UI thread's CPU time only.

    Textual's pilot waits until the *process* is idle after every key; with the
    training thread busy it never is, and every key would cost the full second.
    What a test needs is the UI thread done with the key, which this measures.
    """
    start = time.monotonic()
    while True:
        cpu = time.thread_time()
        await asyncio.sleep(0.01)
        elapsed = time.monotonic() - start
        if elapsed >= max_sleep:
            return
        if elapsed > min_sleep and time.thread_time() - cpu < 0.0005:
            return


@pytest.fixture
def ui_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let pilot.press/pause return when the UI is idle, even while training runs."""
    monkeypatch.setattr("textual.pilot.wait_for_idle", _ui_thread_idle)
    monkeypatch.setattr("textual.app.wait_for_idle", _ui_thread_idle)


@pytest.fixture(autouse=True)
def _truecolor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test app renders in true colour: Textual's console otherwise detects the colour
    system from TERM and COLORTERM, so a snapshot would depend on the terminal it ran under.
    Tests of 16- and 256-colour output set their own console."""
    monkeypatch.setattr("textual.constants.COLOR_SYSTEM", "truecolor")


@pytest.fixture
def runner() -> Iterator[Callable[..., Runner]]:
    """Runners the test makes (of SMALL unless given a config), closed after it."""
    made: list[Runner] = []

    def make(config: ExperimentConfig = SMALL) -> Runner:
        made.append(Runner(config))
        return made[-1]

    yield make
    for r in made:
        r.close()
