"""Sweeps: grids read against the schema, members, the sweep directory and its summary,
resuming an interrupted sweep, and the same summary from every executor."""

from __future__ import annotations

import csv
import json
import multiprocessing
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import ConfigError, ExperimentConfig, Trainer
from engine.store.runs import load_run
from engine.sweep import (
    Grid,
    SweepResult,
    grouped,
    load_sweep,
    local_executor,
    members,
    parse_grid,
    resume_sweep,
    run_sweep,
)
from engine.sweep.executors import run_group
from engine.sweep.groups import finished, plan_groups, train_group
from engine.sweep.run import preflight
from engine.sweep.summary import final_eval

BASE = ExperimentConfig.from_dict(
    {
        "model": {"hidden": [6, 6]},
        "training": {"steps": 30, "eval_every": 10, "batch_size": 32},
    }
)
GRID = ["model.activation=relu,tanh", "optimizer.lr=0.01,0.05"]
RUN_FILES = {"config.toml", "weights.npz", "metrics.csv", "evals.csv", "metrics.jsonl"}
TIMING = {"steps_per_s"}  # the one column that measures the machine, not the member


def threads(workers: int = 1) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers)


def sweep_in(
    out: Path,
    grid: list[str] = GRID,
    seeds: int = 2,
    stop_after: int | None = None,
    base: ExperimentConfig = BASE,
) -> SweepResult:
    """A sweep on one thread, one group at a time, stopped after `stop_after` members."""
    stop = threading.Event()

    def progress(done: int, total: int, row: dict[str, Any] | None) -> None:
        if stop_after is not None and done >= stop_after:
            stop.set()

    with threads() as pool:
        return run_sweep(base, parse_grid(grid), seeds, out, pool, progress, stop, slots=1)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def without_timing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def weights(run_dir: Path) -> dict[str, np.ndarray]:
    with np.load(run_dir / "weights.npz", allow_pickle=False) as f:
        return dict(f)


def assert_same_members(a: Path, b: Path) -> None:
    """Two sweep directories hold the same members, file for file (timing aside)."""
    names = sorted(p.name for p in (a / "runs").iterdir())
    assert names == sorted(p.name for p in (b / "runs").iterdir())
    for name in names:
        wa, wb = weights(a / "runs" / name), weights(b / "runs" / name)
        assert sorted(wa) == sorted(wb)
        for key in wa:
            np.testing.assert_array_equal(wa[key], wb[key], err_msg=f"{name}: {key}")
        for file in ("metrics.csv", "evals.csv", "metrics.jsonl", "config.toml"):
            text_a = (a / "runs" / name / file).read_text()
            assert text_a == (b / "runs" / name / file).read_text(), f"{name}/{file}"
    assert without_timing(csv_rows(a / "summary.csv")) == without_timing(
        csv_rows(b / "summary.csv")
    )


# ----------------------------------------------------------------------------- grids


def test_a_grid_reads_each_value_as_its_field() -> None:
    grid = parse_grid(
        [
            "model.activation=relu,leaky_relu",
            "optimizer.lr=0.1,1e-3",
            "model.hidden=16x16,[8],[]",
            "data.standardize=true,false",
            "training.batch_size=16",
            "data.features=[x1,x2],[x1,x2,x1x2]",
        ]
    )
    assert grid.fields == {
        "model.activation": ["relu", "leaky_relu"],
        "optimizer.lr": [0.1, 0.001],
        "model.hidden": [[16, 16], [8], []],
        "data.standardize": [True, False],
        "training.batch_size": [16],
        "data.features": [["x1", "x2"], ["x1", "x2", "x1x2"]],
    }
    assert grid.size == 2 * 2 * 3 * 2 * 1 * 2


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("model.activaton=relu", "model.activaton", "unknown field"),
        ("activation=relu", "activation", "unknown field"),
        ("model.activation=relu,banana", "model.activation", "banana"),
        ("optimizer.lr=0.1,-1", "optimizer.lr", "> 0"),
        ("optimizer.lr=fast", "optimizer.lr", "not a number"),
        ("training.steps=1.5", "training.steps", "whole number"),
        ("model.hidden=16x0", "model.hidden[1]", "from 1"),
        ("optimizer.lr=", "optimizer.lr", "no value"),
        ("optimizer.lr=0.1,0.1", "optimizer.lr", "twice"),
        ("model.activation", "--grid", "FIELD=V1,V2"),
    ],
)
def test_a_bad_grid_names_its_field(text: str, field: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_grid([text])
    assert caught.value.field == field
    assert says in str(caught.value)


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="given twice") as caught:
        parse_grid(["optimizer.lr=0.1", "optimizer.lr=0.2"])
    assert caught.value.field == "optimizer.lr"


def test_a_combination_the_config_refuses_names_its_field() -> None:
    """Each value alone is allowed; the configs they make are validated as wholes too."""
    base = BASE.with_changes(data={"n_samples": 40})
    with pytest.raises(ConfigError) as caught:
        sweep_in(Path("/nonexistent/never-made"), ["training.batch_size=8,64"], base=base)
    assert caught.value.field.startswith("training.batch_size")
    assert not Path("/nonexistent").exists()


# ----------------------------------------------------------------------------- members


def test_members_cover_the_grid_with_the_seed_fastest() -> None:
    found = members(BASE.with_changes(training={"seed": 5}), parse_grid(GRID), seeds=3)
    assert len(found) == 2 * 2 * 3
    assert [m.index for m in found] == list(range(12))
    assert [m.seed for m in found[:4]] == [5, 6, 7, 5]
    assert found[4].values == {"model.activation": "relu", "optimizer.lr": 0.05}
    assert found[4].name == "04-activation=relu-lr=0.05-seed=6"
    for m in found:
        assert m.config.model.activation == m.values["model.activation"]
        assert m.config.optimizer.lr == m.values["optimizer.lr"]
        assert m.config.training.seed == m.seed
        assert m.config.data == BASE.data  # a seed sweep keeps the data


def test_a_seed_sweep_varies_the_weights_over_the_same_data() -> None:
    a, b = (Trainer(m.config) for m in members(BASE, Grid(), seeds=2))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.network.theta, b.network.theta)


def test_seeds_in_the_grid_or_by_count_not_both() -> None:
    grid = parse_grid(["training.seed=3,9"])
    assert [m.seed for m in members(BASE, grid)] == [3, 9]
    with pytest.raises(ConfigError, match="not both") as caught:
        members(BASE, grid, seeds=2)
    assert caught.value.field == "training.seed"


def test_names_keep_apart_fields_of_one_name() -> None:
    found = members(BASE, parse_grid(["data.seed=1,2"]))
    assert found[0].name == "0-data.seed=1-seed=0"


def test_big_groups_are_cut_so_every_worker_has_work() -> None:
    configs = [m.config for m in members(BASE, Grid(), seeds=8)]
    groups = plan_groups(configs, 2)
    assert sorted(i for g in groups for i in g) == list(range(8))
    assert max(len(g) for g in groups) <= 4


def test_the_longest_groups_are_handed_out_first() -> None:
    # Activations do not stack: a group each, costed by its steps and seconds a step.
    configs = [BASE.with_changes(model={"activation": a}) for a in ("relu", "tanh", "gelu")]
    assert plan_groups(configs, 2, [1.0, 3.0, 2.0]) == [[1], [2], [0]]
    configs[0] = configs[0].with_changes(training={"steps": 4 * BASE.training.steps})
    assert plan_groups(configs, 2, [1.0, 3.0, 2.0]) == [[0], [1], [2]]


def test_a_stack_costs_its_members_and_equal_costs_keep_the_grid_order() -> None:
    configs = [m.config for m in members(BASE, Grid(), seeds=6)]
    configs.append(BASE.with_changes(model={"activation": "tanh"}))
    # Two stacks of three seeds (1.0 a member each), then one tanh member at 2.0.
    assert plan_groups(configs, 3, [1.0] * 6 + [2.0]) == [[0, 1, 2], [3, 4, 5], [6]]
    assert plan_groups(configs, 3, [1.0] * 6 + [4.0]) == [[6], [0, 1, 2], [3, 4, 5]]


def test_preflight_costs_each_kind_of_member_once() -> None:
    costs = preflight(members(BASE, parse_grid(GRID)))  # relu at 2 rates, then tanh at 2
    assert costs[0] == costs[1] and costs[2] == costs[3]  # a rate changes no step's cost
    assert preflight(members(BASE, parse_grid(["optimizer.lr=0.01,0.05"]), 2)) == [1.0] * 4


def test_preflight_builds_each_data_set_once_and_evaluates_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import engine.train.trainer as trainer_module

    made, evaluated = [], []
    make = trainer_module.make_dataset
    monkeypatch.setattr(trainer_module, "make_dataset", lambda *a: made.append(1) or make(*a))
    evaluate = Trainer.evaluate
    monkeypatch.setattr(Trainer, "evaluate", lambda self: evaluated.append(1) or evaluate(self))
    preflight(members(BASE, parse_grid(GRID)))
    assert (len(made), len(evaluated)) == (1, 0)


def test_preflight_refuses_what_a_trainer_refuses() -> None:
    found = members(BASE, parse_grid(["model.activation=relu,tanh"]))
    big = members(BASE.with_changes(training={"memory_budget_mb": 0.01}), Grid())
    with pytest.raises(ConfigError, match="memory budget") as caught:
        preflight([*found, *big])  # the memory guard needs the data set's size
    assert caught.value.field == "model.hidden"


def test_a_stopped_member_is_not_finished() -> None:
    stop = threading.Event()
    stop.set()
    ((trainer, _),) = train_group([BASE], stop)
    assert not finished(trainer) and trainer.steps_done == 0
    ((trainer, _),) = train_group([BASE])
    assert finished(trainer) and trainer.steps_done == BASE.training.steps


# ----------------------------------------------------------------------------- directory


def test_the_sweep_directory_holds_every_member_and_its_row(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = sweep_in(out)
    assert not result.stopped and result.ran == 8
    assert {p.name for p in out.iterdir()} == {"sweep.toml", "summary.csv", "runs"}
    rows = csv_rows(out / "summary.csv")
    assert list(rows[0]) == [
        "index", "run", "model.activation", "optimizer.lr", "seed", "steps_done",
        "train_loss", "train_accuracy", "val_loss", "val_accuracy", "dead.0", "dead.1",
        "saturated.0", "saturated.1", "diverged", "diverged_step", "steps_per_s",
    ]  # fmt: skip
    found = members(BASE, parse_grid(GRID), seeds=2)
    assert [row["run"] for row in rows] == [m.name for m in found]
    for member, row in zip(found, rows, strict=True):
        run_dir = out / "runs" / member.name
        assert {p.name for p in run_dir.iterdir()} >= RUN_FILES
        run = load_run(run_dir)
        assert run.trainer is not None
        assert run.config == member.config
        assert run.summary["done"] and run.summary["final"]
        last = run.summary["eval"]
        assert float(row["val_accuracy"]) == last["val_accuracy"]
        assert float(row["train_loss"]) == last["train_loss"]
        assert (row["model.activation"], float(row["optimizer.lr"])) == (
            member.config.model.activation,
            member.config.optimizer.lr,
        )
        assert int(row["seed"]) == member.seed
        assert row["diverged"] == "false" and row["diverged_step"] == ""
        units = member.config.model.hidden
        assert [float(row[f"dead.{i}"]) for i in range(2)] == [
            d / u for d, u in zip(last["dead"], units, strict=True)
        ]
        assert float(row["steps_per_s"]) == run.summary["steps_per_s"] > 0


def test_members_trained_as_one_stack_are_the_runs_they_would_be_alone(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    grid = ["optimizer.lr=0.01,0.05", "model.init=he_normal,xavier_normal"]
    found = members(BASE, parse_grid(grid), seeds=2)
    assert plan_groups([m.config for m in found], 1) == [list(range(8))]  # one stack
    sweep_in(out, grid, seeds=2)
    for member in found:
        alone = Trainer(member.config)
        alone.run(member.config.training.steps)
        run = load_run(out / "runs" / member.name)
        assert run.trainer is not None
        ours, theirs = run.trainer.checkpoint(), alone.checkpoint()
        assert sorted(ours) == sorted(theirs)
        for key in theirs:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{member.name}: {key}")
        assert run.evals == alone.evals


def test_a_diverged_member_says_where(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    base = BASE.with_changes(optimizer={"name": "sgd"}, model={"init": "normal"})
    sweep_in(out, ["optimizer.lr=0.01,1000", "model.init_scale=10"], seeds=1, base=base)
    calm, wild = csv_rows(out / "summary.csv")
    assert calm["diverged"] == "false"
    assert wild["diverged"] == "true"
    step = int(wild["diverged_step"])
    assert 0 <= step < base.training.steps
    summary = json.loads((out / "runs" / wild["run"] / "summary.json").read_text())
    assert summary["diverged"].startswith(f"diverged at step {step}")


def test_sweep_toml_and_load_sweep_give_the_sweep_back(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = sweep_in(out, [*GRID, "model.hidden=4x4,[5]"], seeds=1)
    sweep = load_sweep(out)
    assert sweep.base == BASE
    assert sweep.grid == parse_grid([*GRID, "model.hidden=4x4,[5]"])
    assert sweep.seeds == [0]
    assert sweep.keys == ["model.activation", "optimizer.lr", "model.hidden"]
    assert [m.member.name for m in sweep.members] == [m.member.name for m in result.sweep.members]
    assert [m.run_dir for m in sweep.members] == [
        out / "runs" / m.member.name for m in sweep.members
    ]
    assert sweep.rows == result.sweep.rows  # typed back as they were made
    shallow = next(row for row in sweep.rows if row["model.hidden"] == [5])
    assert "dead.1" not in shallow and "dead.0" in shallow


def test_a_directory_that_holds_a_sweep_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    sweep_in(out, ["model.activation=tanh"], seeds=1)
    before = (out / "summary.csv").read_text()
    with pytest.raises(ValueError, match="already holds a sweep"):
        sweep_in(out, ["model.activation=relu"], seeds=1)
    assert (out / "summary.csv").read_text() == before


def test_rows_grouped_over_seeds(tmp_path: Path) -> None:
    result = sweep_in(tmp_path / "sweep", GRID, seeds=3)
    groups = grouped(result.sweep.rows, result.sweep.keys)
    assert len(groups) == 4
    first = groups[0]
    assert first.values == {"model.activation": "relu", "optimizer.lr": 0.01}
    assert first.seeds == [0, 1, 2]
    accs = [row["val_accuracy"] for row in result.sweep.rows[:3]]
    assert first.stats["val_accuracy"].mean == pytest.approx(np.mean(accs), rel=1e-12)
    assert first.stats["val_accuracy"].sd == pytest.approx(np.std(accs, ddof=1), rel=1e-12)


# ----------------------------------------------------------------------------- resume


def test_an_interrupted_sweep_resumes_to_the_whole_sweep(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    sweep_in(whole)
    part = tmp_path / "part"
    stopped = sweep_in(part, stop_after=3)
    ran = stopped.ran  # 3, or more when the third member's group held more
    assert stopped.stopped and 3 <= ran < 8
    assert len(csv_rows(part / "summary.csv")) == ran
    assert len(list((part / "runs").iterdir())) == ran  # no half member left behind
    seen: list[int] = []
    with threads() as pool:
        resumed = resume_sweep(part, pool, lambda d, t, r: seen.append(d), slots=1)
    assert not resumed.stopped and resumed.ran == 8 - ran
    assert seen == list(range(ran, 9))  # only what was missing
    assert_same_members(whole, part)


def test_resume_writes_the_row_of_a_member_finished_before_its_row(tmp_path: Path) -> None:
    """A kill between a member's run directory and its summary row loses nothing."""
    out = tmp_path / "sweep"
    sweep_in(out, seeds=1)
    rows = csv_rows(out / "summary.csv")
    lines = (out / "summary.csv").read_text().splitlines()
    (out / "summary.csv").write_text("\n".join(lines[:-1]) + "\n")  # the last row lost
    with threads() as pool:
        result = resume_sweep(out, pool, slots=1)
    assert result.ran == 0
    assert csv_rows(out / "summary.csv") == rows


def test_resume_runs_a_member_whose_save_was_cut_short(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    sweep_in(whole, seeds=1)
    out = tmp_path / "cut"
    sweep_in(out, seeds=1)
    cut = out / "runs" / "1-activation=relu-lr=0.05-seed=0"
    (cut / "summary.json").unlink()  # the last file a save writes
    with threads() as pool:
        result = resume_sweep(out, pool, slots=1)
    assert result.ran == 1
    assert_same_members(whole, out)


# ----------------------------------------------------------------------------- executors


def test_a_process_pool_gives_the_same_sweep(tmp_path: Path) -> None:
    local = tmp_path / "threads"
    sweep_in(local, seeds=1)
    pooled = tmp_path / "pool"
    with local_executor(2) as pool:
        run_sweep(BASE, parse_grid(GRID), 1, pooled, pool, slots=2)
    assert_same_members(local, pooled)


def test_a_threaded_parent_spawns_its_workers_and_gets_the_same_sweep(tmp_path: Path) -> None:
    local = tmp_path / "threads"
    sweep_in(local, seeds=1)
    pooled = tmp_path / "pool"
    done = threading.Event()
    other = threading.Thread(target=done.wait)  # a parent that runs another thread
    other.start()
    try:
        with local_executor(2) as pool:
            assert pool.start_method == "spawn"  # a fork could copy a lock another holds
            run_sweep(BASE, parse_grid(GRID), 1, pooled, pool, slots=2)
    finally:
        done.set()
        other.join()
    assert_same_members(local, pooled)


def test_the_pool_starts_its_workers_at_once() -> None:
    before = set(multiprocessing.active_children())
    with local_executor(2):
        assert len(set(multiprocessing.active_children()) - before) == 2


def _sigterm_ends_the_process() -> bool:
    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks only on Linux")
def test_a_forked_worker_does_not_keep_the_parents_sigterm_handler() -> None:
    if threading.active_count() > 1:
        pytest.skip("a thread another test left running: the pool would spawn, not fork")
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        with local_executor(1) as pool:
            assert pool.start_method == "fork"
            assert pool.submit(_sigterm_ends_the_process).result()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_stop_keeps_the_finished_members_of_a_process_pool(tmp_path: Path) -> None:
    stop = threading.Event()

    def progress(done: int, total: int, row: dict[str, Any] | None) -> None:
        if done >= 1:
            stop.set()

    with local_executor(1) as pool:
        result = run_sweep(BASE, parse_grid(GRID), 1, tmp_path / "s", pool, progress, stop, 1)
    ran = result.ran  # the first group: one member, or its stack
    assert result.stopped and 1 <= ran < 4
    assert len(result.sweep.rows) == ran == len(list((tmp_path / "s" / "runs").iterdir()))


def test_the_final_evaluation_is_the_one_train_ends_on() -> None:
    config = BASE.with_changes(training={"steps": 25})
    trainer = Trainer(config)
    trainer.run(25)
    last = final_eval(trainer)
    assert last is not None and last.step == 25
    assert trainer.evals[-1].step == 20  # not kept: a resumed run holds the same evals


def test_pool_workers_stop_on_the_pools_event_and_use_one_blas_thread(tmp_path: Path) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    (member,) = members(BASE.with_changes(training={"steps": 10**6}), Grid())
    with local_executor(1) as pool:
        blas = pool.submit(threadpoolctl.threadpool_info).result()
        pool.stop_workers()  # a flag the worker process reads: the group stops at once
        kept = pool.submit(run_group, [member], str(tmp_path)).result()
    assert [lib["num_threads"] for lib in blas if lib["user_api"] == "blas"] == [1]
    assert kept == [] and list(tmp_path.iterdir()) == []  # a stopped member is not kept
