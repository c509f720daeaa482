"""`tui-nn sweep` end to end: the base from the options, the tables, --json, bad grids
(exit 2, nothing written), --resume, and Ctrl-C (keeps the finished members)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.store.runs import load_run
from engine.sweep import SweepResult, load_sweep
from tests.engine.test_sweep import assert_same_members, sweep_in
from tui_nn.cli import build_parser, config_from_args, main
from tui_nn.cli import sweep as sweep_cli

TUI_NN = Path(sys.executable).parent / "tui-nn"
SMALL = ["--steps", "30", "--eval-every", "10", "--batch-size", "32", "--hidden", "6,6"]
GRID = ["--grid", "model.activation=relu,tanh", "--grid", "optimizer.lr=0.01,0.05"]


def sweep(*args: str) -> int:
    return main(["sweep", *SMALL, *args])


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_sweep_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert sweep(*GRID, "--seeds", "2", "--out", str(out), "--workers", "1") == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "sweep: 8 of 8 members to train" in lines
    assert sum(line.startswith("member ") for line in lines) == 8
    table = lines[lines.index(next(line for line in lines if line.startswith("activation")))]
    assert table.split()[:4] == ["activation", "lr", "seeds", "train"]
    assert "init" not in table  # only the varied fields are columns
    assert sum(line.startswith(("relu ", "tanh ")) for line in lines) == 4 + 2  # and heat rows
    assert "±" in text
    assert "validation accuracy: activation down, lr across" in lines
    heat = lines[lines.index("validation accuracy: activation down, lr across") + 1]
    assert heat.split() == ["activation", "\\", "lr", "0.01", "0.05"]
    assert lines[-1] == f"done: 8 members in {out}"
    assert len(rows(out / "summary.csv")) == 8


def test_a_member_is_what_train_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert (
        sweep("--grid", "optimizer.lr=0.05", "--seeds", "2", "--out", str(out), "--workers", "1")
        == 0
    )
    alone = tmp_path / "alone"
    args = ["train", *SMALL, "--lr", "0.05", "--seed", "1", "--out", str(alone), "--quiet"]
    assert main(args) == 0
    member = out / "runs" / "1-lr=0.05-seed=1"
    assert {p.name for p in member.iterdir()} == {p.name for p in alone.iterdir()}
    for name in ("config.toml", "metrics.csv", "evals.csv", "metrics.jsonl"):
        assert (member / name).read_text() == (alone / name).read_text(), name
    with np.load(member / "weights.npz") as a, np.load(alone / "weights.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    ours, theirs = (json.loads((d / "summary.json").read_text()) for d in (member, alone))
    mine = {k: v for k, v in ours.items() if k not in ("saved_at", "seconds", "steps_per_s")}
    assert mine == {k: v for k, v in theirs.items() if k in mine} and ours.keys() == theirs.keys()


def test_the_config_file_and_options_set_the_base(tmp_path: Path) -> None:
    exp = tmp_path / "exp.toml"
    exp.write_text('[model]\nhidden = [5]\nactivation = "tanh"\n[data]\nname = "xor"\n')
    out = tmp_path / "sweep"
    args = ["sweep", "--config", str(exp), "--steps", "20", "--lr", "0.03"]
    assert main([*args, "--grid", "model.init=he_normal,xavier_normal", "--out", str(out)]) == 0
    sweep = load_sweep(out)
    assert sweep.base.model.hidden == [5] and sweep.base.data.name == "xor"
    assert sweep.base.optimizer.lr == 0.03 and sweep.base.training.steps == 20
    for m in sweep.members:
        run = load_run(m.run_dir)
        assert run.config.model.activation == "tanh"
        assert run.config.model.init == m.member.values["model.init"]


def test_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert sweep(*GRID, "--out", str(out), "--json") == 0
    (line,) = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert summary["members"] == summary["finished"] == summary["ran"] == 4
    assert summary["grid"] == {"model.activation": ["relu", "tanh"], "optimizer.lr": [0.01, 0.05]}
    assert len(summary["groups"]) == 4 and summary["groups"][0]["seeds"] == [0]
    assert summary["groups"][0]["stats"]["val_accuracy"]["sd"] is None  # one seed: no sd
    assert [row["run"] for row in summary["rows"]] == [r["run"] for r in rows(out / "summary.csv")]


@pytest.mark.parametrize(
    ("grid", "says"),
    [
        (["model.activaton=relu"], "model.activaton: unknown field"),
        (["model.activation=relu,banana"], "model.activation: unknown name 'banana'"),
        (["optimizer.lr=0.1,-1"], "optimizer.lr: must be a finite number > 0"),
        (["optimizer.lr="], "optimizer.lr: the grid gives no value"),
        (["model.hidden=16x16,wide"], "model.hidden: 'wide' is not layer widths"),
        (["training.seed=" + ",".join(map(str, range(1001)))], "--grid: 1001 members"),
        (["optimizer.lr=0.1,0.2", "training.batch_size=500"], "training.batch_size"),
    ],
)
def test_a_bad_grid_exits_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], grid: list[str], says: str
) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as exit_:
        sweep(*(arg for g in grid for arg in ("--grid", g)), "--out", str(out))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not out.exists()


def test_yes_lets_a_big_grid_through() -> None:
    seeds = ",".join(map(str, range(1001)))
    args = build_parser().parse_args(["sweep", "--grid", f"training.seed={seeds}", "--out", "x"])
    with pytest.raises(ValueError, match="--yes"):
        sweep_cli._check_new(args, config_from_args(args))
    args.yes = True
    sweep_cli._check_new(args, config_from_args(args))  # checks only: nothing is written


def test_resume_takes_no_grid_or_experiment_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    sweep_in(out, stop_after=2)
    before = (out / "summary.csv").read_text()
    for extra in (["--grid", "optimizer.lr=0.1"], ["--lr", "0.1"], ["--out", str(out)]):
        with pytest.raises(SystemExit) as exit_:
            main(["sweep", "--resume", str(out), *extra])
        assert exit_.value.code == 2
        assert "--resume: the sweep's own sweep.toml is used" in capsys.readouterr().err
    assert (out / "summary.csv").read_text() == before


def test_resume_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole, part = tmp_path / "whole", tmp_path / "part"
    sweep_in(whole)
    ran = sweep_in(part, stop_after=3).ran
    assert main(["sweep", "--resume", str(part), "--workers", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"sweep: {8 - ran} of 8 members to train"
    assert lines[-1] == f"done: 8 members in {part}"
    assert_same_members(whole, part)


def test_a_stopped_sweep_says_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = sweep_in(out, stop_after=1)
    text = _report(result)
    kept = f"stopped: {result.ran} of 8 members finished (kept)"
    assert f"{kept}; resume: tui-nn sweep --resume {out}" in text


def _report(result: SweepResult) -> str:
    stream = io.StringIO()
    sweep_cli.report(result, stream, as_json=False)
    return stream.getvalue()


def test_ctrl_c_keeps_the_finished_members(tmp_path: Path) -> None:
    """A real Ctrl-C: SIGINT to the whole process group (the pool's workers too), sent
    once the first member is reported; the sweep stops, keeps it and says how to resume."""
    out = tmp_path / "sweep"
    # Three activations: members that cannot train as one stack, three groups in turn.
    grid = "model.activation=relu,tanh,sigmoid"
    args = ["sweep", "--steps", "2000", "--hidden", "16,16", "--grid", grid]
    process = subprocess.Popen(
        [str(TUI_NN), *args, "--out", str(out), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = [process.stdout.readline() for _ in range(2)]
    assert seen[1].startswith("member 1/3:"), seen
    os.killpg(process.pid, signal.SIGINT)
    rest, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert f"resume: tui-nn sweep --resume {out}" in rest
    assert "Traceback" not in err
    finished = rows(out / "summary.csv")
    assert 1 <= len(finished) < 3
    assert len(list((out / "runs").iterdir())) == len(finished)
    assert main(["sweep", "--resume", str(out), "--workers", "1", "--json"]) == 0
    assert len(rows(out / "summary.csv")) == 3
