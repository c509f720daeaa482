"""Snapshot tests (pytest-textual-snapshot) of the lab at 80x24 and 120x40.

The trained state is deterministic: a fixed seed and a fixed number of steps
taken synchronously through the runner before the app starts; the status line
shows no steps per second unless a run is running.
Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import dataclasses

import pytest

from engine import ExperimentConfig
from tui_nn.app import LabApp

SIZES = [(80, 24), (120, 40)]
TRAINED_STEPS = 300


def trained_lab() -> LabApp:
    app = LabApp(ExperimentConfig())  # the default: 3-class spiral, [16, 16], relu, adam, seed 0
    app.runner.step(TRAINED_STEPS)
    return app


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_idle_lab(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(LabApp(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_trained_lab(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(trained_lab(), terminal_size=size)


def test_dead_units_plot(snap_compare) -> None:
    """Plot 3 after a ReLU run with a high rate and a batch of 4: the dead units of each
    layer on the training set at each evaluation (step 0 and every 25 steps), the
    definition in the title, the latest counts in the legend."""
    config = ExperimentConfig().with_changes(
        model={"hidden": [32, 32]},
        optimizer={"name": "sgd", "lr": 0.5},
        training={"batch_size": 4, "eval_every": 25},
    )
    app = LabApp(config)
    app.runner.step(TRAINED_STEPS)
    assert snap_compare(app, terminal_size=(80, 24), press=["3"])


def test_help_screen(snap_compare) -> None:
    assert snap_compare(LabApp(), terminal_size=(80, 24), press=["question_mark"])


def test_refused_value(snap_compare) -> None:
    """A refused learning rate: the message sits under the field, the run is kept."""

    async def type_bad_lr(pilot) -> None:
        pilot.app.query_one("#optimizer-lr").focus()
        pilot.app.query_one("#optimizer-lr").value = "-1"
        await pilot.press("enter", "escape")

    assert snap_compare(trained_lab(), terminal_size=(120, 40), run_before=type_bad_lr)


async def _wait_for(pilot, condition, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)
    await pilot.pause()


def test_scenario_screen(snap_compare) -> None:
    """The picker with zero init highlighted: its claim, preset and counter-example."""
    assert snap_compare(LabApp(), terminal_size=(120, 40), press=["s", "down", "down"])


def test_scenario_verdict(snap_compare) -> None:
    """The lab after the zero-init scenario ran to its end: claim, verdict, advice."""
    from pilot_helpers import looked_at_the_end

    from engine.lecture.scenarios import SCENARIOS

    async def run_scenario(pilot) -> None:
        pilot.app.start_scenario(SCENARIOS["zero_init"])
        await _wait_for(pilot, lambda: pilot.app.runner.state == "done")
        await _wait_for(pilot, lambda: looked_at_the_end(pilot.app.runner.snapshot()))
        pilot.app.poll()
        # The boundary widget rebuilds at most twice a second: wait for the final grid.
        from tui_nn.widgets.boundary import DecisionBoundary

        widget = pilot.app.query_one(DecisionBoundary)
        step = pilot.app.runner.snapshot().step
        await _wait_for(pilot, lambda: widget.boundary is not None and widget.boundary.step == step)

    assert snap_compare(LabApp(), terminal_size=(80, 24), run_before=run_scenario)


def test_depth_profile(snap_compare) -> None:
    """CS231n's 10 x 500 tanh net with Xavier init: the std holds, no saturation."""

    async def show_xavier(pilot) -> None:
        await pilot.press("d", "5")
        screen = pilot.app.screen
        await _wait_for(pilot, lambda: screen.depth is not None and screen.depth.source != "net")

    assert snap_compare(LabApp(), terminal_size=(80, 24), run_before=show_xavier)


def test_gradcheck_table(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trained default net (ReLU: kinks): one row a parameter, with its verdict.

    The digits of a float64 finite difference depend on the BLAS kernels (layers.0.W read
    2.77e-08 on a Zen 5 machine, 5.54e-09 on a SkylakeX one, and layers.1.b sits near the
    1e-7 line between good and ok), so this snapshot of the screen's layout pins each
    row's numbers and verdict; tests/tui/test_views.py checks the real rows."""
    import tui_nn.screens.gradcheck as gradcheck

    real_run_check = gradcheck.run_check

    def run_check(data):
        rows = real_run_check(data)  # the parameters' names, shapes and counts
        weights = dict(max_error=3.0e-06, mean_error=5.0e-08, verdict="ok (kinks)")
        biases = dict(max_error=2.0e-08, mean_error=1.0e-09, verdict="good")
        return [
            dataclasses.replace(row, **(weights if row.name.endswith(".W") else biases))
            for row in rows
        ]

    monkeypatch.setattr(gradcheck, "run_check", run_check)

    async def check(pilot) -> None:
        await pilot.press("g")
        screen = pilot.app.screen
        await _wait_for(pilot, lambda: screen.rows is not None)

    assert snap_compare(trained_lab(), terminal_size=(80, 24), run_before=check)
