"""Where a sweep's groups run: any concurrent.futures.Executor.

`local_executor(workers)`: a process pool, one BLAS thread a worker (the workers are the
parallelism; BLAS threads on top would fight over the cores), stopped through an event the
workers share; its workers start at once, forked where that is safe (start_method).
`dask_executor(address)`: a Dask cluster through distributed's Client.get_executor(),
every submission impure (a group is run, never taken from a cache).
A ThreadPoolExecutor works too (the stop event is then shared as it is).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from engine.config import ConfigError
from engine.sweep.finish import Finished, finish
from engine.sweep.groups import finished, train_group
from engine.sweep.members import Member

# The thread-count variables of the BLAS builds numpy may use, set in each worker for any
# library loaded after it starts (threadpoolctl limits the one already loaded).
BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DASK_EXTRA = 'pip install "tui-nn[dask]"'


class SharedFlag(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class _Relay(threading.Event):
    """A threading.Event that reads a flag other processes set (the pool's stop event)."""

    def __init__(self, flag: SharedFlag) -> None:
        super().__init__()
        self._flag = flag

    def is_set(self) -> bool:
        return self._flag.is_set()


_worker_stop: threading.Event | None = None  # in a pool worker: the pool's stop event


def _init_worker(flag: SharedFlag) -> None:
    global _worker_stop
    _worker_stop = _Relay(flag)
    # Ctrl-C reaches the whole process group: the parent decides, and tells the workers
    # through the flag, so a worker never dies with a half-trained group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's handlers: SIGTERM (the pool ending a worker)
    # must end it, not set a copy of the parent's stop event.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for name in BLAS_THREADS:
        os.environ[name] = "1"
    try:  # imported by name: threadpoolctl is optional and has no type hints
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:  # then the variables above are all there is
        return
    threadpoolctl.threadpool_limits(1)


def run_group(
    group: Sequence[Member], runs: str | None, stop: threading.Event | None = None
) -> list[Finished]:
    """What a worker runs: train the group (stopped by `stop` or, in a pool worker, the
    pool's own stop event) and finish each member that is done or diverged: its run
    directory in `runs` (None: handed back as files) and its summary row."""
    trained = train_group([m.config for m in group], stop if stop is not None else _worker_stop)
    where = Path(runs) if runs is not None else None
    return [
        finish(member, trainer, seconds, where)
        for member, (trainer, seconds) in zip(group, trained, strict=True)
        if finished(trainer)
    ]


def _ready() -> None:
    """A worker's first task: none, it only makes the pool start the worker."""


def start_method() -> str:
    """'fork' where it is safe, a Linux parent running no other thread (the CLI before
    its progress bar): the worker starts with the engine already imported, a quarter of a
    second sooner than a spawned one. Else 'spawn': a threaded parent (the lab, a test
    runner) may be forked while another thread holds a lock, and on macOS system libraries
    can crash in a forked child."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


class LocalPool(ProcessPoolExecutor):
    """A process pool whose workers share a stop event (`stop_workers()`), started at
    once: they start while the caller checks the members and writes the sweep directory."""

    def __init__(self, workers: int) -> None:
        self.start_method = start_method()
        context = multiprocessing.get_context(self.start_method)
        self._flag = context.Event()
        self.workers = workers
        super().__init__(workers, context, initializer=_init_worker, initargs=(self._flag,))
        for _ in range(workers):  # a task a worker: the pool starts a worker for each
            self.submit(_ready)

    def stop_workers(self) -> None:
        """Every running group stops after its current step (and is not kept)."""
        self._flag.set()


def local_executor(workers: int | None = None) -> LocalPool:
    """A process pool of `workers` (default: every core), one BLAS thread each."""
    count = (os.cpu_count() or 1) if workers is None else workers
    if count < 1:
        raise ConfigError("--workers", f"must be at least 1, got {count}")
    return LocalPool(count)


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """(an executor on the Dask scheduler at `address`, the threads of its workers); the
    client is closed at the end. ConfigError naming --scheduler when distributed is not
    installed or the scheduler cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "--scheduler", f"a Dask cluster needs distributed: {DASK_EXTRA}"
        ) from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ConfigError("--scheduler", f"cannot reach {address}: {error}") from None
    try:
        threads: dict[Any, int] = client.nthreads()
        yield client.get_executor(pure=False), max(1, sum(threads.values()))
    finally:
        client.close()
