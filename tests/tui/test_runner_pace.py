"""The runner's pace (set_speed), its measured rate, the marks of a run and its parameter
count. Time is the runner module's clock, replaced by one the test moves: counts, no
wall-clock thresholds."""

from __future__ import annotations

import math
import threading
import types

import pytest
from runner_helpers import SMALL, wait_until

import tui_nn.core.runner as runner_module
from tui_nn.core.runner import Mark, Runner


@pytest.fixture
def clock(monkeypatch):
    """The runner's time.perf_counter, standing still until the test moves it."""
    now = [1000.0]
    monkeypatch.setattr(runner_module, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    return now


class PaceWaits:
    """Counts the worker's timed waits on its condition: each one is a look at the clock
    that found the next step not yet due (an untimed wait is a park, not a pace)."""

    def __init__(self, r: Runner) -> None:
        self.count = 0
        self.changed = threading.Condition()
        real = r._wake.wait

        def wait(timeout=None):
            if timeout is not None:
                with self.changed:
                    self.count += 1
                    self.changed.notify_all()
            return real(min(timeout, 0.01) if timeout is not None else None)

        r._wake.wait = wait

    def more_than(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count > count, 10), "no pace wait"


def test_set_speed_paces_the_steps_by_the_clock(runner, clock) -> None:
    r = runner()
    waits = PaceWaits(r)
    r.set_speed(4)  # a step every 0.25 s of the clock (binary fractions: exact sums)
    assert r.snapshot().speed == 4.0
    r.start()
    wait_until(lambda: r.snapshot().step == 1)  # the first step is due at once
    for step in (1, 2, 3):
        waits.more_than(waits.count)  # waiting for the next step's time
        clock[0] += 0.125  # half a step's time
        seen = waits.count
        waits.more_than(seen + 1)  # looked at the moved clock at least once, and waits
        assert r.snapshot().step == step
        clock[0] += 0.125  # a step's time since this step began: one more step, no burst
        wait_until(lambda step=step: r.snapshot().step == step + 1)
    waits.more_than(waits.count)
    assert r.snapshot().step == 4
    r.set_speed(None)  # full speed: the clock standing still no longer holds it
    assert r.snapshot().speed is None
    wait_until(lambda: r.snapshot().step > 200)


def test_a_new_speed_applies_to_a_worker_waiting_for_its_next_step(runner, clock) -> None:
    r = runner()
    waits = PaceWaits(r)
    r.set_speed(0.001)  # one step every 1000 s of the clock
    r.start()
    wait_until(lambda: r.snapshot().step == 1)
    waits.more_than(waits.count)
    clock[0] += 0.5
    r.set_speed(2)  # 0.5 s a step: due now
    wait_until(lambda: r.snapshot().step == 2)


def test_pause_stops_a_paced_run_at_once(runner, clock) -> None:
    r = runner()
    waits = PaceWaits(r)
    r.set_speed(1)
    r.start()
    wait_until(lambda: r.snapshot().step == 1)
    waits.more_than(waits.count)
    r.pause()
    clock[0] += 10
    r.step()  # a single step is never paced
    assert r.snapshot().step == 2 and r.state == "paused"


@pytest.mark.parametrize("bad", [0, -3, math.nan, math.inf, "fast", True])
def test_a_speed_that_is_not_a_pace_is_refused(runner, bad) -> None:
    r = runner()
    with pytest.raises(ValueError, match=r"speed: .* positive number of steps a second"):
        r.set_speed(bad)
    assert r.snapshot().speed is None


@pytest.mark.parametrize("seconds_a_step", [0.25, 1 / 3, 2.0])
def test_the_rate_is_the_steps_over_the_time_they_took(runner, clock, seconds_a_step) -> None:
    """A slow net's rate (3 steps a second, or one every 2 s) is measured as well as a
    fast one's: each step here takes `seconds_a_step` of the runner's clock."""
    r = runner()
    real_step = r._trainer.step

    def step():
        clock[0] += seconds_a_step
        return real_step()

    r._trainer.step = step
    r.start()
    wait_until(lambda: r.snapshot().step >= 20)
    assert r.snapshot().steps_per_sec == pytest.approx(1 / seconds_a_step, rel=1e-6)
    r.pause()
    assert r.snapshot().steps_per_sec == 0.0


def test_the_rate_counts_the_time_between_steps_too(runner, clock) -> None:
    """A second between steps 4 and 5 (a look, a slow evaluation) is part of the run's
    time: 9 steps a quarter second apart but for that second read 8 / 3 steps a second,
    not the 4 of the steps alone. Read while the worker is inside step 10."""
    r = runner()
    real_step = r._trainer.step
    taken = [0]
    inside, release = threading.Event(), threading.Event()

    def step():
        taken[0] += 1
        if taken[0] == 5:
            clock[0] += 1.0
        if taken[0] == 10:
            inside.set()
            release.wait(30)
        clock[0] += 0.25
        return real_step()

    r._trainer.step = step
    r.start()
    try:
        assert inside.wait(10)
        snap = r.snapshot()
    finally:
        release.set()
    assert snap.step == 9 and snap.steps_per_sec == pytest.approx(8 / 3.0)


def test_marks_record_what_changed_in_the_run(runner) -> None:
    r = runner()
    assert r.snapshot().marks == ()
    r.step(4)
    r.set_config(r.config.with_changes(optimizer={"lr": 0.05}))
    r.step(3)
    r.set_config(r.config.with_changes(training={"steps": 5000}))  # keeps the run
    assert r.snapshot().marks == (Mark(4, "lr", "lr 0.05"), Mark(7, "config", "steps 5000"))
    r.reset()
    assert r.snapshot().marks == (Mark(0, "reset", "reset"),)
    r.step(2)
    r.set_config(r.config.with_changes(data={"noise": 0.3}))  # a new run: a fresh start
    assert r.snapshot().marks == ()


def test_the_parameter_count_is_the_networks(runner) -> None:
    # spiral: 2 inputs, 3 classes. [8]: 2*8 + 8, then 8*3 + 3.
    assert runner().snapshot().n_parameters == 51
    # [4, 5] maxout with 2 pieces: (2*4 + 4)*2, (4*5 + 5)*2, then 5*3 + 3.
    config = SMALL.with_changes(model={"hidden": [4, 5], "activation": "maxout"})
    snap = runner(config).snapshot()
    assert snap.n_parameters == 24 + 50 + 18
