"""Running a sweep: its groups handed to an executor, each finished member's run
directory and summary row kept as soon as its group comes back.

The worker that trains a member writes its run directory (engine.sweep.finish) with
engine.store.runs exactly as `tui-nn train` does, and computes its row from the same
Trainer, so neither depends on the executor. A stop (Ctrl-C) keeps every finished member;
the groups still running are dropped and run again by resume_sweep.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any

from engine.config import ExperimentConfig
from engine.data.datasets import Dataset
from engine.store.runs import load_run
from engine.sweep.executors import LocalPool, local_executor, run_group
from engine.sweep.files import RUNS, Sweep, load_sweep, new_sweep, run_finished
from engine.sweep.finish import Finished, put_files
from engine.sweep.grid import Grid, seeds_for
from engine.sweep.groups import plan_groups, step_seconds
from engine.sweep.members import Member, members
from engine.sweep.summary import SUMMARY_CSV, summary_row, write_summary
from engine.train.trainer import Trainer

# progress(done, total, row): members finished (of every member of the sweep), and the row
# of the one just finished (None for the call before the first).
Progress = Callable[[int, int, dict[str, Any] | None], None]


@dataclass
class SweepResult:
    sweep: Sweep  # every member, with the rows of the finished ones
    ran: int  # members finished by this call
    stopped: bool  # stopped before every member was finished


def preflight(found: Sequence[Member]) -> list[float]:
    """Build a Trainer for one member of each kind of build (data, layers, batch, loss,
    budget, optimizer rule): what a Trainer refuses (a data file, a batch larger than the
    data, the memory guard) is a ConfigError naming the field before anything runs.
    Returns each member's seconds a step, timed on its kind's Trainer when the kinds
    differ (else 1.0 each): the cost by which plan_groups hands out the longest first."""
    kinds = [_kind(member.config) for member in found]
    timed = len(set(kinds)) > 1
    seconds: dict[str, float] = {}
    datasets: dict[str, Dataset] = {}  # the same data section makes the same data set
    for member, kind in zip(found, kinds, strict=True):
        if kind not in seconds:
            data = json.dumps(member.config.to_dict()["data"], sort_keys=True)
            # No evaluation of the initial network: it refuses nothing, and it was most of
            # the time a sweep waited here before its first member started.
            config = member.config.with_changes(training={"eval_every": 0})
            trainer = Trainer(config, datasets.get(data))
            datasets[data] = trainer.dataset
            seconds[kind] = step_seconds(trainer) if timed else 1.0
    return [seconds[kind] for kind in kinds]


def _kind(config: ExperimentConfig) -> str:
    raw = config.to_dict()
    model = {k: v for k, v in raw["model"].items() if not k.startswith(("init", "bias"))}
    training = {k: v for k, v in raw["training"].items() if k != "seed"}
    return json.dumps([raw["data"], model, training, raw["optimizer"]["name"]], sort_keys=True)


def run_sweep(
    base: ExperimentConfig,
    grid: Grid,
    seeds: int,
    out: str | os.PathLike[str],
    executor: Executor | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    slots: int | None = None,
) -> SweepResult:
    """Train every member of the grid over `seeds` seeds into the new sweep directory `out`.

    `executor`: where the groups run (default: local_executor(), a process pool over every
    core); `slots`: groups handed out at once (default: the pool's workers, or every group
    for another executor). Everything is checked before the directory is made."""
    found = members(base, grid, seeds)
    costs = preflight(found)
    sweep = new_sweep(out, base, grid, seeds_for(grid, base.training.seed, seeds), found)
    return _run(sweep, costs, executor, progress, stop, slots)


def resume_sweep(
    path: str | os.PathLike[str],
    executor: Executor | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    slots: int | None = None,
) -> SweepResult:
    """Train the members of the sweep at `path` that are not finished (a finished member's
    run directory is its record; summary.csv is rewritten from them)."""
    sweep = load_sweep(path)
    for swept in sweep.members:
        if not run_finished(swept.run_dir):
            swept.row = None
        elif swept.row is None:  # finished, but stopped before its row was written
            run = load_run(swept.run_dir)
            if run.trainer is not None:
                rate = float(run.summary.get("steps_per_s") or 0.0)
                swept.row = summary_row(swept.member, run.trainer, rate)
    write_summary(sweep.path / SUMMARY_CSV, sweep.keys, sweep.rows)
    costs = preflight([m.member for m in sweep.missing])
    return _run(sweep, costs, executor, progress, stop, slots)


def _run(
    sweep: Sweep,
    costs: Sequence[float],  # of each missing member (preflight)
    executor: Executor | None,
    progress: Progress | None,
    stop: threading.Event | None,
    slots: int | None,
) -> SweepResult:
    todo = sweep.missing
    total = len(sweep.members)
    stop = stop or threading.Event()
    own = executor is None
    pool = local_executor() if executor is None else executor
    if slots is None:
        slots = pool.workers if isinstance(pool, LocalPool) else max(1, len(todo))
    queue = deque(plan_groups([m.member.config for m in todo], slots, costs))
    # A pool on this machine writes the run directories itself; a cluster hands them back.
    here = isinstance(pool, (ProcessPoolExecutor, ThreadPoolExecutor))
    runs = str(sweep.path / RUNS) if here else None
    # A thread pool shares memory: its groups read the stop event itself.
    shared = stop if isinstance(pool, ThreadPoolExecutor) else None
    running: set[Future[list[Finished]]] = set()
    done, ran = total - len(todo), 0
    if progress:
        progress(done, total, None)
    try:
        while running or (queue and not stop.is_set()):
            while queue and len(running) < slots and not stop.is_set():
                group = [todo[i].member for i in queue.popleft()]
                running.add(pool.submit(run_group, group, runs, shared))
            finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            if stop.is_set():
                _halt(pool, running)
            for future in finished:
                running.remove(future)
                # Stopping, a cancelled group or one whose worker was stopped while it
                # started (Ctrl-C reaches a starting worker before it can ignore it) is
                # dropped: it is run again on resume.
                if future.cancelled() or (stop.is_set() and future.exception() is not None):
                    continue
                for member in future.result():
                    _record(sweep, member)
                    done, ran = done + 1, ran + 1
                    if progress:
                        progress(done, total, member.row)
    except BaseException:  # a second Ctrl-C, an error: let no worker train on for nothing
        _halt(pool, running)
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return SweepResult(sweep, ran, done < total)


def _halt(pool: Executor, running: set[Future[list[Finished]]]) -> None:
    """Ask the running groups to stop: a local pool's workers stop after their current
    step; a remote future that cannot be told is cancelled."""
    if isinstance(pool, LocalPool):
        pool.stop_workers()
    for future in running:
        future.cancel()


def _record(sweep: Sweep, member: Finished) -> None:
    """A finished member's files (when a remote worker handed them back), then its row."""
    swept = sweep.members[member.index]
    if member.files is not None:
        put_files(swept.run_dir, member.files)
    swept.row = member.row
    write_summary(sweep.path / SUMMARY_CSV, sweep.keys, sweep.rows)
