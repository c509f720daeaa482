"""Run directories: a trained (or training) experiment on disk, and back.

    runs/20250101-120000-spiral-relu-he_normal/
        config.toml     the experiment (engine.store.toml)
        weights.npz     Trainer.checkpoint(): parameters, optimizer state, sampler, history
        metrics.csv     step records at the history's resolution: step,<history columns>
        evals.csv       the evaluation records
        metrics.jsonl   both, one JSON object a line, {"kind": "step" | "eval", ...}
        events.jsonl    the timeline (engine.train.events), one event a line, step order
        summary.json    where the run stands: steps, last evaluation, done or diverged
        machine.json    the machines it was trained on: numpy, BLAS, CPU (tui-nn verify)

weights.npz is the source of truth for resuming; the metric files are exports, written by a
final save (the end of a run, or a stop), not by the checkpoints between. Every file is written
atomically (engine.store.atomic), and weights.npz is read with allow_pickle=False: a broken or
hostile file is a RunError naming it, never a crash or code. Loading only reads: a file that is
refused is left exactly as it was, and nothing in the directory is written until its
checkpoint has been accepted.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from engine.config import ConfigError, ExperimentConfig
from engine.store.atomic import atomic_write, atomic_write_text
from engine.store.toml import load_config, save_config
from engine.train.history import History
from engine.train.trainer import EVAL_COLUMNS, CheckpointError, EvalRecord, Trainer
from engine.train.verify import machine_info

CONFIG = "config.toml"
WEIGHTS = "weights.npz"
METRICS_CSV = "metrics.csv"
EVALS_CSV = "evals.csv"
METRICS_JSONL = "metrics.jsonl"
SUMMARY = "summary.json"
EVENTS_JSONL = "events.jsonl"
MACHINE = "machine.json"

# np.savez stores arrays uncompressed, so a weights file unpacks to about its own size;
# a member that claims far more is a zip bomb or garbage, refused before numpy reads it.
_UNPACK_FACTOR = 4
_UNPACK_SLACK = 1 << 20


class RunError(ValueError):
    """A run directory or one of its files is missing, broken or hostile.

    The message names the file and what is wrong; nothing has been written."""


@dataclass
class LoadedRun:
    path: Path
    config: ExperimentConfig
    trainer: Trainer | None  # None while the run has no weights.npz yet
    history: History | None
    evals: list[EvalRecord] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- creating


def run_name(config: ExperimentConfig) -> str:
    """dataset-activation-init, with anything unusual in a file name replaced by '_'."""
    data = Path(config.data.path).stem if config.data.path else config.data.name
    name = f"{data}-{config.model.activation}-{config.model.init}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def create_run_dir(root: str | os.PathLike[str], config: ExperimentConfig) -> Path:
    """A new directory root/<time>-<name>/ holding config.toml; never reuses one."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{run_name(config)}"
    for attempt in range(1, 1000):
        path = root / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            path.mkdir()  # exist_ok=False: two runs started in the same second get -2, -3
        except FileExistsError:
            continue
        save_config(config, path / CONFIG)
        return path
    raise RunError(f"{root}: cannot find a free run directory name for {stem}")


def prepare_run_dir(path: str | os.PathLike[str], config: ExperimentConfig) -> Path:
    """Use exactly `path` (created if needed) for a new run; refuse one that holds a run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunError(f"{path}: exists and is not a directory")
    if (path / WEIGHTS).exists() or (path / CONFIG).exists():
        raise RunError(f"{path}: already holds a run; resume it or choose another directory")
    path.mkdir(parents=True, exist_ok=True)
    save_config(config, path / CONFIG)
    return path


# ----------------------------------------------------------------------------- saving


def save_run(
    trainer: Trainer,
    run_dir: str | os.PathLike[str],
    final: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """Save the trainer into run_dir (which must exist); the trainer must not be stepping.

    final=False is a quick checkpoint during training: weights.npz, config.toml and
    summary.json. final=True (the end of a run, or a stop) also writes the metric and event
    exports and adds this machine to machine.json; the metrics take longer (a long run's
    history holds some 10^4 rows). `extra` adds fields to the summary. weights.npz goes
    first: if the process dies after it, only the rest lags behind."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run directory")
    checkpoint = trainer.checkpoint()
    atomic_write(run_dir / WEIGHTS, lambda f: write_npz(f, checkpoint))
    save_config(trainer.config, run_dir / CONFIG)  # --steps may have grown on a resume
    if final:
        write_metrics(trainer.history, trainer.evals, run_dir)
        events = "".join(json.dumps(json_safe(e.to_dict())) + "\n" for e in trainer.events)
        atomic_write_text(run_dir / EVENTS_JSONL, events)
        record_machine(run_dir)
    summary = summarize(trainer, final) | (extra or {})
    atomic_write_text(run_dir / SUMMARY, json.dumps(json_safe(summary), indent=2) + "\n")


def record_machine(run_dir: Path) -> None:
    """Add this machine to machine.json's list unless it is there (a run resumed elsewhere
    was trained on both). An unreadable file is started over: it only describes."""
    here = machine_info()
    machines = read_machines(run_dir)
    if here not in machines:
        text = json.dumps({"machines": [*machines, here]}, indent=2) + "\n"
        atomic_write_text(run_dir / MACHINE, text)


def read_machines(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The machines machine.json records, oldest first; [] when it is missing or broken."""
    try:
        raw = json.loads((Path(run_dir) / MACHINE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    machines = raw.get("machines") if isinstance(raw, dict) else None
    if not isinstance(machines, list):
        return []
    return [m for m in machines if isinstance(m, dict)]


def write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """np.savez, refusing object arrays: they would be pickled, and never load back safely."""
    for key, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"{key}: object arrays are not saved")
    # numpy's stub lets a ** mapping collide with its allow_pickle keyword (a bool); the
    # keys here never do, which Any tells the type checker.
    named: dict[str, Any] = dict(arrays)
    np.savez(f, **named)


def summarize(trainer: Trainer, final: bool) -> dict[str, Any]:
    last = trainer.evals[-1] if trainer.evals else None
    latest = trainer.history.last() or {}
    summary: dict[str, Any] = {
        "name": run_name(trainer.config),
        "final": final,
        "steps_done": trainer.steps_done,
        "steps": trainer.config.training.steps,
        "done": trainer.steps_done >= trainer.config.training.steps,
        "diverged": str(trainer.diverged) if trainer.diverged else None,
        "epoch": trainer.epoch,
        "loss": latest.get("loss"),
        "task": trainer.dataset.task,
        "parameters": trainer.network.n_parameters,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if last is not None:
        summary["eval"] = eval_dict(last)
    return summary


def eval_dict(ev: EvalRecord) -> dict[str, Any]:
    values = dict(zip(EVAL_COLUMNS, (ev.step, *_eval_values(ev)), strict=True))
    return values | {"dead": list(ev.dead)}


def write_metrics(
    history: History, evals: list[EvalRecord], run_dir: str | os.PathLike[str]
) -> None:
    """metrics.csv, evals.csv and metrics.jsonl; floats are written exactly (repr)."""
    run_dir = Path(run_dir)
    steps = list(history.rows())
    n_dead = len(evals[0].dead) if evals else 0
    eval_columns = (*EVAL_COLUMNS, *(f"dead.{i}" for i in range(n_dead)))
    eval_rows = [(ev.step, *_eval_values(ev), *ev.dead) for ev in evals]

    def csv_writer(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Any:
        def write(f: IO[bytes]) -> None:
            f.write((",".join(header) + "\n").encode())
            for row in rows:
                f.write((",".join(map(_csv_number, row)) + "\n").encode())

        return write

    atomic_write(
        run_dir / METRICS_CSV,
        csv_writer(("step", *history.columns), ((s, *row.tolist()) for s, row in steps)),
    )
    atomic_write(run_dir / EVALS_CSV, csv_writer(eval_columns, eval_rows))

    def write_jsonl(f: IO[bytes]) -> None:
        for step, row in steps:
            record = {
                "kind": "step",
                "step": _whole(step),
                **dict(zip(history.columns, row.tolist(), strict=True)),
            }
            # json_safe walks every value: only a row with a NaN or inf needs it.
            finite = np.isfinite(row).all()
            f.write((json.dumps(record if finite else json_safe(record)) + "\n").encode())
        for values in eval_rows:
            record = {
                "kind": "eval",
                **dict(zip(EVAL_COLUMNS, values[: len(EVAL_COLUMNS)], strict=True)),
            }
            record["dead"] = list(values[len(EVAL_COLUMNS) :])
            f.write((json.dumps(json_safe(record)) + "\n").encode())

    atomic_write(run_dir / METRICS_JSONL, write_jsonl)


def _eval_values(ev: EvalRecord) -> tuple[float, float, float, float]:
    return ev.train_loss, ev.train_accuracy, ev.val_loss, ev.val_accuracy


def _whole(value: Any) -> Any:
    """Step 12.0 (a bucket of one row) reads better as 12; the value is the same."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _csv_number(value: Any) -> str:
    return repr(_whole(value))


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity (regression accuracy is NaN): write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


# ----------------------------------------------------------------------------- loading


def read_weights(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of a weights.npz, read without pickles; RunError naming the file else."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
        size = path.stat().st_size
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    except OSError as error:
        raise RunError(f"{path}: cannot read ({error.strerror})") from None
    # Check the magic first: numpy's message for a pickle suggests loading it unsafely.
    if magic != b"PK\x03\x04":
        what = "an empty file" if size == 0 else "not an .npz archive"
        raise RunError(f"{path}: {what} (a truncated, corrupt or foreign file)")
    try:
        with zipfile.ZipFile(path) as archive:
            claimed = sum(info.file_size for info in archive.infolist())
        if claimed > _UNPACK_FACTOR * size + _UNPACK_SLACK:
            raise RunError(f"{path}: claims {claimed} bytes unpacked from {size}; refused")
        arrays: dict[str, np.ndarray] = {}
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                value = npz[key]
                if not isinstance(value, np.ndarray):  # numpy returns other members as bytes
                    raise RunError(f"{path}: member {key!r} is not a .npy array")
                arrays[key] = value
    except RunError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise RunError(f"{path}: holds an object (pickled) array; refused") from None
        raise RunError(f"{path}: corrupt ({error})") from None
    except Exception as error:  # zipfile, zlib and numpy raise many kinds on a bad file
        raise RunError(f"{path}: corrupt or truncated ({type(error).__name__}: {error})") from None
    return arrays


def load_run(run_dir: str | os.PathLike[str], steps: int | None = None) -> LoadedRun:
    """Open a run directory: config, and from weights.npz a trainer restored to where the
    run stopped (with its history and evaluations). `steps` raises training.steps, to train
    on. Reads only; a broken file is a RunError or ConfigError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run directory")
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"{run_dir}: not a run directory (no {CONFIG})")
    config = load_config(run_dir / CONFIG)
    summary = _read_summary(run_dir / SUMMARY)
    weights = run_dir / WEIGHTS
    if not weights.exists():
        return LoadedRun(run_dir, config, None, None, [], summary)
    arrays = read_weights(weights)
    if steps is not None:
        done = _steps_done(arrays, weights)
        if steps < done:
            raise ConfigError(
                "training.steps",
                f"the run has done {done} steps, got {steps}: resume with at least {done} "
                "(the run is kept as it is)",
            )
        config = config.with_changes(training={"steps": steps})
    trainer = Trainer(config)  # data errors are ConfigErrors naming the data file
    try:
        trainer.restore(arrays)
    except CheckpointError as error:
        raise RunError(f"{weights}: {error}") from None
    # trainer.config, not config: restoring an older checkpoint can bring its live rate.
    return LoadedRun(run_dir, trainer.config, trainer, trainer.history, trainer.evals, summary)


def resume_trainer(run_dir: str | os.PathLike[str], steps: int | None = None) -> Trainer:
    """The run's trainer, ready to step on to training.steps (or `steps`, if larger)."""
    run = load_run(run_dir, steps)
    if run.trainer is None:
        raise RunError(f"{run.path}: no {WEIGHTS} yet, nothing to resume")
    return run.trainer


def _steps_done(arrays: dict[str, np.ndarray], path: Path) -> int:
    value = arrays.get("steps_done")
    if value is None or value.shape != () or value.dtype.kind != "i":
        raise RunError(f"{path}: steps_done: missing or not a whole number")
    return int(value)


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path}: not readable JSON ({error})") from None
    if not isinstance(summary, dict):
        raise RunError(f"{path}: expected a JSON object")
    return summary
