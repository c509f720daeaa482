"""The runner: a real engine trainer on a thread, controlled from the test's thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from runner_helpers import LONG, SMALL, wait_until

from engine import ConfigError
from tui_nn.core.runner import Runner


def weights(runner: Runner) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in runner._trainer.network.parameters().items()}


def runner_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tui-nn-runner"]


def test_idle_snapshot_has_chance_loss_and_a_boundary(runner) -> None:
    r = runner()
    snap = r.snapshot()
    assert (snap.state, snap.step, snap.version > 0) == ("idle", 0, True)
    assert snap.last is None and snap.error is None
    # The trainer's own evaluation at step 0 (no second one of the runner's): about ln(3)
    # for three classes, and the dead units of the one hidden layer.
    assert [e.step for e in snap.evals] == [0] and snap.last_eval is snap.evals[0]
    assert snap.evals == tuple(r.read(lambda t: t.evals))
    assert abs(snap.last_eval.train_loss - np.log(3)) < 0.5 and len(snap.last_eval.dead) == 1
    assert snap.boundary is not None and snap.boundary.probs.shape[:2] == (48, 64)
    assert snap.boundary.points.shape[1] == 2
    assert snap.n_layers == 2 and "dead" not in snap.layer_stats  # evals count them


def test_snapshot_is_reused_until_something_changes(runner) -> None:
    r = runner()
    first = r.snapshot()
    assert r.snapshot() is first
    r.step()
    assert r.snapshot() is not first and r.snapshot().version > first.version


def test_step_is_synchronous_and_deterministic(runner) -> None:
    a, b = runner(), runner()
    a.step(25)
    b.step(25)
    assert a.snapshot().step == 25 and a.state == "paused"
    for key, value in weights(a).items():
        np.testing.assert_array_equal(value, weights(b)[key])
    series = a.snapshot().series("loss", 10)
    assert series.steps[-1] <= 25 and len(series.mean) > 0


def test_reset_keeps_the_seed_so_the_same_weights(runner) -> None:
    r = runner()
    start = weights(r)
    r.step(10)
    assert any(not np.array_equal(start[k], v) for k, v in weights(r).items())
    run_id = r.snapshot().run_id
    r.reset()
    snap = r.snapshot()
    assert (snap.step, snap.state, snap.run_id) == (0, "idle", run_id + 1)
    for key, value in weights(r).items():
        np.testing.assert_array_equal(value, start[key])


def test_start_pause_and_close_leave_no_thread(runner) -> None:
    r = runner()
    parked = threading.Event()
    real_wait = r._wake.wait

    def wait(timeout=None):
        parked.set()  # the worker saw a state other than running and sleeps
        return real_wait(timeout)

    r._wake.wait = wait
    r.start()
    wait_until(lambda: r.snapshot().step > 20)
    assert r.state == "running" and r.alive
    parked.clear()
    r.pause()
    paused_at = r.snapshot().step
    assert parked.wait(5), "the worker did not stop after pause()"
    assert r.snapshot().step == paused_at and r.state == "paused"
    r.start()
    wait_until(lambda: r.snapshot().step > paused_at + 20)
    r.close()
    assert not runner_threads()


def test_close_mid_training_stops_within_a_step(runner) -> None:
    r = runner(LONG)
    begun_after_stop = []
    real_step = r._trainer.step

    def step():
        begun_after_stop.append(r._stop.is_set())
        return real_step()

    r._trainer.step = step
    r.start()
    wait_until(lambda: r.snapshot().step > 10)
    r.close()
    assert not r.alive and r._thread is None and not runner_threads()
    assert sum(begun_after_stop) <= 1  # at most the step that was starting as stop was set


def test_rate_is_measured_while_running_only(runner) -> None:
    r = runner()
    r.start()
    wait_until(lambda: r.snapshot().steps_per_sec > 0)
    r.pause()
    assert r.snapshot().steps_per_sec == 0.0


def test_learning_rate_applies_to_the_running_run(runner) -> None:
    r = runner()
    r.step(5)
    before = r.snapshot()
    r.set_config(r.config.with_changes(optimizer={"lr": 0.05}))
    after = r.snapshot()
    assert (after.run_id, after.step) == (before.run_id, 5)
    assert after.config.optimizer.lr == 0.05 and r.read(lambda t: t.lr) == 0.05
    r.step()
    assert r.snapshot().last.lr == 0.05  # the step took the new rate (a constant schedule)


def test_every_live_field_of_the_schema_reaches_the_running_trainer() -> None:
    from engine.config import LIVE_FIELDS
    from tui_nn.core.runner import APPLY_LIVE

    assert set(APPLY_LIVE) == LIVE_FIELDS


def test_the_config_is_the_trainers_own_copy(runner) -> None:
    """One live config: whatever changed it (a live rate, a new budget, an adopted run),
    the runner and its snapshot show the trainer's, never a second copy that can drift."""
    from engine import Trainer

    r = runner()

    def same() -> bool:
        trainer_config = r.read(lambda t: t.config)
        return r.config is trainer_config and r.snapshot().config is trainer_config

    r.step(3)
    r.set_config(r.config.with_changes(optimizer={"lr": 0.02}))
    assert same() and r.config.optimizer.lr == 0.02
    r.set_config(r.config.with_changes(training={"steps": 10**8}))
    assert same() and r.config.optimizer.lr == 0.02 and r.config.training.steps == 10**8
    trainer = Trainer(SMALL)
    trainer.run(4)
    trainer.set_learning_rate(0.03)  # changed live before it was saved or handed over
    r.adopt(trainer)
    assert same() and r.config.optimizer.lr == 0.03 and r.read(lambda t: t.lr) == 0.03


@pytest.mark.parametrize(
    "changes",
    [{"data": {"noise": 0.2}}, {"model": {"hidden": [4, 4]}}, {"training": {"seed": 3}}],
)
def test_other_changes_start_a_new_run(runner, changes) -> None:
    r = runner()
    r.step(5)
    run_id = r.snapshot().run_id
    r.set_config(r.config.with_changes(**changes))
    snap = r.snapshot()
    assert (snap.run_id, snap.step, snap.state) == (run_id + 1, 0, "idle")


def test_a_new_run_keeps_running_when_the_old_one_was(runner) -> None:
    r = runner()
    r.start()
    wait_until(lambda: r.snapshot().step > 5)
    r.set_config(r.config.with_changes(data={"noise": 0.3}))
    assert r.state == "running"
    wait_until(lambda: r.snapshot().step > 5 and r.snapshot().config.data.noise == 0.3)


def test_a_trainer_that_cannot_be_built_keeps_the_old_run(runner) -> None:
    r = runner()
    r.step(3)
    broken = r.config.with_changes(data={"path": "/nonexistent/data.csv"})
    with pytest.raises(ConfigError):
        r.set_config(broken)
    assert r.snapshot().step == 3 and r.config.data.path == ""


def test_divergence_is_published_with_the_finite_history(runner) -> None:
    r = runner(SMALL.with_changes(optimizer={"name": "sgd", "lr": 1000.0}))
    r.start()
    wait_until(lambda: r.state == "diverged")
    snap = r.snapshot()
    assert snap.error is not None and snap.error.startswith(f"diverged at step {snap.step}")
    series = snap.series("loss", 50)
    assert np.all(np.isfinite(series.mean))
    r.start()  # refused: a diverged run only resets
    assert r.state == "diverged"
    r.reset()
    assert r.state == "idle" and r.snapshot().error is None


def test_a_worker_exception_is_published_and_the_runner_survives(runner) -> None:
    r = runner()

    def broken_step():
        raise RuntimeError("boom")

    r._trainer.step = broken_step
    r.start()
    wait_until(lambda: r.snapshot().error is not None)
    snap = r.snapshot()
    assert snap.state == "paused" and snap.error == "RuntimeError: boom"
    r.reset()  # a fresh trainer: training goes on
    r.start()
    wait_until(lambda: r.snapshot().step > 3)
    assert r.alive


def test_the_step_budget_ends_in_done(runner) -> None:
    r = runner(SMALL.with_changes(training={"steps": 30}))
    r.start()
    wait_until(lambda: r.state == "done")
    assert r.snapshot().step == 30
    r.step()
    assert r.snapshot().step == 30


# ------------------------------------------------ scenarios, advice, runs on disk


def test_judge_and_advisor_read_the_run_once_an_interval_never_per_step(
    runner, monkeypatch
) -> None:
    import dataclasses
    import types

    import tui_nn.core.runner as runner_module
    from engine.lecture.scenarios import SCENARIOS

    # The runner reads time only through its module's time.perf_counter(): a clock that
    # stands still makes "never per step" and "once an interval" exact counts.
    now = [1000.0]
    monkeypatch.setattr(runner_module, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    calls = {"judge": 0, "advise": 0}
    real_judge, real_advise = runner_module.judge, runner_module.advise

    def judge(scenario, trainer):
        calls["judge"] += 1
        return real_judge(scenario, trainer)

    def advise(trainer):
        calls["advise"] += 1
        return real_advise(trainer)

    monkeypatch.setattr(runner_module, "judge", judge)
    monkeypatch.setattr(runner_module, "advise", advise)
    # he_relu's judge on a run with a budget no test reaches.
    long = dataclasses.replace(SCENARIOS["he_relu"], config=SMALL, steps=10**9)
    r = runner()
    r.start_scenario(long)  # the new run is read once, at step 0
    assert r.scenario is long and r.state == "running"
    first = dict(calls)
    wait_until(lambda: r.snapshot().step > 200)  # the clock stands still: no interval passed
    assert calls == first
    now[0] += runner_module.OBSERVE_INTERVAL
    wait_until(lambda: calls["judge"] == first["judge"] + 1)
    step = r.snapshot().step
    wait_until(lambda: r.snapshot().step > step + 200)
    r.pause()  # a look at the paused step: the verdict describes where the run stopped
    assert calls == {k: v + 2 for k, v in first.items()}
    snap = r.snapshot()
    assert snap.verdict is not None and snap.verdict.status == "not yet"
    assert snap.scenario is long


def looked_at_the_end(r: Runner) -> bool:
    """The worker's look where the run ended (boundary, verdict, advice) is published."""
    snap = r.snapshot()
    return snap.boundary is not None and snap.boundary.step == snap.step


def test_a_scenario_runs_its_preset_to_a_verdict(runner) -> None:
    from engine.lecture.scenarios import SCENARIOS

    r = runner()
    r.start_scenario(SCENARIOS["zero_init"])
    wait_until(lambda: r.state == "done")
    wait_until(lambda: looked_at_the_end(r))
    snap = r.snapshot()
    assert snap.step == SCENARIOS["zero_init"].steps
    assert snap.verdict.status == "observed" and "max_distance" in snap.verdict.numbers
    assert any(a.topic == "symmetry" for a in snap.advice)
    r.start_scenario(SCENARIOS["zero_init"], counterexample=True)
    assert r.snapshot().counterexample and r.config.model.init == "he_normal"
    wait_until(lambda: r.state == "done")
    wait_until(lambda: looked_at_the_end(r))
    assert r.snapshot().verdict.status == "not observed"
    r.leave_scenario()
    snap = r.snapshot()
    assert snap.scenario is None and snap.verdict is None and snap.step == 150


def test_adopt_takes_a_restored_trainer_paused_and_trains_on(runner) -> None:
    from engine import Trainer

    trainer = Trainer(SMALL.with_changes(training={"eval_every": 10}))
    trainer.run(40)
    r = runner()
    run_id = r.snapshot().run_id
    r.adopt(trainer)
    snap = r.snapshot()
    assert (snap.step, snap.state, snap.run_id) == (40, "paused", run_id + 1)
    assert [e.step for e in snap.evals] == [0, 10, 20, 30, 40]
    assert snap.last_eval is snap.evals[-1]
    assert len(snap.series("loss", 100).mean) > 0
    r.step()
    assert r.snapshot().step == 41
    done = Trainer(SMALL.with_changes(training={"steps": 20}))
    done.run(20)
    r.adopt(done)
    assert r.state == "done"


def test_save_writes_a_run_directory_that_loads_back(runner, tmp_path) -> None:
    from engine.store.runs import load_run

    r = runner()
    r.step(7)
    run_dir = r.save(tmp_path / "runs")
    assert run_dir.parent == tmp_path / "runs"
    loaded = load_run(run_dir)
    assert loaded.trainer is not None and loaded.trainer.steps_done == 7
    assert r.read(lambda t: t.steps_done) == 7


def test_raising_the_steps_of_a_done_run_keeps_it_and_trains_on(runner) -> None:
    r = runner(SMALL.with_changes(training={"steps": 30}))
    r.start()
    wait_until(lambda: r.state == "done")
    before, snap = weights(r), r.snapshot()
    r.set_config(r.config.with_changes(training={"steps": 50}))
    after = r.snapshot()
    # The same run (weights, history, evaluations), now paused with room to go on.
    assert (after.run_id, after.step, after.state) == (snap.run_id, 30, "paused")
    assert after.config.training.steps == 50 and after.evals == snap.evals
    for name, value in weights(r).items():
        np.testing.assert_array_equal(value, before[name])
    assert len(after.series("loss", 100).mean) > 0
    r.step(5)
    assert r.snapshot().step == 35
    r.start()
    wait_until(lambda: r.state == "done")
    assert r.snapshot().step == 50


def test_raising_the_steps_of_a_running_run_keeps_it_running(runner) -> None:
    r = runner(SMALL.with_changes(training={"steps": 10**6}))
    r.start()
    wait_until(lambda: r.snapshot().step > 5)
    run_id = r.snapshot().run_id
    r.set_config(r.config.with_changes(training={"steps": 10**7}))
    assert (r.snapshot().run_id, r.state) == (run_id, "running")
    assert r.snapshot().step > 5


def test_steps_below_the_steps_done_are_refused_and_the_run_is_kept(runner) -> None:
    r = runner()
    r.step(10)
    before, theta = r.snapshot(), r.read(lambda t: t.network.theta.copy())
    loss = before.series("loss", 100).mean.copy()
    with pytest.raises(ConfigError) as refused:
        r.set_config(r.config.with_changes(training={"steps": 5}))
    assert refused.value.field == "training.steps"
    assert "10 steps are done" in str(refused.value) and "press r" in str(refused.value)
    after = r.snapshot()
    assert (after.run_id, after.step, after.state) == (before.run_id, 10, "paused")
    assert after.config is before.config and after.evals == before.evals
    np.testing.assert_array_equal(r.read(lambda t: t.network.theta), theta)
    np.testing.assert_array_equal(after.series("loss", 100).mean, loss)
    r.set_config(r.config.with_changes(training={"steps": 10}))  # the steps done: kept, done
    assert (r.snapshot().run_id, r.snapshot().step, r.state) == (before.run_id, 10, "done")


def test_save_writes_outside_the_lock(runner, tmp_path, monkeypatch) -> None:
    import tui_nn.core.runner as runner_module

    real_save_run = runner_module.save_run
    r = runner()
    r.step(7)
    r.set_config(r.config.with_changes(optimizer={"lr": 0.05}))

    def save_run(trainer, run_dir, final):
        # The disk I/O must not hold the handoff lock (training and the UI wait on it),
        # and must not touch the live trainer, which may be stepping meanwhile.
        assert not r._handoff.lock.locked()
        assert trainer is not r._trainer
        assert len(trainer.evals) == len(r._trainer.evals)
        assert trainer.history.last() == r._trainer.history.last()
        real_save_run(trainer, run_dir, final)

    monkeypatch.setattr(runner_module, "save_run", save_run)
    from engine.store.runs import load_run

    loaded = load_run(r.save(tmp_path / "runs"))
    assert loaded.trainer is not None and loaded.trainer.steps_done == 7
    # The live rate is in config.toml and in the trainer that loads from it.
    assert loaded.config.optimizer.lr == 0.05 and loaded.trainer.lr == 0.05


def test_close_keeps_a_worker_that_did_not_stop_in_time(runner) -> None:
    r = runner()
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, daemon=True)
    stuck.start()
    r._thread = stuck  # stands in for a worker busy in a long step
    r.close(timeout=0.01)
    assert r._thread is stuck and r.alive  # not forgotten: a later close joins it
    release.set()
    r.close()
    assert r._thread is None and not r.alive


def test_a_new_step_budget_for_a_diverged_run_starts_a_new_run(runner) -> None:
    r = runner(SMALL.with_changes(optimizer={"name": "sgd", "lr": 1000.0}))
    r.start()
    wait_until(lambda: r.state == "diverged")
    run_id = r.snapshot().run_id
    r.set_config(r.config.with_changes(training={"steps": 10**8}))
    assert (r.snapshot().run_id, r.state, r.snapshot().step) == (run_id + 1, "idle", 0)


# ------------------------------------------------------------ the thread handoff


class YieldingInt:
    """An int attribute whose every read hands the GIL to another thread, as a free-threaded
    build (or a switch at the wrong bytecode) may: an unguarded `x += 1` then loses updates."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_yielding_{name}"

    def __get__(self, obj: object, owner: type | None = None) -> int:
        value = obj.__dict__[self.key]
        time.sleep(0)
        return value

    def __set__(self, obj: object, value: int) -> None:
        obj.__dict__[self.key] = value


def test_the_handoff_count_is_safe_from_any_thread(monkeypatch) -> None:
    """save() and the views' workers come through the handoff besides the UI thread: the
    count of waiting threads must come back to 0 with the event set, whatever the
    interleaving, or the worker waits 0.1 s after every step from then on."""
    import tui_nn.core.runner as runner_module

    counter = YieldingInt()
    counter.__set_name__(runner_module._Handoff, "_ui_waiting")
    monkeypatch.setattr(runner_module._Handoff, "_ui_waiting", counter, raising=False)
    handoff = runner_module._Handoff()
    steps, stop = [0], threading.Event()

    def worker() -> None:  # as Runner._loop: a step under the lock, then yield
        while not stop.is_set():
            with handoff.lock:
                steps[0] += 1
            handoff.yield_to_ui()

    entered = [0] * 6

    def other(k: int) -> None:  # the UI thread, save()'s thread, a view's worker...
        for _ in range(200):
            with handoff.ui():
                entered[k] += 1

    threads = [threading.Thread(target=other, args=(k,)) for k in range(len(entered))]
    stepping = threading.Thread(target=worker)
    stepping.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stop.set()
    stepping.join(5)
    assert not any(t.is_alive() for t in [*threads, stepping])
    assert entered == [200] * len(entered) and steps[0] > 0
    assert handoff._ui_waiting == 0 and handoff._ui_done.is_set()


def test_save_on_other_threads_while_training_leaves_the_handoff_clear(runner, tmp_path) -> None:
    r = runner()
    r.start()
    wait_until(lambda: r.snapshot().step > 5)
    saved: list[object] = []
    threads = [
        threading.Thread(target=lambda k=k: saved.append(r.save(tmp_path / f"runs{k}")))
        for k in range(3)
    ]
    for t in threads:
        t.start()
    for _ in range(50):  # the UI thread meanwhile
        r.snapshot().series("loss", 10)
    for t in threads:
        t.join(30)
    r.pause()
    assert len(saved) == 3 and r._handoff._ui_waiting == 0 and r._handoff._ui_done.is_set()


# ---------------------------------------------------- the schedule and the step budget


def test_a_cosine_experiment_keeps_its_rate_sequence_in_the_lab(runner, tmp_path) -> None:
    """The lab's step budget (LAB_STEPS, for a file that sets none) never stretches the
    schedule: the rate at every step is the one the headless run takes."""
    from engine import Trainer
    from engine.store.toml import load_config
    from tui_nn.core.files import LAB_STEPS, open_experiment

    file = tmp_path / "cosine.toml"
    file.write_text(
        "[data]\nn_samples = 120\n[model]\nhidden = [8]\n"
        '[optimizer]\nname = "sgd"\nlr = 0.1\nschedule = "cosine"\ndecay_steps = 100\n'
    )
    headless = Trainer(load_config(file))  # as `tui-nn train --config` runs it
    lab = runner(open_experiment(file))
    assert lab.config.training.steps == LAB_STEPS != headless.config.training.steps
    rates = []
    for _ in range(120):  # past the horizon, where the rate stays at 0
        lab.step()
        rates.append(lab.snapshot().last.lr)
    assert rates == [headless.step().lr for _ in range(120)]
    assert rates[0] == 0.1 and rates[50] == pytest.approx(0.05) and rates[-1] == 0.0


def test_raising_the_steps_mid_run_keeps_the_rate(runner) -> None:
    from engine import Trainer

    config = SMALL.with_changes(
        training={"steps": 200}, optimizer={"schedule": "cosine", "decay_steps": 200}
    )
    r, headless = runner(config), Trainer(config)
    r.step(100)
    headless.run(100)
    rate = r.read(lambda t: t.lr)
    assert 0 < rate < config.optimizer.lr
    r.set_config(r.config.with_changes(training={"steps": 400}))
    assert r.read(lambda t: t.lr) == rate
    rates = []
    for _ in range(50):
        r.step()
        rates.append(r.snapshot().last.lr)
    assert rates == [headless.step().lr for _ in range(50)]
