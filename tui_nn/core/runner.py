"""The training runner: owns the trainer and the thread that steps it.

The worker thread calls `trainer.step()` in a loop and only touches plain fields
under a lock; the UI polls `Runner.snapshot()` at a fixed rate (default 5 Hz).
There is no message and no `call_from_thread` per step: both cost about half the
training speed, and the UI only needs a handful of frames a second anyway.

A thread shares the GIL with the UI. Measured with /proc/<pid>/task/<tid>/schedstat
(lab app at 120x40, training at full speed): the worker waits on the GIL or the
lock 2-5% of the wall time and the UI thread runs about 5%; anything more that a
benchmark shows is the machine's other load (time on the run queue).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import numpy as np

from engine import (
    LAYER_STATS,
    ConfigError,
    Diverged,
    EvalRecord,
    ExperimentConfig,
    StepRecord,
    Trainer,
)
from engine.config import LIVE_FIELDS
from engine.lecture.advisor import Advice, advise
from engine.lecture.scenarios import NOT_YET, Scenario, Verdict, judge
from engine.store.runs import create_run_dir, save_run
from engine.train.trainer import CheckpointError

if TYPE_CHECKING:
    from pathlib import Path

State = Literal["idle", "running", "paused", "diverged", "done"]
T = TypeVar("T")

BOUNDARY_INTERVAL = 0.5  # seconds: the decision boundary is recomputed at most twice a second
BOUNDARY_SIZE = (64, 48)  # grid width, height; the widget samples it to its own size
RATE_WINDOW = 0.5  # seconds over which steps per second is measured
# The scenario's judge and the advisor read the run at most twice a second, between
# steps on the worker thread (and after a step taken with n), never once per step.
OBSERVE_INTERVAL = 0.5

# How each field the schema marks live (engine.config.LIVE_FIELDS) reaches the running
# trainer; a change to any other field starts a new run.
APPLY_LIVE: dict[str, Callable[[Trainer, ExperimentConfig], None]] = {
    "optimizer.lr": lambda trainer, config: trainer.set_learning_rate(config.optimizer.lr),
}
# A new step budget alone keeps the run (its weights, history and evaluations): "done"
# says to raise it, and a new run from step 0 would throw the trained network away.
STEPS_FIELD = "training.steps"


@dataclass(frozen=True)
class Boundary:
    """The network's prediction on a grid over the 2-D input plane, plus the points."""

    xs: np.ndarray  # (width,) x coordinates of the grid columns
    ys: np.ndarray  # (height,) y coordinates of the grid rows
    probs: np.ndarray  # (height, width, C) class probabilities (C=1 for a single output)
    points: np.ndarray  # (n, 2) training inputs
    labels: np.ndarray  # (n,) training labels (class ids, or targets when regressing)
    step: int  # the step the grid was computed at


@dataclass(frozen=True)
class Snapshot:
    """What the UI sees of a run at one moment; never mutated after it is built."""

    version: int  # bumps on every change; an equal version means nothing to redraw
    run_id: int  # bumps on reset and on a new run: widgets drop what they drew
    state: State
    step: int
    epoch: float  # passes over the training set
    steps_per_sec: float  # 0.0 unless running
    last: StepRecord | None  # None before the first step
    last_eval: EvalRecord | None  # the latest evaluation (step 0's before any step), or None
    evals: tuple[EvalRecord, ...]  # the trainer's: step 0, then every eval_every steps
    n_layers: int  # hidden layers + the output layer
    layer_stats: tuple[str, ...]  # history columns are f"layers.{i}.{stat}"
    task: str  # the dataset's task, e.g. "classification" or "regression"
    loss_name: str  # the loss the config's "auto" resolved to
    activation: str
    error: str | None  # the last worker error or divergence text
    config: ExperimentConfig
    boundary: Boundary | None  # None unless the data is 2-D
    scenario: Scenario | None = None  # the lecture scenario this run belongs to
    counterexample: bool = False  # the run is the scenario's counter-example
    verdict: Verdict | None = None  # the scenario's judge on this run, at most 0.5 s old
    advice: tuple[Advice, ...] = ()  # engine.lecture.advisor.advise, warnings first
    # names, max_points -> one history.series per name, all read under one lock
    _reader: Callable[[tuple[str, ...], int], list[Any]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def has_history(self) -> bool:
        return self._reader is not None

    def series(self, name: str, max_points: int) -> Any:
        """`history.series(name, max_points)` of this snapshot's run, read under the lock."""
        return self.series_many((name,), max_points)[0]

    def series_many(self, names: tuple[str, ...], max_points: int) -> list[Any]:
        """Several series in one lock round trip (a per-layer plot reads 2 per layer)."""
        if self._reader is None:
            raise RuntimeError("this snapshot has no history")
        return self._reader(tuple(names), max_points)


class RunReader(Protocol):
    """What a view may read of the run (the Runner is one): the live config, snapshots,
    and a quick read of the trainer between two steps. Commands go to the app as
    messages (tui_nn.messages), never through this."""

    @property
    def config(self) -> ExperimentConfig: ...

    def snapshot(self) -> Snapshot: ...

    def read(self, fn: Callable[[Trainer], T]) -> T: ...


class _Handoff:
    """A lock the worker takes per step and any other thread takes between steps,
    without starving.

    CPython's lock is not fair: a thread that releases it and loops straight back
    usually wins it again, so a UI waiting on a busy worker could wait for many
    steps. A waiting thread counts itself in first; the worker, seeing the count
    after a step, waits until every one is done. Each waits at most one step.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # The UI thread, save()'s thread and the view workers all come through ui(): the
        # count and the event change together under this lock. The worker only reads
        # the count, with no lock, once a step.
        self._count_lock = threading.Lock()
        self._ui_waiting = 0
        self._ui_done = threading.Event()
        self._ui_done.set()

    @contextmanager
    def ui(self) -> Iterator[None]:
        with self._count_lock:
            self._ui_waiting += 1
            self._ui_done.clear()
        try:
            with self.lock:
                yield
        finally:
            with self._count_lock:
                self._ui_waiting -= 1
                if not self._ui_waiting:
                    self._ui_done.set()

    def yield_to_ui(self) -> None:
        """Called by the worker between steps, without the lock."""
        if self._ui_waiting:
            self._ui_done.wait(0.1)


class Runner:
    """Start, pause, step, reset, reconfigure and stop one training run at a time.

    Public methods are called from the UI thread (save() from any thread); only `_loop`
    runs on the worker thread. The handoff lock guards the trainer and every field a
    snapshot reads. The config is the trainer's own (`trainer.config`): no second copy.
    """

    def __init__(self, config: ExperimentConfig | None = None) -> None:
        self._handoff = _Handoff()
        self._wake = threading.Condition(self._handoff.lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._version = 0
        self._run_id = 0
        self._state: State = "idle"
        self._error: str | None = None
        self._rate = 0.0
        self._cached: Snapshot | None = None
        self._scenario: Scenario | None = None
        self._counterexample = False
        self._evals_of: list[EvalRecord] | None = None  # the trainer.evals list _evals copies
        self._evals: tuple[EvalRecord, ...] = ()
        self._last: StepRecord | None = None
        self._boundary: Boundary | None = None
        self._boundary_at = 0.0
        self._boundary_step = -1
        self._verdict: Verdict | None = None
        self._advice: tuple[Advice, ...] = ()
        self._observed_step = -1
        self._observed_at = 0.0
        self._trainer: Trainer = _build(config if config is not None else ExperimentConfig())
        with self._handoff.ui():
            self._begin_run_locked()

    # ---------------------------------------------------------------- controls

    @property
    def config(self) -> ExperimentConfig:
        """The run's config: the trainer's own, a live rate change included."""
        return self._trainer.config

    @property
    def state(self) -> State:
        return self._state

    @property
    def scenario(self) -> Scenario | None:
        return self._scenario

    @property
    def alive(self) -> bool:
        """Whether the worker thread exists (it is started on the first start)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run the loop on the worker thread, which is started on first use."""
        with self._handoff.ui():
            if self._state not in ("idle", "paused"):
                return
            self._state = "running"
            self._error = None
            self._version += 1
            self._wake.notify_all()
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._loop, name="tui-nn-runner", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        with self._handoff.ui():
            if self._state == "running":
                self._state = "paused"
                self._version += 1

    def toggle(self) -> None:
        """Start when idle or paused, pause when running."""
        if self._state == "running":
            self.pause()
        else:
            self.start()

    def step(self, n: int = 1) -> None:
        """Take n steps on the caller's thread (deterministic); pauses a running run first."""
        self.pause()
        with self._handoff.ui():
            if self._state in ("diverged", "done"):
                return
            for _ in range(n):
                if not self._step_locked():
                    break
            if self._state == "idle":
                self._state = "paused"
            self._update_boundary(force=True)
            self._observe_locked()
            self._version += 1

    def reset(self) -> None:
        """Restart the current config: the same seed, so the same initial weights."""
        self._new_run(self.config)

    def set_config(self, config: ExperimentConfig) -> None:
        """Apply a validated config: the learning rate goes to the running run, a new
        step budget keeps the run, any other change starts a new run. Raises ConfigError
        when the trainer cannot be built from it, or when the budget is below the steps
        done; the run is then kept as it was."""
        changed = _changed_fields(self.config, config)
        if not changed:
            return
        if changed <= LIVE_FIELDS:
            with self._handoff.ui():
                for key in sorted(changed):
                    APPLY_LIVE[key](self._trainer, config)
                self._version += 1
            return
        # A diverged run is not extended: "change the config" is its way out (a new run).
        if changed == {STEPS_FIELD} and self._trainer.diverged is None:
            self._extend(config)
            return
        self._new_run(config)

    def load(self, config: ExperimentConfig) -> None:
        """A new run from `config` (an opened experiment file), even when it equals the
        current one; leaves any scenario. Raises ConfigError and keeps the run on failure."""
        self._new_run(config, scenario=None, counterexample=False)

    def start_scenario(self, scenario: Scenario, counterexample: bool = False) -> None:
        """A new run of the scenario's preset (or its counter-example), started at once."""
        config = scenario.counterexample_config if counterexample else scenario.config
        if config is None:
            raise ConfigError("scenario", f"{scenario.name} has no counter-example")
        self._new_run(config, scenario, counterexample)
        self.start()

    def leave_scenario(self) -> None:
        """Keep the run, drop the scenario and its verdict."""
        with self._handoff.ui():
            self._scenario = None
            self._counterexample = False
            self._verdict = None
            self._version += 1

    def adopt(self, trainer: Trainer) -> None:
        """Take over a restored trainer (a run directory) with its history and evaluations,
        paused where it stopped: space trains on from there. Leaves any scenario."""
        self.pause()
        with self._handoff.ui():
            self._trainer = trainer
            self._run_id += 1
            self._scenario, self._counterexample = None, False
            self._error = None
            if trainer.diverged is not None:
                self._state = "diverged"
                self._error = str(trainer.diverged)
            elif trainer.steps_done >= trainer.config.training.steps:
                self._state = "done"
            else:
                self._state = "paused" if trainer.steps_done else "idle"
            self._begin_run_locked()

    def read(self, fn: Callable[[Trainer], T]) -> T:
        """fn(trainer) under the lock, between two steps: for views that copy what they
        show (weights, a float64 network). fn must only read, and be quick."""
        with self._handoff.ui():
            return fn(self._trainer)

    def save(self, root: str | Path) -> Path:
        """Save the run as a new run directory under `root` (engine.store.runs); returns its
        path. Raises OSError or RunError; the run is not touched. Safe on any thread."""
        # Only the checkpoint (a copy of every array, history and evaluations included)
        # is taken between two steps; building the clone and the disk I/O run without the
        # lock, so training and the UI go on meanwhile.
        with self._handoff.ui():
            config = self._trainer.config
            arrays = self._trainer.checkpoint()
        clone = Trainer.from_checkpoint(config, arrays)
        run_dir = create_run_dir(root, config)
        save_run(clone, run_dir, final=True)
        return run_dir

    def stop(self) -> None:
        """Tell the worker to stop, without waiting for it (close() joins it)."""
        self._stop.set()
        with self._handoff.ui():
            self._wake.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker and join it; safe to call more than once."""
        self.stop()
        t = self._thread
        if t is not None:
            t.join(timeout)
            if not t.is_alive():  # after a timed-out join it still runs: keep it visible
                self._thread = None

    # ----------------------------------------------------------------- reading

    def snapshot(self) -> Snapshot:
        """The current snapshot; the very same object while nothing changed."""
        cached = self._cached
        if cached is not None and cached.version == self._version:
            return cached  # a plain int compare: no lock needed for "nothing new"
        with self._handoff.ui():
            snap = self._build_snapshot_locked()
            self._cached = snap
            return snap

    # --------------------------------------------------------------- internals

    def _new_run(
        self,
        config: ExperimentConfig,
        scenario: Scenario | Literal["keep"] | None = "keep",
        counterexample: bool = False,
    ) -> None:
        """Replace the run; a scenario (or None) replaces the scenario too, "keep" (a
        field change or a reset) keeps it and its counter-example flag."""
        # Build before taking the lock so the worker keeps stepping the old run
        # meanwhile; a failure raises here and leaves the old run untouched.
        trainer = _build(config)
        with self._handoff.ui():
            self._trainer = trainer
            self._run_id += 1
            if scenario != "keep":
                self._scenario = scenario
                self._counterexample = counterexample
            if self._state not in ("idle", "running"):
                self._state = "idle"
            self._error = None
            self._begin_run_locked()
            self._wake.notify_all()

    def _extend(self, config: ExperimentConfig) -> None:
        """The same run with a new step budget: a done run becomes paused (space trains
        on), a running one keeps running. A budget below the steps done is refused (it
        would throw the trained network away). Raises ConfigError and keeps the run."""
        # Built before the lock (the dataset and network are the costly part) so the
        # worker keeps stepping meanwhile; the checkpoint is taken and restored under
        # the lock so no step is lost. restore() is what from_checkpoint() does after
        # building; it checks everything before changing the new trainer.
        trainer = _build(config)
        with self._handoff.ui():
            done = self._trainer.steps_done  # read under the lock: a running run moves on
            if config.training.steps < done:
                raise ConfigError(
                    "training.steps",
                    f"cannot be {config.training.steps}: {done} steps are done; "
                    "raise it, or press r to start over",
                )
            try:
                trainer.restore(self._trainer.checkpoint())
            except CheckpointError as exc:  # not expected (same data and net); keep the run
                raise ConfigError("training.steps", f"cannot keep the run: {exc}") from exc
            self._trainer = trainer
            if done >= config.training.steps:
                self._state = "done"  # a budget of exactly the steps done
            elif self._state == "done":
                self._state = "paused"
            self._version += 1

    def _begin_run_locked(self) -> None:
        self._last = None
        self._rate = 0.0
        self._boundary = None
        self._boundary_at = 0.0
        self._boundary_step = -1
        self._update_boundary(force=True)
        self._verdict = None
        self._advice = ()
        self._observed_step = -1
        self._observe_locked()
        self._version += 1

    def _step_locked(self) -> bool:
        """One training step; False once the run cannot go on."""
        try:
            self._last = self._trainer.step()
        except Diverged as exc:
            self._state = "diverged"
            self._error = f"diverged at step {exc.step}: {exc.what}"
            return False
        except Exception as exc:  # never let the worker die silently
            self._state = "paused"
            self._error = f"{type(exc).__name__}: {exc}"
            return False
        if self._trainer.steps_done >= self._trainer.config.training.steps:
            self._state = "done"
            return False
        return True

    def _loop(self) -> None:
        """The worker: step while running, sleep on the condition otherwise."""
        handoff = self._handoff
        window_start = time.perf_counter()
        window_steps = 0
        while True:
            with handoff.lock:
                # Checked under the lock: close() sets the event, then notifies under
                # the lock, so the worker either sees it here or is woken from wait().
                if self._stop.is_set():
                    return
                if self._state != "running":
                    self._rate = 0.0
                    self._wake.wait()
                    window_start, window_steps = time.perf_counter(), 0
                    continue
                self._step_locked()
                window_steps += 1
                now = time.perf_counter()
                if now - window_start >= RATE_WINDOW:
                    self._rate = window_steps / (now - window_start)
                    window_start, window_steps = now, 0
                if self._state != "running" or now - self._boundary_at >= BOUNDARY_INTERVAL:
                    self._update_boundary()
                if self._state != "running" or now - self._observed_at >= OBSERVE_INTERVAL:
                    self._observe_locked()
                self._version += 1
            handoff.yield_to_ui()

    def _update_boundary(self, force: bool = False) -> None:
        """Recompute the decision-boundary grid (2-D data only); the lock is held."""
        dataset = self._trainer.dataset
        if dataset.X_train.ndim != 2 or dataset.X_train.shape[1] != 2:
            return
        step = int(self._trainer.steps_done)
        self._boundary_at = time.perf_counter()
        if not force and step == self._boundary_step:
            return
        try:
            xs, ys, probs = self._trainer.predict_grid(*BOUNDARY_SIZE)
        except Exception:  # e.g. a diverged network: keep the last good grid
            return
        if not np.all(np.isfinite(probs)):
            return
        self._boundary = Boundary(
            xs=xs,
            ys=ys,
            probs=probs,
            points=dataset.X_train,
            labels=dataset.y_train,
            step=step,
        )
        self._boundary_step = step

    def _observe_locked(self) -> None:
        """The scenario's verdict and the advisor's advice on the run as it is now; the
        lock is held. Skipped when no step was taken since the last look."""
        self._observed_at = time.perf_counter()
        trainer = self._trainer
        if trainer.steps_done == self._observed_step:
            return
        self._observed_step = trainer.steps_done
        if self._scenario is not None:
            try:
                self._verdict = judge(self._scenario, trainer)
            except Exception as exc:  # a judge must never stop the run
                self._verdict = Verdict(NOT_YET, f"cannot judge: {type(exc).__name__}: {exc}", {})
        else:
            self._verdict = None
        try:
            self._advice = tuple(advise(trainer))
        except Exception:
            self._advice = ()

    def _build_snapshot_locked(self) -> Snapshot:
        trainer = self._trainer
        history = trainer.history
        handoff = self._handoff

        def reader(names: tuple[str, ...], max_points: int) -> list[Any]:
            # Bound to this run's history, so a stale snapshot never reads a newer run.
            with handoff.ui():
                return [history.series(name, max_points=max_points) for name in names]

        last = self._last
        # evals only grows (one record per eval interval) while a run lasts: copy it
        # when its length changes, not on every snapshot.
        if self._evals_of is not trainer.evals or len(self._evals) != len(trainer.evals):
            self._evals_of, self._evals = trainer.evals, tuple(trainer.evals)
        evals = self._evals
        return Snapshot(
            version=self._version,
            run_id=self._run_id,
            state=self._state,
            step=int(self._trainer.steps_done),
            epoch=float(trainer.epoch),
            steps_per_sec=self._rate if self._state == "running" else 0.0,
            last=last,
            last_eval=evals[-1] if evals else None,
            evals=evals,
            n_layers=int(trainer.n_layers),
            layer_stats=LAYER_STATS,
            task=str(trainer.dataset.task),
            loss_name=str(trainer.loss.name),
            activation=trainer.config.model.activation,
            error=self._error,
            config=trainer.config,
            boundary=self._boundary,
            scenario=self._scenario,
            counterexample=self._counterexample,
            verdict=self._verdict,
            advice=self._advice,
            _reader=reader,
        )


def _build(config: ExperimentConfig) -> Trainer:
    """A trainer, or a ConfigError that says why not."""
    try:
        return Trainer(config)
    except ConfigError:
        raise
    except Exception as exc:  # e.g. a data file that cannot be read
        raise ConfigError("config", f"{type(exc).__name__}: {exc}") from exc


def _changed_fields(old: ExperimentConfig, new: ExperimentConfig) -> set[str]:
    """The keys ("optimizer.lr") whose values differ."""
    a, b = old.to_dict(), new.to_dict()
    return {f"{s}.{f}" for s in b for f in b[s] if a.get(s, {}).get(f) != b[s][f]}
