"""The `tui-nn` command line: experiment files, run directories, resume, your own data, logs,
and bad arguments (a message and exit code 2, never a traceback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.config import FIELDS, Setting
from engine.store.toml import save_config
from tui_nn.cli import build_parser, config_from_args, given_options, main
from tui_nn.cli.options import OPTIONS

TUI_NN = Path(sys.executable).parent / "tui-nn"
SMALL = ["--steps", "120", "--eval-every", "40", "--batch-size", "40"]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TUI_NN), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def weights(run_dir: Path) -> dict[str, np.ndarray]:
    with np.load(run_dir / "weights.npz", allow_pickle=False) as f:
        return dict(f)


def assert_same_run(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert sorted(wa) == sorted(wb)
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key, strict=True)
    for name in ("metrics.csv", "evals.csv", "metrics.jsonl", "config.toml"):
        assert (a / name).read_text() == (b / name).read_text(), name


def circles_csv(path: Path, n: int = 400, seed: int = 0) -> None:
    """Two rings with text labels and a header: a set only a hidden layer separates."""
    rng = np.random.default_rng(seed)
    outer = rng.random(n) < 0.5
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(outer, 1.0, 0.4) + 0.08 * rng.standard_normal(n)
    lines = ["x,y,ring"]
    for r, a, o in zip(radius, angle, outer, strict=True):
        lines.append(f"{r * np.cos(a):.6f},{r * np.sin(a):.6f},{'outer' if o else 'inner'}")
    path.write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- config


def test_file_then_options(tmp_path: Path) -> None:
    exp = tmp_path / "exp.toml"
    exp.write_text('[model]\nactivation = "tanh"\nhidden = [8]\n[optimizer]\nlr = 0.05\n')
    args = build_parser().parse_args(["train", "--config", str(exp), "--lr", "0.2"])
    config = config_from_args(args)
    assert config.model.activation == "tanh" and config.model.hidden == [8]
    assert config.optimizer.lr == 0.2  # the option wins over the file
    assert config.training == ExperimentConfig().training  # the rest: defaults


def test_data_option_becomes_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["train", "--data", "points.csv"])
    assert config_from_args(args).data.path == str(tmp_path / "points.csv")


def test_config_opens_the_lab_on_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui_nn.app

    seen: list[ExperimentConfig] = []

    class FakeLab:
        def __init__(self, config: ExperimentConfig, fps: float) -> None:
            seen.append(config)

        def run(self, mouse: bool) -> None:
            pass

    monkeypatch.setattr(tui_nn.app, "LabApp", FakeLab)
    exp = tmp_path / "exp.toml"
    save_config(ExperimentConfig.from_dict({"model": {"activation": "sigmoid"}}), exp)
    assert main(["--config", str(exp), "--seed", "3"]) == 0
    assert seen[0].model.activation == "sigmoid" and seen[0].training.seed == 3


# The options of the command line: their names do not change (new ones are added here).
FLAGS = [
    *("--dataset", "--classes", "--noise", "--samples", "--train-fraction", "--standardize"),
    *("--data-seed", "--features", "--data", "--target", "--hidden", "--activation"),
    *("--leaky-slope", "--elu-alpha"),
    *("--maxout-k", "--init", "--init-scale", "--bias-init", "--bias-value", "--loss"),
    *("--optimizer", "--lr", "--momentum", "--beta1", "--beta2", "--rho", "--eps"),
    *("--weight-decay", "--clip-norm", "--schedule", "--step-size", "--gamma", "--decay-steps"),
    *("--batch-size", "--seed", "--steps", "--eval-every", "--dtype", "--memory-budget-mb"),
]


def test_the_options_are_the_schemas_flags() -> None:
    assert list(OPTIONS) == FLAGS
    assert {s.key for s in OPTIONS.values()} == {k for k, s in FIELDS.items() if s.flag}


def other_value(field: Setting) -> tuple[list[str], Any]:
    """Command-line words that set the field to a valid value other than its default."""
    flag, default = str(field.flag), field.default
    if field.kind == "bool":
        return [f"--no-{flag[2:]}" if default else flag], not default
    if field.kind == "widths":
        return [flag, "3,2"], [3, 2]
    if field.kind == "names":
        return [flag, "x1,x2,x1^2"], ["x1", "x2", "x1^2"]
    if field.kind == "choice":
        assert field.choices is not None
        value: Any = next(name for name in field.choices() if name != default)
    elif field.kind == "int":
        value = default + 1
    elif field.kind == "float":
        value = default / 2 if default else 0.5
    else:
        value = os.path.abspath("points.csv") if field.kind == "path" else "label"
    return [flag, str(value)], value


@pytest.mark.parametrize("flag", FLAGS)
def test_every_option_sets_its_field(flag: str) -> None:
    field = OPTIONS[flag]
    words, value = other_value(field)
    args = build_parser().parse_args(["train", *words])
    assert given_options(args) == [flag]
    config = config_from_args(args)
    assert field.value_in(config) == value
    changed = [k for k, f in FIELDS.items() if f.value_in(config) != f.default]
    assert changed == [field.key]


def test_help_says_what_each_option_is_allows_and_defaults_to() -> None:
    text = " ".join(build_parser().format_help().split())  # as if argparse did not wrap
    for flag, field in OPTIONS.items():
        metavar = "" if field.kind == "bool" else f" {field.metavar}"
        assert f"{flag}{metavar} " in text
        assert " ".join(field.summary().split()) in text, flag
    assert "cosine schedule: steps to decay to 0 over" in text


def test_scenarios_subcommand_runs_the_chosen_scenario() -> None:
    # Through the console script: the subcommand writes to the sys.stdout bound at import,
    # which capsys does not see.
    done = run_cli("scenarios", "--only", "zero_init")
    assert done.returncode == 0, done.stderr
    assert "zero_init" in done.stdout and "observed:" in done.stdout
    assert "1 judged" in done.stdout and "single_neuron" not in done.stdout


# ----------------------------------------------------------------------------- runs


def test_train_writes_a_run_directory_and_plain_log_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(out), "--checkpoint-every", "50"]) == 0
    # The run's events (engine.train.events) are lines of their own, between the reports.
    lines = [
        line for line in capsys.readouterr().out.splitlines() if not line.startswith("event: ")
    ]
    assert lines[0] == f"run {out}: steps 1 to 120"
    assert [line.split()[1] for line in lines[1:4]] == ["40", "80", "120"]
    assert "\r" not in "".join(lines) and "\x1b" not in "".join(lines)  # no TTY tricks
    assert lines[4].startswith("done: 120 steps") and lines[-1] == f"saved to {out}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"] and summary["done"] and summary["steps_done"] == 120
    assert summary["eval"]["step"] == 120 and isinstance(summary["seconds"], float)


def test_default_run_directory_under_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *SMALL, "--quiet"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-spiral-relu-he_normal")
    assert (run_dir / "weights.npz").exists()
    assert main(["train", *SMALL, "--quiet", "--no-save", "--seed", "1"]) == 0
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_quiet_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", *SMALL, "--quiet", "--no-save"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("done:") and "val_acc" in lines[1]
    assert main(["train", *SMALL, "--json", "--out", str(tmp_path / "j")]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    events = [r["event"] for r in records if "event" in r]  # objects a reader tells apart
    assert all({"step", "kind", "message"} <= set(e) for e in events)
    records = [r for r in records if "event" not in r]
    assert [r["step"] for r in records[:-1]] == [40, 80, 120]
    summary = records[-1]["summary"]
    assert summary["done"] and summary["run_dir"] == str(tmp_path / "j")


def test_cli_resume_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = ["--eval-every", "30", "--batch-size", "40", "--quiet", "--checkpoint-every", "50"]
    assert main(["train", "--steps", "200", "--out", str(tmp_path / "whole"), *opts]) == 0
    assert main(["train", "--steps", "130", "--out", str(tmp_path / "part"), *opts]) == 0
    assert main(["train", "--resume", str(tmp_path / "part"), "--steps", "200", "--quiet"]) == 0
    assert_same_run(tmp_path / "whole", tmp_path / "part")
    # A finished run has nothing left to do, and says so without writing.
    before = (tmp_path / "part" / "weights.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "part")]) == 0
    assert "nothing to train" in capsys.readouterr().out
    assert (tmp_path / "part" / "weights.npz").read_bytes() == before


def test_ctrl_c_stops_saves_and_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = ["--steps", "150", "--eval-every", "20", "--batch-size", "40", "--quiet"]
    assert main(["train", *opts, "--out", str(tmp_path / "whole")]) == 0
    step = Trainer.step

    def step_then_interrupt(self: Trainer) -> Any:
        record = step(self)
        if self.steps_done == 77:
            os.kill(os.getpid(), signal.SIGINT)  # as a person pressing Ctrl-C
        return record

    monkeypatch.setattr(Trainer, "step", step_then_interrupt)
    assert main(["train", *opts, "--out", str(tmp_path / "cut")]) == 130
    out = capsys.readouterr().out
    assert "stopped at step 77 of 150" in out and "--resume" in out
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert summary["steps_done"] == 77 and summary["done"] is False
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert main(["train", "--resume", str(tmp_path / "cut"), "--quiet"]) == 0
    assert_same_run(tmp_path / "whole", tmp_path / "cut")


def test_resume_of_a_broken_run_overwrites_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "r"
    assert main(["train", *SMALL, "--quiet", "--out", str(run_dir)]) == 0
    weights_file = run_dir / "weights.npz"
    weights_file.write_bytes(weights_file.read_bytes()[:500])
    files = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    with pytest.raises(SystemExit) as info:
        main(["train", "--resume", str(run_dir), "--steps", "500"])
    assert info.value.code == 2
    assert "weights.npz" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == files


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--resume", "RUN", "--lr", "0.5"], "only --steps"),
        (["train", "--resume", "RUN", "--out", "x"], "only --steps"),
        (["train", "--resume", "RUN", "--steps", "5"], "done 120 steps"),
        (["--resume", "RUN"], "invalid choice"),
        (["train", "--out", "RUN"], "already holds a run"),
        (["train", "--out", "RUN", "--no-save"], "--no-save"),
    ],
)
def test_bad_run_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", *SMALL, "--quiet", "--out", str(run_dir)]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main([str(run_dir) if a == "RUN" else a for a in argv])
    assert info.value.code == 2 and message in capsys.readouterr().err


# ----------------------------------------------------------------------------- your data


def test_csv_dataset_trains_well(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "rings.csv"
    circles_csv(data)
    run_dir = tmp_path / "run"
    argv = ["train", "--data", str(data), "--steps", "600", "--eval-every", "100"]
    assert main([*argv, "--batch-size", "32", "--quiet", "--out", str(run_dir)]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["task"] == "classification"
    assert summary["eval"]["val_accuracy"] >= 0.95 and summary["eval"]["train_accuracy"] >= 0.95
    assert run_dir.name == "run" and "rings.csv" in (run_dir / "config.toml").read_text()


def test_target_column_and_regression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (200, 2))
    y = x[:, 0] * 0.5 - x[:, 1] + 0.3
    rows = ["target,a,b"] + [f"{t:.5f},{a:.5f},{b:.5f}" for t, (a, b) in zip(y, x, strict=True)]
    data = tmp_path / "reg.csv"
    data.write_text("\n".join(rows) + "\n")
    argv = ["train", "--data", str(data), "--target", "target", "--steps", "300"]
    assert main([*argv, "--hidden", "", "--lr", "0.05", "--json", "--no-save"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])["summary"]
    assert summary["val_loss"] < 0.01 and summary["val_acc"] is None  # NaN -> null


def test_npz_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 3))
    y = np.where(X[:, 0] + X[:, 2] > 0, "yes", "no")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    argv = ["train", "--data", str(tmp_path / "d.npz"), "--steps", "200", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["eval"]["val_accuracy"] > 0.9


BAD_CSV = {
    "ragged": ("a,b,label\n1,2,x\n3,4\n", "line 3: expected 3 cells, found 2"),
    "non-numeric": ("a,b,label\n1,2,x\n3,oops,y\n", "line 3: 'oops' in column 'b' is not a number"),
    "missing value": ("a,b,label\n1,2,x\n3,,y\n", "line 3: missing value"),
    "single class": ("a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "at least 2 classes"),
    "fewer rows than a batch": (
        "a,b,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)),
        "training.batch_size: must be at most the training set's 8 samples",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_files_get_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, message = BAD_CSV[case]
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "run")])
    assert info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # no run directory for a run that cannot start


# ----------------------------------------------------------------------------- real processes


def test_console_script_trains_from_a_toml_file_and_csv(tmp_path: Path) -> None:
    circles_csv(tmp_path / "rings.csv")
    (tmp_path / "exp.toml").write_text(
        '[data]\npath = "rings.csv"\n[training]\nsteps = 400\neval_every = 100\n'
    )
    done = run_cli("train", "--config", str(tmp_path / "exp.toml"), "--runs", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("event: ")]
    assert lines[0].startswith("run ") and lines[1].startswith("step 100 ")
    (run_dir,) = (tmp_path / "r").iterdir()
    assert run_dir.name.endswith("-rings-relu-he_normal")
    assert json.loads((run_dir / "summary.json").read_text())["eval"]["val_accuracy"] > 0.9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--lr", "fast"], "argument --lr: invalid float value"),
        (["train", "--lr", "-1"], "optimizer.lr"),
        (["train", "--activation", "swish2"], "model.activation: unknown name 'swish2'"),
        (["train", "--config", "missing.toml"], "missing.toml: no such config file"),
        (["train", "--config", "BROKEN"], "not valid TOML"),
        (["train", "--resume", "no-such-run"], "no-such-run: no such run directory"),
        (["train", "--checkpoint-every", "-1"], "expected a whole number >= 0"),
    ],
)
def test_bad_arguments_exit_2_without_a_traceback(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[model]\nactivation = relu\n")
    done = run_cli(*[str(broken) if a == "BROKEN" else a for a in argv], "--no-save")
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    if "BROKEN" in argv:
        assert "broken.toml" in done.stderr and "line 2" in done.stderr


def test_sigterm_saves_a_run_that_resumes_exactly(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    opts = ["--eval-every", "50", "--batch-size", "40", "--quiet"]
    proc = subprocess.Popen(
        [
            str(TUI_NN),
            "train",
            "--steps",
            "1000000",
            "--checkpoint-every",
            "100",
            *opts,
            "--out",
            str(run_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (run_dir / "weights.npz").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped at step" in out and "Traceback" not in err
    done = json.loads((run_dir / "summary.json").read_text())["steps_done"]
    assert done >= 100
    # Resume to a few steps past the stop; compare with one uninterrupted run to there.
    total = str(done + 30)
    assert main(["train", "--resume", str(run_dir), "--steps", total, "--quiet"]) == 0
    assert main(["train", "--steps", total, *opts, "--out", str(tmp_path / "whole")]) == 0
    assert_same_run(tmp_path / "whole", run_dir)
