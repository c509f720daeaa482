"""A run directory survives a refused resume byte for byte: `tui-nn train --resume DIR` on a
tampered weights.npz, or with --steps below the steps done, exits 2 with the message and
writes nothing. And what a save writes follows the trainer: its live config, its evaluations."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.store.runs import (
    create_run_dir,
    load_run,
    resume_trainer,
    save_run,
    write_metrics,
    write_npz,
)
from engine.store.toml import load_config
from tui_nn.cli import main

TRAIN = ["train", "--steps", "60", "--eval-every", "20", "--batch-size", "40", "--quiet"]


def files_of(run_dir: Path) -> dict[str, str]:
    """Every file of the directory (hidden temporary files too) and its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.iterdir())
        if p.is_file()
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    assert main([*TRAIN, "--out", str(path)]) == 0
    return path


def tamper(path: Path, change: Any) -> None:
    """Rewrite weights.npz with change(arrays) applied: a well-formed file, wrong inside."""
    with np.load(path, allow_pickle=False) as f:
        arrays = dict(f)
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def set_entry(key: str, index: tuple[int, ...], value: float) -> Any:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[key] = arrays[key].copy()
        arrays[key][index] = value

    return change


def shorten(key: str) -> Any:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[key] = arrays[key][:-1]

    return change


TAMPERED = {
    "NaN weight": (set_entry("theta", (5,), np.nan), "theta"),
    "infinite weight": (set_entry("theta", (0,), np.inf), "theta"),
    "NaN optimizer state": (set_entry("optimizer.state.theta.m", (3,), np.nan), "optimizer"),
    "NaN evaluation loss": (set_entry("evals", (1, 1), np.nan), "evals"),
    "NaN evaluation step": (set_entry("evals", (0, 0), np.nan), "evals"),
    "NaN dead count": (set_entry("evals", (2, 5), np.nan), "evals"),
    "evaluations of the wrong width": (lambda a: a.update(evals=a["evals"][:, :3]), "evals"),
    "a negative dead count": (set_entry("evals", (2, 6), -3.0), "evals"),
    "a history length that is not its rows": (set_entry("history.meta", (2,), 1000), "history"),
    "raw history rows and steps of different counts": (shorten("history.raw_steps"), "history"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_weights_file_is_refused_and_nothing_is_written(
    run_dir: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    change, key = TAMPERED[case]
    weights = run_dir / "weights.npz"
    tamper(weights, change)
    before = files_of(run_dir)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(run_dir), "--steps", "200", "--quiet"])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.startswith(f"tui-nn: error: {weights}: ") and key in err, err
    assert "Traceback" not in err
    assert files_of(run_dir) == before


def test_resuming_below_the_steps_done_is_refused_and_the_run_kept(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_of(run_dir)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(run_dir), "--steps", "30"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "training.steps: the run has done 60 steps, got 30" in err, err
    assert files_of(run_dir) == before
    assert main(["train", "--resume", str(run_dir), "--steps", "80", "--quiet"]) == 0
    assert resume_trainer(run_dir).steps_done == 80  # the kept run goes on from step 60


# ----------------------------------------------------------------------------- what is saved


def config(**training: Any) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {"training": {"steps": 90, "eval_every": 30, "batch_size": 40, **training}}
    )


def test_a_live_rate_change_is_saved_in_config_toml(tmp_path: Path) -> None:
    trainer = Trainer(config())
    trainer.run(30)
    trainer.set_learning_rate(0.0123)
    trainer.run(10)
    run_dir = create_run_dir(tmp_path, trainer.config)
    save_run(trainer, run_dir, final=True)
    assert load_config(run_dir / "config.toml").optimizer.lr == 0.0123
    resumed = resume_trainer(run_dir)
    assert resumed.config.optimizer.lr == 0.0123 and resumed.lr == trainer.lr
    resumed.run(50)
    trainer.run(50)
    np.testing.assert_array_equal(resumed.network.theta, trainer.network.theta, strict=True)


def test_evaluation_exports_hold_every_evaluation_with_its_dead_units(tmp_path: Path) -> None:
    trainer = Trainer(config())
    trainer.run(90)
    run_dir = create_run_dir(tmp_path, trainer.config)
    save_run(trainer, run_dir, final=True)
    rows = [line.split(",") for line in (run_dir / "evals.csv").read_text().splitlines()]
    assert rows[0][-2:] == ["dead.0", "dead.1"]
    expected = [[str(ev.step), *(str(d) for d in ev.dead)] for ev in trainer.evals]
    assert [[row[0], *row[-2:]] for row in rows[1:]] == expected
    assert [row[0] for row in rows[1:]] == ["0", "30", "60", "90"]  # the initial network too
    jsonl = (run_dir / "metrics.jsonl").read_text().splitlines()
    dead = [json.loads(line)["dead"] for line in jsonl if '"kind": "eval"' in line]
    assert dead == [ev.dead for ev in trainer.evals]


def test_an_older_checkpoint_s_live_rate_is_the_loaded_config(tmp_path: Path) -> None:
    """Format 1 kept a live rate apart from config.toml (base_lr); loading it gives one
    config, the trainer's, with that rate."""
    trainer = Trainer(config())
    trainer.run(30)
    run_dir = create_run_dir(tmp_path, trainer.config)
    old = trainer.checkpoint() | {"format": np.array(1), "base_lr": np.array(0.0042)}
    with open(run_dir / "weights.npz", "wb") as f:
        write_npz(f, old)
    run = load_run(run_dir)
    assert run.trainer is not None and run.trainer.config.optimizer.lr == 0.0042
    assert run.config is run.trainer.config


def test_a_failed_metrics_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(config())
    trainer.run(30)
    run_dir = create_run_dir(tmp_path, trainer.config)
    write_metrics(trainer.history, trainer.evals, run_dir)
    before = files_of(run_dir)
    trainer.run(30)

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_metrics(trainer.history, trainer.evals, run_dir)
    monkeypatch.undo()
    assert files_of(run_dir) == before  # no half file, no stray temporary file
