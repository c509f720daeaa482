"""Run directories and checkpoints: resume is bit for bit, saves are atomic, loads are safe."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.config import ConfigError, ExperimentConfig
from engine.store.runs import (
    RunError,
    create_run_dir,
    load_run,
    prepare_run_dir,
    read_weights,
    resume_trainer,
    run_name,
    save_run,
)
from engine.train.checkpoint import CHECKPOINT_FORMAT
from engine.train.trainer import CheckpointError, Trainer

BASE: dict[str, Any] = {"training": {"steps": 200, "eval_every": 25, "batch_size": 50}}


def config(**sections: dict[str, Any]) -> ExperimentConfig:
    raw = {name: dict(values) for name, values in BASE.items()}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return ExperimentConfig.from_dict(raw)


def assert_same_state(a: Trainer, b: Trainer) -> None:
    """Everything a checkpoint holds (parameters, gradient, optimizer state, sampler and its
    generator, history, evaluations), compared bit for bit."""
    ca, cb = a.checkpoint(), b.checkpoint()
    assert sorted(ca) == sorted(cb)
    for key in ca:
        assert ca[key].dtype == cb[key].dtype, key
        np.testing.assert_array_equal(ca[key], cb[key], err_msg=key, strict=True)
    assert a.evals == b.evals
    assert a.steps_done == b.steps_done
    for name in ("loss", "layers.0.grad_norm_W"):
        sa, sb = a.history.series(name, 50), b.history.series(name, 50)
        np.testing.assert_array_equal(sa.mean, sb.mean)


@pytest.mark.parametrize(
    ("sections", "split"),
    [
        ({}, 73),  # adam, mid-epoch
        ({"optimizer": {"name": "sgd", "schedule": "cosine", "lr": 0.2}}, 120),  # epoch edge
        ({"optimizer": {"name": "momentum", "weight_decay": 1e-3, "clip_norm": 1.0}}, 1),
        ({"optimizer": {"name": "nesterov"}}, 0),  # before the first step
        ({"optimizer": {"name": "rmsprop"}, "training": {"dtype": "float64"}}, 150),
        ({"model": {"activation": "maxout"}, "optimizer": {"schedule": "step"}}, 199),
    ],
)
def test_restore_continues_bit_for_bit(sections: dict, split: int) -> None:
    cfg = config(**sections)
    whole = Trainer(cfg)
    whole.run(200)
    first = Trainer(cfg)
    first.run(split)
    arrays = first.checkpoint()
    assert all(not a.dtype.hasobject for a in arrays.values())
    resumed = Trainer.from_checkpoint(cfg, arrays)
    assert_same_state(first, resumed)
    resumed.run(200 - split)
    assert_same_state(whole, resumed)
    np.testing.assert_array_equal(
        whole.predict(whole.X_val), resumed.predict(resumed.X_val), strict=True
    )


def test_resume_through_a_run_directory_with_more_steps(tmp_path: Path) -> None:
    whole = Trainer(config(training={"steps": 300}))
    whole.run(300)
    run_dir = create_run_dir(tmp_path, config())
    first = Trainer(config())
    first.run(200)
    save_run(first, run_dir, final=True)
    resumed = resume_trainer(run_dir, steps=300)
    assert resumed.config.training.steps == 300 and resumed.steps_done == 200
    resumed.run(100)
    save_run(resumed, run_dir, final=True)
    assert_same_state(whole, resumed)
    again = load_run(run_dir)  # config.toml now says 300 steps
    assert again.config.training.steps == 300 and again.trainer is not None
    assert_same_state(whole, again.trainer)
    assert again.history is again.trainer.history and again.evals == whole.evals
    assert again.summary["steps_done"] == 300 and again.summary["final"] is True


def test_resume_needs_enough_steps_and_a_checkpoint(tmp_path: Path) -> None:
    run_dir = create_run_dir(tmp_path, config())
    empty = load_run(run_dir)
    assert empty.trainer is None and empty.history is None and empty.evals == []
    with pytest.raises(RunError, match="nothing to resume"):
        resume_trainer(run_dir)
    trainer = Trainer(config())
    trainer.run(50)
    save_run(trainer, run_dir, final=False)
    with pytest.raises(ConfigError, match="done 50 steps"):
        resume_trainer(run_dir, steps=10)
    assert resume_trainer(run_dir).steps_done == 50


def test_saved_files(tmp_path: Path) -> None:
    cfg = config(training={"steps": 60, "eval_every": 20})
    run_dir = create_run_dir(tmp_path / "runs", cfg)
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.endswith("spiral-relu-he_normal")
    trainer = Trainer(cfg)
    trainer.run(60)
    save_run(trainer, run_dir, final=True, extra={"seconds": 1.5})
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == sorted(
        [
            *("config.toml", "weights.npz", "metrics.csv", "evals.csv", "metrics.jsonl"),
            *("summary.json", "events.jsonl", "machine.json"),
        ]
    )
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",") == ["step", *trainer.history.columns]
    assert len(lines) == 61 and lines[1].split(",")[0] == "1"
    last = trainer.history.last()
    assert last is not None and float(lines[-1].split(",")[1]) == last["loss"]
    evals = (run_dir / "evals.csv").read_text().splitlines()
    assert evals[0] == "step,train_loss,train_accuracy,val_loss,val_accuracy,dead.0,dead.1"
    assert [row.split(",")[0] for row in evals[1:]] == ["0", "20", "40", "60"]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    assert (
        len(steps) == 60 and steps[0]["step"] == 1 and set(trainer.history.columns) < set(steps[0])
    )
    evals_json = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals_json] == [0, 20, 40, 60]
    assert [r["dead"] for r in evals_json] == [ev.dead for ev in trainer.evals]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps_done"] == 60 and summary["done"] and summary["seconds"] == 1.5
    assert summary["eval"]["step"] == 60 and summary["diverged"] is None


def test_checkpoints_skip_the_exports(tmp_path: Path) -> None:
    run_dir, _ = saved_run(tmp_path)
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "config.toml",
        "summary.json",
        "weights.npz",
    ]
    assert json.loads((run_dir / "summary.json").read_text())["final"] is False


def test_regression_nan_accuracy_is_null_in_json(tmp_path: Path) -> None:
    cfg = config(data={"name": "sine"}, training={"steps": 25})
    trainer = Trainer(cfg)
    trainer.run(25)
    run_dir = create_run_dir(tmp_path, cfg)
    save_run(trainer, run_dir, final=True)
    text = (run_dir / "metrics.jsonl").read_text() + (run_dir / "summary.json").read_text()
    assert "NaN" not in text and '"accuracy": null' in text


def test_run_names_are_unique_and_safe(tmp_path: Path) -> None:
    cfg = config(data={"path": "/data/my points (v2).csv"})
    assert run_name(cfg) == "my_points_v2_-relu-he_normal"
    dirs = {create_run_dir(tmp_path, config()) for _ in range(3)}
    assert len(dirs) == 3  # same second, three directories


def test_prepare_run_dir_refuses_an_existing_run(tmp_path: Path) -> None:
    run_dir = prepare_run_dir(tmp_path / "a" / "b", config())
    assert (run_dir / "config.toml").exists()
    with pytest.raises(RunError, match="already holds a run"):
        prepare_run_dir(run_dir, config())
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="not a directory"):
        prepare_run_dir(tmp_path / "file", config())


# ----------------------------------------------------------------------------- crashes


def saved_run(tmp_path: Path, steps: int = 40) -> tuple[Path, Trainer]:
    cfg = config()
    run_dir = create_run_dir(tmp_path, cfg)
    trainer = Trainer(cfg)
    trainer.run(steps)
    save_run(trainer, run_dir, final=False)
    return run_dir, trainer


@pytest.mark.parametrize("where", ["replace", "writing"])
def test_crash_during_a_save_keeps_the_last_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    run_dir, trainer = saved_run(tmp_path)
    before = (run_dir / "weights.npz").read_bytes()
    trainer.run(40)
    if where == "replace":

        def refuse(src: object, dst: object) -> None:
            raise OSError("killed")

        monkeypatch.setattr(os, "replace", refuse)
    else:

        def half_then_die(f: io.BufferedWriter, **arrays: np.ndarray) -> None:
            f.write(b"PK\x03\x04" + b"\0" * 100)
            raise KeyboardInterrupt

        monkeypatch.setattr(np, "savez", half_then_die)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_run(trainer, run_dir, final=False)
    monkeypatch.undo()
    assert (run_dir / "weights.npz").read_bytes() == before
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert resume_trainer(run_dir).steps_done == 40


def test_a_killed_save_leaves_a_stray_temp_file_that_loading_ignores(tmp_path: Path) -> None:
    run_dir, _ = saved_run(tmp_path)
    (run_dir / ".weights.npz.abc123.tmp").write_bytes(b"PK\x03\x04 half a file")
    assert resume_trainer(run_dir).steps_done == 40


# ----------------------------------------------------------------------------- broken files


def rewrite(path: Path, change: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
    arrays = dict(np.load(path, allow_pickle=False))
    for key in drop:
        del arrays[key]
    arrays.update(change)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def object_npz(path: Path) -> None:
    arrays = dict(np.load(path, allow_pickle=False))
    arrays["theta"] = np.array([{"evil": 1}, None], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)  # numpy pickles the object array


def zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("theta.npy", b"\0" * (20 << 20))


def add_member(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(name, data)


def lying_header(path: Path) -> None:
    """A theta.npy whose header claims a terabyte, followed by a few bytes."""
    arrays = dict(np.load(path, allow_pickle=False))
    del arrays["theta"]
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (2**38,)}
    )
    add_member(path, "theta.npy", header.getvalue() + b"\0" * 64)


HOSTILE = {
    "object array": (object_npz, "object"),
    "pickle renamed .npz": (
        lambda p: p.write_bytes(pickle.dumps({"theta": np.zeros(3)})),
        "not an .npz archive",
    ),
    "truncated zip": (
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        "corrupt",
    ),
    "empty file": (lambda p: p.write_bytes(b""), "empty file"),
    "text file": (lambda p: p.write_text("theta = 1, 2, 3\n"), "not an .npz archive"),
    "zip bomb": (zip_bomb, "claims"),
    "lying .npy header": (lying_header, "corrupt"),
    "a member that is not .npy": (lambda p: add_member(p, "notes.txt", b"hi"), "notes.txt"),
    "wrong shape": (lambda p: rewrite(p, {"theta": np.zeros(5, np.float32)}), "theta: shape"),
    "wrong dtype": (lambda p: rewrite(p, {"theta": np.zeros(371, np.float64)}), "theta: dtype"),
    "text for a number": (lambda p: rewrite(p, {"steps_done": np.array("40")}), "steps_done"),
    "missing theta": (lambda p: rewrite(p, {}, drop=("theta",)), "theta: missing"),
    "missing history": (lambda p: rewrite(p, {}, drop=("history.raw",)), "history.raw: missing"),
    "missing optimizer buffer": (
        lambda p: rewrite(p, {}, drop=("optimizer.state.theta.v",)),
        "optimizer.state",
    ),
    "huge history capacity": (
        lambda p: rewrite(p, {"history.meta": np.array([2**40, 8, 40])}),
        "history.meta",
    ),
    "unknown history array": (
        lambda p: rewrite(p, {"history.level99.first": np.zeros(2, np.int64)}),
        "history.level99.first",
    ),
    "not a permutation": (
        lambda p: rewrite(p, {"batches.perm": np.zeros(240, np.int64)}),
        "batches.perm",
    ),
    "bad generator state": (
        lambda p: rewrite(p, {"batches.rng": np.array('{"bit_generator": "MT19937"}')}),
        "batches.rng",
    ),
    "evals of the wrong width": (
        lambda p: rewrite(p, {"evals": np.zeros((1, 3))}),
        "evals: shape",
    ),
    "other data": (
        lambda p: rewrite(p, {"data_digest": np.array("0" * 64)}),
        "dataset differs",
    ),
    "newer format": (
        lambda p: rewrite(p, {"format": np.array(CHECKPOINT_FORMAT + 1)}),
        "format",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_broken_or_hostile_weights_get_a_clear_error(tmp_path: Path, case: str) -> None:
    run_dir, _ = saved_run(tmp_path)
    weights = run_dir / "weights.npz"
    spoil, expected = HOSTILE[case]
    spoil(weights)
    before = weights.read_bytes()
    listing = sorted(p.name for p in run_dir.iterdir())
    with pytest.raises(RunError) as info:
        resume_trainer(run_dir)
    message = str(info.value)
    assert str(weights) in message and expected in message
    assert weights.read_bytes() == before  # nothing overwritten, nothing added
    assert sorted(p.name for p in run_dir.iterdir()) == listing


def test_read_weights_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, _ = saved_run(tmp_path)
    object_npz(run_dir / "weights.npz")

    def no_pickles(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", no_pickles)
    monkeypatch.setattr(pickle, "loads", no_pickles)
    with pytest.raises(RunError, match="object"):
        read_weights(run_dir / "weights.npz")


def test_broken_config_and_summary_and_missing_dirs(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no such run directory"):
        load_run(tmp_path / "nope")
    with pytest.raises(RunError, match="not a run directory"):
        load_run(tmp_path)
    run_dir, _ = saved_run(tmp_path)
    (run_dir / "summary.json").write_text("{not json")
    with pytest.raises(RunError, match=r"summary\.json"):
        load_run(run_dir)
    (run_dir / "summary.json").unlink()
    assert load_run(run_dir).summary == {}
    (run_dir / "config.toml").write_text("[model]\nactivation = 'nope'\n")
    with pytest.raises(ConfigError, match=r"config\.toml: model\.activation"):
        load_run(run_dir)


def test_failed_restore_leaves_the_trainer_as_it_was() -> None:
    trainer = Trainer(config())
    trainer.run(30)
    arrays = trainer.checkpoint()
    other = Trainer(config())
    other.run(10)
    before = other.checkpoint()
    broken = dict(arrays)
    broken["evals"] = np.zeros((2, 2))  # checked after most of the others
    with pytest.raises(CheckpointError, match="evals"):
        other.restore(broken)
    after = other.checkpoint()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


def test_a_diverged_run_stays_diverged(tmp_path: Path) -> None:
    cfg = config(
        optimizer={"name": "sgd", "lr": 1000.0}, model={"init": "normal", "init_scale": 100}
    )
    trainer = Trainer(cfg)
    result = trainer.run(200)
    assert result.diverged is not None
    run_dir = create_run_dir(tmp_path, cfg)
    save_run(trainer, run_dir, final=True)
    assert json.loads((run_dir / "summary.json").read_text())["diverged"].startswith("diverged")
    resumed = resume_trainer(run_dir)
    assert resumed.diverged is not None and resumed.diverged.step == result.diverged.step
