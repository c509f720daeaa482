"""Comparison without a screen: `field=value` parsing, forks that start from the same
weights and minibatches, and the CompareRunner's group of runs (each run trains as it
would alone; add, drop, hide, pin)."""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest

from engine import ConfigError, ExperimentConfig, Trainer
from tui_nn.core.compare import (
    MAX_RUNS,
    CompareRunner,
    Entry,
    differing,
    entries_from,
    fork_config,
    parse_assignment,
    resolve_field,
    train_together,
)

BASE = ExperimentConfig().with_changes(data={"n_samples": 120}, training={"steps": 60})


def wait_for(runner: CompareRunner, condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        snap = runner.snapshot()
        if condition(snap):
            return snap
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met: {snap.state} {[r.step for r in snap.runs]}")
        time.sleep(0.01)


@pytest.fixture
def close_later():
    runners: list[CompareRunner] = []
    yield runners.append
    for runner in runners:
        runner.close()


# ------------------------------------------------------------------- parsing


def test_short_names_resolve_when_unique_and_say_so_when_not() -> None:
    assert resolve_field("activation").key == "model.activation"
    assert resolve_field("optimizer.lr").key == "optimizer.lr"
    with pytest.raises(ConfigError, match=r"data\.seed, training\.seed"):
        resolve_field("seed")
    with pytest.raises(ConfigError, match="unknown field") as info:
        resolve_field("nope")
    assert info.value.field == "nope"


def test_an_assignment_parses_in_the_fields_type() -> None:
    a = parse_assignment("lr=0.1,0.01")
    assert (a.key, a.values) == ("optimizer.lr", (0.1, 0.01))
    widths = parse_assignment("hidden=16;16,16;none")
    assert widths.values == ([16], [16, 16], [])
    assert parse_assignment("standardize=false").values == (False,)


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("activation=relu,nope", "model.activation", "unknown name 'nope'"),
        ("lr=abc", "optimizer.lr", "must be a number"),
        ("lr=", "optimizer.lr", "give a value"),
        ("lr=0.1,,0.2", "optimizer.lr", "give a value"),
        ("lr=0.1,0.1", "optimizer.lr", "given twice"),
        (
            "lr=" + ",".join(str(0.01 * i) for i in range(1, MAX_RUNS + 2)),
            "optimizer.lr",
            "at most",
        ),
        ("activation", "compare", "FIELD=VALUE"),
    ],
)
def test_bad_assignments_name_the_field(text: str, field: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as info:
        entries_from(BASE, parse_assignment(text))
    assert info.value.field == field


def test_differing_names_only_the_fields_that_differ() -> None:
    configs = [e.config for e in entries_from(BASE, parse_assignment("activation=relu,tanh"))]
    assert differing(configs) == ("model.activation",)
    assert differing([BASE, BASE]) == ()


# --------------------------------------------------------------------- forks


def first_batches(trainer: Trainer, n: int) -> list[np.ndarray]:
    batches = copy.deepcopy(trainer.batches)  # the run's own order, left as it was
    return [batches.next()[0].copy() for _ in range(n)]


@pytest.mark.parametrize("change", ["activation=tanh", "lr=0.1", "optimizer.name=sgd"])
def test_a_fork_starts_from_the_same_weights_and_minibatches(change: str) -> None:
    fork = fork_config(BASE, change)
    assert fork != BASE
    ours, theirs = Trainer(BASE), Trainer(fork)
    np.testing.assert_array_equal(ours.network.theta, theirs.network.theta)
    for a, b in zip(first_batches(ours, 5), first_batches(theirs, 5), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_fork_that_changes_the_shapes_still_draws_the_same_minibatches() -> None:
    fork = fork_config(BASE, "activation=maxout")  # k pieces a unit: other weight shapes
    ours, theirs = Trainer(BASE), Trainer(fork)
    assert theirs.network.theta.size > ours.network.theta.size
    for a, b in zip(first_batches(ours, 5), first_batches(theirs, 5), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_fork_in_a_comparison_starts_where_the_forked_run_started(close_later) -> None:
    runner = CompareRunner([Entry(BASE), Entry(fork_config(BASE, "activation=tanh"))])
    close_later(runner)
    first = [runner.read(r.index, lambda t: t.network.theta.copy()) for r in runner.snapshot().runs]
    batches = [runner.read(r.index, lambda t: first_batches(t, 3)) for r in runner.snapshot().runs]
    np.testing.assert_array_equal(first[0], first[1])
    for a, b in zip(*batches, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_fork_takes_one_value() -> None:
    with pytest.raises(ConfigError, match="one value") as info:
        fork_config(BASE, "activation=relu,tanh")
    assert info.value.field == "model.activation"


# -------------------------------------------------------------------- runner


@pytest.mark.parametrize(
    "grid",
    ["activation=relu,tanh,maxout", "lr=0.1,0.01,0.001"],  # apart; stacked (train_together)
)
def test_each_run_trains_as_it_would_alone(close_later, grid: str) -> None:
    entries = entries_from(BASE, parse_assignment(grid))
    runner = CompareRunner(entries)
    close_later(runner)
    runner.start()
    snap = wait_for(runner, lambda s: s.state == "done" and all(r.has_history for r in s.runs))
    for entry, run in zip(entries, snap.runs, strict=True):
        alone = Trainer(entry.config)
        alone.run(entry.config.training.steps)
        assert run.step == alone.steps_done == 60
        ours = run.series("loss", 10_000)
        theirs = alone.history.series("loss", max_points=10_000)
        np.testing.assert_array_equal(ours.mean, theirs.mean)
        assert [e.train_loss for e in run.evals] == [e.train_loss for e in alone.evals]


def test_done_is_said_with_the_last_steps(close_later) -> None:
    """Every snapshot that says "done" shows every run at its last step."""
    runner = CompareRunner(entries_from(BASE, parse_assignment("activation=relu,tanh")))
    close_later(runner)
    runner.start()
    seen = [runner.snapshot()]
    while seen[-1].state != "done":
        seen.append(runner.snapshot())
    assert all(r.step == 60 for snap in seen if snap.state == "done" for r in snap.runs)


def test_a_step_is_one_round_of_every_run(close_later) -> None:
    runner = CompareRunner(entries_from(BASE, parse_assignment("activation=relu,tanh")))
    close_later(runner)
    runner.step()
    snap = wait_for(runner, lambda s: all(r.step == 1 for r in s.runs))
    assert snap.state == "idle"
    runner.step()
    wait_for(runner, lambda s: all(r.step == 2 for r in s.runs) and s.state == "idle")


def test_runs_look_and_judge_at_the_end(close_later) -> None:
    from engine.lecture.scenarios import comparison_of

    comparison = comparison_of("single_neuron")
    entries = [Entry(r.config, r.scenario, r.label, r.claim) for r in comparison.runs]
    runner = CompareRunner(entries, comparison.title)
    close_later(runner)
    runner.start()
    snap = wait_for(
        runner,
        lambda s: (
            s.state == "done"
            and all(r.verdict is not None and r.verdict.status != "not yet" for r in s.runs)
        ),
    )
    assert [r.verdict.status for r in snap.runs if r.verdict] == ["observed", "not observed"]
    assert all(r.boundary is not None and r.boundary.step == r.step for r in snap.runs)


def test_add_drop_hide_and_pin(close_later) -> None:
    runner = CompareRunner(entries_from(BASE, parse_assignment("activation=relu,tanh")))
    close_later(runner)
    index = runner.add(Entry(fork_config(BASE, "activation=sigmoid")))
    snap = runner.snapshot()
    assert [r.label for r in snap.runs] == ["relu", "tanh", "sigmoid"]
    assert len({r.colour for r in snap.runs}) == 3
    runner.set_pinned(index, True)
    with pytest.raises(ValueError, match="pinned"):
        runner.drop(index)
    runner.set_hidden(0, True)
    snap = runner.snapshot()
    assert [r.index for r in snap.shown] == [1, index]  # pinned last: drawn on top
    runner.drop(1)
    snap = runner.snapshot()
    assert [r.label for r in snap.runs] == ["relu", "sigmoid"]
    again = runner.add(Entry(fork_config(BASE, "activation=gelu")))
    colours = [r.colour for r in runner.snapshot().runs]
    assert len(set(colours)) == 3 and again not in (0, 1, index)


def test_runs_that_stack_train_as_one_group_and_a_drop_keeps_the_others(close_later) -> None:
    entries = entries_from(BASE, parse_assignment("lr=0.1,0.01,0.001"))
    assert [indices for indices, _ in train_together([e.config for e in entries])] == [[0, 1, 2]]
    runner = CompareRunner(entries)
    close_later(runner)
    runner.drop(1)
    runner.start()
    snap = wait_for(runner, lambda s: s.state == "done" and all(r.has_history for r in s.runs))
    assert [(r.label, r.step) for r in snap.runs] == [("0.1", 60), ("0.001", 60)]
    alone = Trainer(entries[2].config)
    alone.run(60)
    assert snap.runs[1].evals[-1].train_loss == alone.evals[-1].train_loss


def test_a_full_comparison_refuses_another_run(close_later) -> None:
    values = "relu,tanh,sigmoid,leaky_relu,elu,gelu,silu,linear"
    runner = CompareRunner(entries_from(BASE, parse_assignment(f"activation={values}")))
    close_later(runner)
    with pytest.raises(ConfigError, match="at most"):
        runner.add(Entry(fork_config(BASE, "activation=maxout")))
    assert len(runner.snapshot().runs) == MAX_RUNS


def test_a_run_that_diverges_stops_alone(close_later) -> None:
    base = BASE.with_changes(optimizer={"name": "sgd"}, model={"activation": "linear"})
    entries = entries_from(base, parse_assignment("lr=0.01,1000"))
    runner = CompareRunner(entries)
    close_later(runner)
    runner.start()
    snap = wait_for(runner, lambda s: s.state == "done")
    calm, wild = snap.runs
    assert (calm.state, calm.step) == ("done", 60)
    assert wild.state == "diverged" and wild.step < 60
    assert wild.error is not None and wild.error.startswith(f"diverged at step {wild.step}")


def test_replace_swaps_every_run_and_a_refused_swap_keeps_them(close_later) -> None:
    runner = CompareRunner(entries_from(BASE, parse_assignment("activation=relu,tanh")), "one")
    close_later(runner)
    runner.start()
    wait_for(runner, lambda s: all(r.step > 0 for r in s.runs))
    runner.replace(entries_from(BASE, parse_assignment("lr=0.1,0.01,0.001")), "two")
    snap = runner.snapshot()
    assert snap.state == "paused" and snap.title == "two"
    assert [r.label for r in snap.runs] == ["0.1", "0.01", "0.001"]
    assert [r.colour for r in snap.runs] == [0, 1, 2] and all(r.step == 0 for r in snap.runs)
    too_many = [Entry(BASE)] * (MAX_RUNS + 1)
    with pytest.raises(ConfigError, match="at most"):
        runner.replace(too_many, "three")
    kept = runner.snapshot()
    assert [r.index for r in kept.runs] == [r.index for r in snap.runs] and kept.title == "two"
    runner.start()
    wait_for(runner, lambda s: s.state == "done" and all(r.step == 60 for r in s.runs))


def test_fields_name_the_runs_where_they_agree_on_them(close_later) -> None:
    entries = entries_from(BASE, parse_assignment("lr=0.1,0.01"))
    runner = CompareRunner(entries, fields=["model.activation", "optimizer.lr"])
    close_later(runner)
    snap = runner.snapshot()
    assert snap.varied == ("model.activation", "optimizer.lr")
    assert [r.label for r in snap.runs] == ["activation=relu lr=0.1", "activation=relu lr=0.01"]


def test_a_run_that_stopped_keeps_its_picture_and_a_hidden_one_waits(close_later) -> None:
    """Looks draw only what changed and shows: a finished run's boundary stays the same
    object while the others train on; a hidden run gets none until it is shown again."""
    short = BASE.with_changes(training={"steps": 5})
    long = BASE.with_changes(training={"steps": 10**9})
    runner = CompareRunner([Entry(short), Entry(long), Entry(long)])
    close_later(runner)
    runner.set_hidden(2, True)
    runner.start()

    def looked_twice_since(step: int):
        return lambda s: s.runs[1].boundary is not None and s.runs[1].boundary.step > step

    snap = wait_for(runner, lambda s: s.runs[0].boundary and s.runs[0].boundary.step == 5)
    done_picture, hidden_picture = snap.runs[0].boundary, snap.runs[2].boundary
    first = wait_for(runner, looked_twice_since(snap.step)).runs[1].boundary.step
    snap = wait_for(runner, looked_twice_since(first))
    assert snap.runs[0].boundary is done_picture and done_picture.step == 5
    assert snap.runs[2].boundary is hidden_picture  # the one from before it was hidden
    runner.set_hidden(2, False)
    wait_for(runner, lambda s: s.runs[2].boundary is not hidden_picture)
