"""`tui-nn verify RUN_DIR`: retrain a run from its config.toml and seeds to the steps it
saved, and say whether the result equals its weights.npz bit for bit (and where it first
differs if not), so a teacher can check a student's hand-in.

Exit codes: 0 equal, 1 differs, 2 the run cannot be checked (a message says why).

    from tui_nn.cli.verify import add_parser
    add_parser(commands)   # commands = parser.add_subparsers(...)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from engine.store.runs import CONFIG, WEIGHTS, RunError, read_machines, read_weights
from engine.store.toml import load_config
from engine.train.verify import (
    Verification,
    VerifyError,
    machine_differences,
    machine_info,
    verify,
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `verify` on an argparse subparsers object."""
    parser = commands.add_parser(
        "verify",
        help="retrain a run from its config and seeds and compare it bit for bit",
        description="Retrain the run in RUN_DIR from its config.toml (training.seed draws "
        "the weights and batches, data.seed the data; learning-rate changes made while it "
        "ran are replayed from its timeline) to the steps it saved, and compare every "
        "array of weights.npz bit for bit. Exit 0: equal; 1: differs (the first "
        "difference is named: array, index, both values); 2: the run cannot be checked. "
        "Results can differ across NumPy versions, BLAS builds and CPU kinds: the run's "
        "machine.json is compared with this machine.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (tui-nn train)")
    parser.set_defaults(run=run_verify)
    return parser


def run_verify(args: argparse.Namespace, config: object, out: TextIO | None = None) -> int:
    """Verify args.run_dir; `config` (the global experiment options) is unused: the run's
    own config.toml is what is checked. RunError (exit 2) for a run that cannot be."""
    out = out or sys.stdout  # read at the call: a test's captured stdout
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run directory")
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"{run_dir}: not a run directory (no {CONFIG})")
    if not (run_dir / WEIGHTS).is_file():
        raise RunError(f"{run_dir}: no {WEIGHTS} yet, nothing to verify")
    run_config = load_config(run_dir / CONFIG)
    saved = read_weights(run_dir / WEIGHTS)
    seeds = f"training.seed {run_config.training.seed}, data.seed {run_config.data.seed}"
    out.write(f"verify {run_dir}: retraining from {CONFIG} ({seeds})\n")
    out.flush()
    began = time.perf_counter()
    try:
        result = verify(run_config, saved)
    except VerifyError as error:
        raise RunError(f"{run_dir / WEIGHTS}: {error}") from None
    seconds = time.perf_counter() - began
    for event in result.replayed:
        out.write(f"  replayed: {event.message}\n")
    _verdict(out, result, seconds)
    _machine(out, run_dir)
    return 0 if result.equal else 1


def _verdict(out: TextIO, result: Verification, seconds: float) -> None:
    ran = f"{result.steps} steps retrained in {seconds:.1f} s"
    if result.difference is None:
        out.write(
            f"equal: {ran}; all {len(result.compared)} arrays of {WEIGHTS} are the "
            "same bit for bit (the weights, the optimizer state, the batches, the "
            "history, the evaluations)\n"
        )
    elif result.state_equal:
        out.write(
            f"DIFFERS in the records only: {ran}; the weights and the training state are "
            f"equal bit for bit, but the run's records differ first at {result.difference} "
            "(the training never reads them: another version of tui-nn records them "
            "otherwise, or the file was edited)\n"
        )
    else:
        out.write(f"DIFFERS: {ran}; first difference at {result.difference}\n")
    if result.skipped:
        out.write(f"  not in the saved run (an older format): {', '.join(result.skipped)}\n")


def _machine(out: TextIO, run_dir: Path) -> None:
    recorded = read_machines(run_dir)
    here = machine_info()
    this = (
        f"numpy {here['numpy']}, {here['blas']} {here['blas_version']} "
        f"{here['blas_architecture']} ({here['blas_threads']} threads), {here['cpu']}"
    ).replace("  ", " ")
    if not recorded:
        out.write(f"machine: the run did not record its machine; this one: {this}\n")
        return
    differences = [machine_differences(m, here) for m in recorded]
    if any(not d for d in differences):
        out.write(f"machine: the same as the run's ({this})\n")
        return
    out.write(
        "machine: this machine differs from the run's (results can differ across NumPy "
        "versions, BLAS builds and CPU kinds):\n"
    )
    for line in differences[-1]:
        out.write(f"  {line}\n")
