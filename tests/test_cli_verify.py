"""`tui-nn verify RUN_DIR`: 0 when the retrained run equals the saved one bit for bit, 1
naming the first difference, 2 with a clear message when the run cannot be checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.store.atomic import atomic_write
from engine.store.runs import read_weights, write_npz
from tui_nn.cli import main

SMALL = ["--steps", "120", "--eval-every", "40", "--batch-size", "40", "--hidden", "8,8"]


@pytest.fixture
def run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    return out


def verify(run: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(["verify", str(run)])
    except SystemExit as exit:  # argparse's exit for bad input
        code = int(exit.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_untouched_run_verifies(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(run_dir, capsys)
    assert code == 0, out
    assert "equal: 120 steps retrained" in out and "bit for bit" in out
    assert "machine: the same as the run's" in out
    machines = json.loads((run_dir / "machine.json").read_text())["machines"]
    assert {"numpy", "blas", "blas_architecture", "cpu"} <= set(machines[0])


def test_a_changed_weight_fails_naming_the_array(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arrays = read_weights(run_dir / "weights.npz")
    arrays["theta"][20] += np.float32(1e-3)  # layers.0 has 16 + 8 entries: W then b
    atomic_write(run_dir / "weights.npz", lambda f: write_npz(f, arrays))
    code, out, _ = verify(run_dir, capsys)
    assert code == 1
    assert "DIFFERS" in out and "layers.0.b[4] (in theta[20])" in out


def test_a_run_trained_elsewhere_is_said_to_be(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "machine.json"
    recorded = json.loads(path.read_text())
    here = recorded["machines"][0]["blas_architecture"]
    other = "Zen" if here != "Zen" else "Haswell"  # a BLAS architecture not this machine's
    recorded["machines"][0]["blas_architecture"] = other
    path.write_text(json.dumps(recorded))
    code, out, _ = verify(run_dir, capsys)
    assert code == 0
    assert "this machine differs from the run's" in out
    assert f"blas_architecture: {other!r} there" in out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "no such run directory"),
        ("no weights", "no weights.npz yet"),
        ("corrupt", "weights.npz: not an .npz archive"),
        ("no steps", "steps_done: missing"),
    ],
)
def test_a_run_that_cannot_be_checked_exits_2(
    run_dir: Path, capsys: pytest.CaptureFixture[str], damage: str, message: str
) -> None:
    weights = run_dir / "weights.npz"
    target = run_dir
    if damage == "missing":
        target = run_dir / "nope"
    elif damage == "no weights":
        weights.unlink()
    elif damage == "corrupt":
        weights.write_bytes(b"garbage")
    else:
        arrays = read_weights(weights)
        del arrays["steps_done"]
        atomic_write(weights, lambda f: write_npz(f, arrays))
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    code, _, err = verify(target, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before  # nothing written
