"""A finished member: its run directory, written as `tui-nn train` writes one, and its row.

The worker that trained a member writes its run directory: straight into the sweep's
runs/ when it shares the machine's disk (a process or thread pool), else into a temporary
directory whose files it hands back for the sweep to write (a Dask cluster). Either way
the files and the row come from the same Trainer by the same code.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.store.atomic import atomic_write
from engine.store.runs import CONFIG, SUMMARY, eval_dict, prepare_run_dir, save_run
from engine.sweep.members import Member
from engine.sweep.summary import final_eval, summary_row
from engine.train.trainer import Trainer


@dataclass
class Finished:
    index: int  # the member's
    row: dict[str, Any]
    files: dict[str, bytes] | None  # the run directory's files, when it was written elsewhere


def write_run(trainer: Trainer, run_dir: Path, seconds: float) -> float:
    """The run directory of a trained member, as `tui-nn train` ends a run: config.toml,
    then a final save with the run's speed and last evaluation. Returns the speed."""
    rate = round(trainer.steps_done / max(seconds, 1e-9), 1)
    last = final_eval(trainer)
    extra: dict[str, Any] = {"seconds": seconds, "steps_per_s": rate}
    if last is not None:
        extra["eval"] = eval_dict(last)
    if not (run_dir / CONFIG).exists():  # else a save cut short: save_run writes it all again
        prepare_run_dir(run_dir, trainer.config)
    save_run(trainer, run_dir, final=True, extra=extra)
    return rate


def finish(member: Member, trainer: Trainer, seconds: float, runs: Path | None) -> Finished:
    """Write the member's run directory into `runs` (None: a temporary one, handed back)."""
    if runs is not None:
        rate = write_run(trainer, runs / member.name, seconds)
        return Finished(member.index, summary_row(member, trainer, rate), None)
    with tempfile.TemporaryDirectory(prefix="tui-nn-member-") as tmp:
        rate = write_run(trainer, Path(tmp), seconds)
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}
    return Finished(member.index, summary_row(member, trainer, rate), files)


def put_files(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write a run directory handed back by a remote worker; summary.json, which marks the
    member finished, goes last."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda n: n == SUMMARY):
        atomic_write(run_dir / name, functools.partial(_write, files[name]))


def _write(data: bytes, f: IO[bytes]) -> None:
    f.write(data)
