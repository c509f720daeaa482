"""The training runner: owns the trainer and the thread that steps it.

Two locks, so that the UI never waits for a step. The training lock (a handoff, see
`_Handoff`) is held by the worker for one step at a time and by whoever touches the
trainer (a control, a view's read, a save). What the UI reads is published under a
second lock that is only ever held for a few assignments: the step and its record after
every step; a copy of the history and the evaluations at most every HISTORY_INTERVAL and
after every change; the decision boundary, the scenario's verdict and the advice after
every look. A snapshot is built from those, and its series are read from the copy, so a
snapshot costs microseconds even while a big net's step takes a second.

A look (the boundary grid, the judge, the advisor) works on a copy of the run taken
under the training lock (the weights, the history, the evaluations: milliseconds, less
than a step) and computes without any lock: between steps on the worker thread, at most
every BOUNDARY_INTERVAL and at most LOOK_SHARE of its time; and, after a change made by
a caller (pause, a single step, a new run), at once, on the caller's thread for a small
network and on the worker's for a big one, so the picture is never stale and no key
waits for a big grid.

There is no message and no `call_from_thread` per step: both cost about half the
training speed, and the UI only needs a handful of frames a second anyway.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import deque
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
from engine.nn.network import MLP
from engine.store.runs import create_run_dir, save_run
from engine.train.trainer import CheckpointError

if TYPE_CHECKING:
    from pathlib import Path

    from engine.train.history import History

State = Literal["idle", "running", "paused", "diverged", "done"]
T = TypeVar("T")
Array = np.ndarray

# While training, the boundary, the judge and the advisor look at the run together, at
# most twice a second, and never take more than LOOK_SHARE of the worker's time: a
# 4096-wide net's grid takes seconds, and the run would crawl if it came every 0.5 s.
BOUNDARY_INTERVAL = 0.5  # seconds
OBSERVE_INTERVAL = BOUNDARY_INTERVAL  # the judge and the advisor look with the boundary
LOOK_SHARE = 0.2
# A look after a caller's change runs on the caller's thread up to this many parameters
# (the grid and the judge's forward then take a few milliseconds); a bigger network's
# look goes to the worker thread, so a key never waits for it.
INLINE_PARAMETERS = 20_000
# Seconds between copies of the history for the plots while training: they redraw at most
# twice a second, and a long run's copy takes about 8 ms.
HISTORY_INTERVAL = 0.5
# Seconds of steps the rate is measured over (never fewer than two steps), and at least two
# looks' periods: the looks between steps (a 4096-wide net's takes 3 s every 15 s) are part
# of the run's time, so the rate is the run's, not the rate between two looks.
RATE_WINDOW = 5.0

BOUNDARY_SIZE = (64, 48)  # grid width, height; the widget samples it to its own size
CURVE_POINTS = 256  # inputs of a 1-D regression's fitted curve
BOUNDARY_MARGIN = 0.1  # the grid reaches this share of the data's span beyond it
GRID_CHUNK = 1024  # grid points a forward: a 4096-wide net's caches stay near 150 MB, and
# a smaller chunk would make its matrix products slower (2x at 256)

# What the boundary draws, by (task, input features); other data has no picture.
BOUNDARY_KINDS = {
    ("classification", 2): "classes",
    ("regression", 2): "values",
    ("regression", 1): "curve",
}

# How each field the schema marks live (engine.config.LIVE_FIELDS) reaches the running
# trainer; a change to any other field starts a new run.
APPLY_LIVE: dict[str, Callable[[Trainer, ExperimentConfig], None]] = {
    "optimizer.lr": lambda trainer, config: trainer.set_learning_rate(config.optimizer.lr),
}
# A new step budget alone keeps the run (its weights, history and evaluations): "done"
# says to raise it, and a new run from step 0 would throw the trained network away.
STEPS_FIELD = "training.steps"


@dataclass(frozen=True)
class Mark:
    """Something that changed during a run, drawn on the plots' x axis."""

    step: int  # the steps done when it changed (it applies from the next step)
    kind: str  # "lr" (a live rate), "config" (a change that kept the run), "reset"
    label: str  # e.g. "lr 0.05", "steps 5000"


@dataclass(frozen=True)
class Boundary:
    """The network's prediction over the input space, plus the data.

    kind "classes" (classification, 2-D inputs): probs (H, W, C) class probabilities over
    xs (W,) by ys (H,), row 0 the lowest y. "values" (regression, 2-D): probs (H, W, T)
    the predicted targets. "curve" (regression, 1-D): xs (W,) the inputs, ys empty, probs
    (1, W, T) the fitted outputs. Points are (n, features), labels (n,) class ids or
    (n, T) targets, for the training and the validation sets."""

    kind: str
    xs: Array
    ys: Array
    probs: Array
    points: Array
    labels: Array
    val_points: Array
    val_labels: Array
    class_names: tuple[str, ...]  # the dataset's, e.g. a CSV's string labels; () when regressing
    step: int  # the step the grid was computed at


@dataclass(frozen=True)
class Snapshot:
    """What the UI sees of a run at one moment; never mutated after it is built."""

    version: int  # bumps on every change; an equal version means nothing to redraw
    run_id: int  # bumps on reset and on a new run: widgets drop what they drew
    state: State
    step: int
    epoch: float  # passes over the training set
    steps_per_sec: float  # measured over the last RATE_WINDOW seconds; 0.0 unless running
    speed: float | None  # the pace asked for (steps a second), None for full speed
    last: StepRecord | None  # None before the first step
    last_eval: EvalRecord | None  # the latest evaluation (step 0's before any step), or None
    evals: tuple[EvalRecord, ...]  # the trainer's: step 0, then every eval_every steps
    n_layers: int  # hidden layers + the output layer
    n_parameters: int  # the network's weights and biases
    layer_stats: tuple[str, ...]  # history columns are f"layers.{i}.{stat}"
    task: str  # the dataset's task, e.g. "classification" or "regression"
    loss_name: str  # the loss the config's "auto" resolved to
    activation: str
    error: str | None  # the last worker error or divergence text
    config: ExperimentConfig
    marks: tuple[Mark, ...]  # this run's changes, oldest first
    boundary: Boundary | None  # None for data with no picture, and before a run's first look
    boundary_kind: str | None  # the kind this run's data is drawn as; None: no picture
    scenario: Scenario | None = None  # the lecture scenario this run belongs to
    counterexample: bool = False  # the run is the scenario's counter-example
    verdict: Verdict | None = None  # the scenario's judge at the last look (as the boundary)
    advice: tuple[Advice, ...] = ()  # engine.lecture.advisor.advise, warnings first
    # names, max_points -> one history.series per name, read from a copy (no lock)
    _reader: Callable[[tuple[str, ...], int], list[Any]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def has_history(self) -> bool:
        return self._reader is not None

    def series(self, name: str, max_points: int) -> Any:
        """`history.series(name, max_points)` of this snapshot's run."""
        return self.series_many((name,), max_points)[0]

    def series_many(self, names: tuple[str, ...], max_points: int) -> list[Any]:
        """Several series at once (a per-layer plot reads 2 per layer)."""
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

    Public methods are called from the UI thread (save() and snapshot() from any
    thread); `_loop` runs on the worker thread. The training lock (`_handoff`) guards the
    trainer; `_pub` guards every published field and is held only briefly, never while
    waiting for anything but itself. Lock order: the training lock, then `_pub`. The
    config is the trainer's own (`trainer.config`): no second copy.
    """

    def __init__(self, config: ExperimentConfig | None = None) -> None:
        self._handoff = _Handoff()
        self._pub = threading.Lock()
        self._wake = threading.Condition(self._pub)  # the worker sleeps on it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cached: Snapshot | None = None
        # Published, under _pub (the trainer is replaced under both locks).
        self._version = 0
        self._run_id = 0
        self._state: State = "idle"
        self._error: str | None = None
        self._speed: float | None = None
        self._scenario: Scenario | None = None
        self._counterexample = False
        self._marks: tuple[Mark, ...] = ()
        self._step = 0  # these three after every step
        self._epoch = 0.0
        self._last: StepRecord | None = None
        self._history: History | None = None  # copies, at most every HISTORY_INTERVAL
        self._history_of: History | None = None  # the trainer.history _history copies
        self._evals_of: list[EvalRecord] | None = None  # the trainer.evals list _evals copies
        self._evals: tuple[EvalRecord, ...] = ()
        self._published_at = -math.inf
        self._boundary: Boundary | None = None  # these three after every look
        self._verdict: Verdict | None = None
        self._advice: tuple[Advice, ...] = ()
        # The worker's and the looks' bookkeeping, under _pub too.
        self._times: deque[float] = deque()  # when the last steps ended, for the rate
        self._began = -math.inf  # when the last paced step began: the pace counts from it
        self._ended = -math.inf  # when the last step ended (under the training lock)
        self._changed = True  # the run changed since the last look copied it
        self._look_wanted = False  # a caller's change left a look to the worker
        self._next_look = -math.inf
        self._rate_window = RATE_WINDOW  # and at least two looks' periods
        self._looks = 0  # looks begun; the newest one published wins
        self._shown_look = 0
        self._trainer: Trainer = _build(config if config is not None else ExperimentConfig())
        with self._handoff.ui():
            with self._pub:
                self._begin_run_pub()
            self._publish_locked()
        self._request_look()

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
        """Whether the worker thread exists (it is started on first use)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run the loop on the worker thread, which is started on first use. Never waits
        for a step."""
        with self._pub:
            if self._state not in ("idle", "paused"):
                return
            self._state = "running"
            self._error = None
            self._times.clear()  # the rate is of this stretch of training
            self._version += 1
            self._wake.notify_all()
        self._ensure_worker()

    def pause(self) -> None:
        """Stop after the step in progress (it waits for that step: none begins after
        this returns); the boundary and the verdict then describe the paused step."""
        if self._pause():
            self._request_look()

    def toggle(self) -> None:
        """Start when idle or paused, pause when running."""
        if self._state == "running":
            self.pause()
        else:
            self.start()

    def step(self, n: int = 1) -> None:
        """Take n steps on the caller's thread (deterministic); pauses a running run first."""
        self._pause()
        with self._handoff.ui():
            with self._pub:
                if self._state in ("diverged", "done"):
                    return
            for _ in range(n):
                if not self._step_locked():
                    break
            with self._pub:
                if self._state == "idle":
                    self._state = "paused"
            self._publish_locked()
        self._request_look()

    def set_speed(self, steps_per_second: float | None) -> None:
        """Train at most this many steps a second (None: full speed, the default). The
        worker waits between steps without holding a lock; a change applies at once."""
        if steps_per_second is not None and not (
            isinstance(steps_per_second, int | float)
            and not isinstance(steps_per_second, bool)
            and math.isfinite(steps_per_second)
            and steps_per_second > 0
        ):
            raise ValueError(
                f"speed: {steps_per_second!r} is not a pace; give a positive number of "
                "steps a second, or None for full speed"
            )
        with self._pub:
            self._speed = None if steps_per_second is None else float(steps_per_second)
            self._times.clear()  # the rate shown follows the new pace from its first steps
            self._version += 1
            self._wake.notify_all()  # a worker waiting for its next step recomputes

    def reset(self) -> None:
        """Restart the current config: the same seed, so the same initial weights."""
        self._new_run(self.config, marks=(Mark(0, "reset", "reset"),))

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
                trainer = self._trainer
                with self._pub:
                    for key in sorted(changed):
                        APPLY_LIVE[key](trainer, config)
                        name = key.rsplit(".", 1)[1]
                        mark = Mark(trainer.steps_done, name, _label(key, config))
                        self._marks += (mark,)
                    self._changed = True
                    self._version += 1
            self._request_look()  # the advice reads the rate
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
        with self._pub:
            self._scenario = None
            self._counterexample = False
            self._verdict = None
            self._version += 1

    def adopt(self, trainer: Trainer) -> None:
        """Take over a restored trainer (a run directory) with its history and evaluations,
        paused where it stopped: space trains on from there. Leaves any scenario."""
        self._pause()
        with self._handoff.ui():
            with self._pub:
                self._trainer = trainer
                self._run_id += 1
                self._scenario, self._counterexample = None, False
                self._error = None
                self._marks = ()
                if trainer.diverged is not None:
                    self._state = "diverged"
                    self._error = str(trainer.diverged)
                elif trainer.steps_done >= trainer.config.training.steps:
                    self._state = "done"
                else:
                    self._state = "paused" if trainer.steps_done else "idle"
                self._begin_run_pub()
            self._publish_locked()
        self._request_look()

    def read(self, fn: Callable[[Trainer], T]) -> T:
        """fn(trainer) under the training lock, between two steps: for views that copy
        what they show (weights, a float64 network). fn must only read, and be quick."""
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
        with self._pub:
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
        """The current snapshot; the very same object while nothing changed. Never waits
        for a step."""
        cached = self._cached
        if cached is not None and cached.version == self._version:
            return cached  # a plain int compare: no lock needed for "nothing new"
        with self._pub:
            snap = self._build_snapshot_pub()
            self._cached = snap
            return snap

    # --------------------------------------------------------------- internals

    def _ensure_worker(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._loop, name="tui-nn-runner", daemon=True)
            self._thread.start()

    def _pause(self) -> bool:
        """pause() without the look; whether it paused a running run."""
        with self._handoff.ui():
            with self._pub:
                if self._state != "running":
                    return False
                self._state = "paused"
                self._version += 1
                self._wake.notify_all()  # a worker waiting for its pace parks at once
            self._publish_locked()  # the plots show the paused step
        return True

    def _new_run(
        self,
        config: ExperimentConfig,
        scenario: Scenario | Literal["keep"] | None = "keep",
        counterexample: bool = False,
        marks: tuple[Mark, ...] = (),
    ) -> None:
        """Replace the run; a scenario (or None) replaces the scenario too, "keep" (a
        field change or a reset) keeps it and its counter-example flag."""
        # Build before taking the lock so the worker keeps stepping the old run
        # meanwhile; a failure raises here and leaves the old run untouched.
        trainer = _build(config)
        with self._handoff.ui():
            with self._pub:
                self._trainer = trainer
                self._run_id += 1
                if scenario != "keep":
                    self._scenario = scenario
                    self._counterexample = counterexample
                if self._state not in ("idle", "running"):
                    self._state = "idle"
                self._error = None
                self._marks = marks
                self._begin_run_pub()
            self._publish_locked()
        self._request_look()

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
            with self._pub:
                self._trainer = trainer
                if done >= config.training.steps:
                    self._state = "done"  # a budget of exactly the steps done
                elif self._state == "done":
                    self._state = "paused"
                self._marks += (Mark(done, "config", _label(STEPS_FIELD, config)),)
                self._version += 1
            self._publish_locked()

    def _begin_run_pub(self) -> None:
        """A new run's published fields; _pub is held."""
        self._last = None
        self._times.clear()
        self._evals_of, self._evals = None, ()
        self._boundary = None
        self._verdict = None
        self._advice = ()
        self._changed = True
        self._next_look = -math.inf
        self._version += 1

    def _publish_locked(self) -> None:
        """Copy for the readers what steps change: the history and the evaluations (a few
        ms for a long run's history); the training lock is held."""
        trainer = self._trainer
        history = self._history
        # A copy only when a row came (a pause right after a look needs none).
        if (
            history is None
            or self._history_of is not trainer.history
            or len(history) != len(trainer.history)
        ):
            history = copy.deepcopy(trainer.history)
        now = time.perf_counter()
        with self._pub:
            self._history, self._history_of = history, trainer.history
            # evals only grows (one record per eval interval) while a run lasts: copy it
            # when its length changes.
            if self._evals_of is not trainer.evals or len(self._evals) != len(trainer.evals):
                self._evals_of, self._evals = trainer.evals, tuple(trainer.evals)
            self._step, self._epoch = int(trainer.steps_done), float(trainer.epoch)
            self._published_at = now
            self._version += 1

    def _step_locked(self) -> bool:
        """One training step (the training lock is held); False once the run cannot go on."""
        trainer = self._trainer
        try:
            record = trainer.step()
        except Diverged as exc:
            self._stopped("diverged", f"diverged at step {exc.step}: {exc.what}")
            return False
        except Exception as exc:  # never let the worker die silently
            self._stopped("paused", f"{type(exc).__name__}: {exc}")
            return False
        now = self._ended = time.perf_counter()
        done = trainer.steps_done >= trainer.config.training.steps
        with self._pub:
            self._step, self._epoch = trainer.steps_done, trainer.epoch
            self._last = record
            self._changed = True
            if done:
                self._state = "done"
            times = self._times  # when steps end, for the rate (start() clears it)
            times.append(now)
            while len(times) > 2 and now - times[0] > self._rate_window:
                times.popleft()
            self._version += 1
        return not done

    def _stopped(self, state: State, error: str) -> None:
        trainer = self._trainer
        with self._pub:
            # A diverged step counts (the trainer's steps_done includes it, its row is
            # not stored): the step shown is the one the error names.
            self._step, self._epoch = int(trainer.steps_done), float(trainer.epoch)
            self._state = state
            self._error = error
            self._changed = True
            self._version += 1

    def _loop(self) -> None:
        """The worker: step while running (at the set pace), look when due, sleep on the
        condition otherwise."""
        while True:
            with self._pub:
                todo = self._wait_pub()
            if todo == "stop":
                return
            if todo == "look":
                self._look()
            else:
                self._train_one()

    def _wait_pub(self) -> str:
        """Until there is something to do: "look" (a caller or the run's end asked for
        one, or training and BOUNDARY_INTERVAL passed), "step" (running and the next step
        due at the set pace), or "stop". Sleeps on the condition, which releases _pub
        meanwhile; never spins."""
        while True:
            # Checked under _pub: stop() sets the event, then notifies under _pub, so the
            # worker either sees it here or is woken from wait().
            if self._stop.is_set():
                return "stop"
            running = self._state == "running"
            now = time.perf_counter()
            if self._look_wanted or (running and self._changed and now >= self._next_look):
                self._look_wanted = False
                return "look"
            if not running:
                self._wake.wait()
                continue
            wait = 0.0 if self._speed is None else self._began + 1.0 / self._speed - now
            if wait <= 0:
                return "step"
            self._wake.wait(wait)

    def _train_one(self) -> None:
        handoff = self._handoff
        with handoff.lock:
            # Every change away from running (pause, a new run, the end) holds this lock,
            # so what is read here holds for the step: none begins after pause() returns.
            if self._state != "running" or self._stop.is_set():
                return
            if self._speed is not None:
                self._began = time.perf_counter()
            going = self._step_locked()
            if not going:
                with self._pub:
                    self._look_wanted = True  # the picture of where the run stopped
            # A look due now publishes a copy itself: no second one.
            due = self._ended - self._published_at >= HISTORY_INTERVAL
            if not going or (due and self._ended < self._next_look):
                self._publish_locked()
        handoff.yield_to_ui()

    def _request_look(self) -> None:
        """After a caller's change: the look follows at once, on this thread for a small
        network, else on the worker's (started if need be)."""
        if self._trainer.network.n_parameters <= INLINE_PARAMETERS:
            self._look()
            return
        with self._pub:
            self._look_wanted = True
            self._wake.notify_all()
        self._ensure_worker()

    def _look(self) -> None:
        """The boundary, the scenario's verdict and the advice, on a copy of the run taken
        under the training lock and computed without any lock. Skipped when the run did
        not change since the last look."""
        with self._handoff.ui():
            with self._pub:
                if not self._changed:
                    return
                self._changed = False
                self._looks += 1
                look, run_id, scenario = self._looks, self._run_id, self._scenario
            self._publish_locked()  # the plots show the moment the look sees
            with self._pub:
                history, evals = self._history, self._evals
            assert history is not None  # published with every run
            view, theta = _copy_run(self._trainer, history, evals)
        start = time.perf_counter()
        view.network = network_over(view.network, theta)
        # The grid last: its forward leaves the copy's caches grid-sized, and the judge's
        # float64 copy of the network would copy them too.
        verdict = _verdict(scenario, view)
        advice = _advice(view)
        boundary = boundary_of(view, self._stop)
        cost = time.perf_counter() - start
        with self._pub:
            every = max(BOUNDARY_INTERVAL, cost / LOOK_SHARE)
            self._next_look = start + every
            self._rate_window = max(RATE_WINDOW, 2 * every)
            if run_id != self._run_id or look < self._shown_look:
                return  # a new run, or a newer look published first
            self._shown_look = look
            if boundary is not None:  # None: no picture, or a network that gave NaN
                self._boundary = boundary
            if scenario is self._scenario:
                self._verdict = verdict
            self._advice = advice
            self._version += 1

    def _rate_pub(self) -> float:
        times = self._times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def _build_snapshot_pub(self) -> Snapshot:
        trainer = self._trainer
        history = self._history

        def reader(names: tuple[str, ...], max_points: int) -> list[Any]:
            # A copy bound to this snapshot: nothing appends to it, so no lock.
            assert history is not None
            return [history.series(name, max_points=max_points) for name in names]

        evals = self._evals
        return Snapshot(
            version=self._version,
            run_id=self._run_id,
            state=self._state,
            step=self._step,
            epoch=self._epoch,
            steps_per_sec=self._rate_pub() if self._state == "running" else 0.0,
            speed=self._speed,
            last=self._last,
            last_eval=evals[-1] if evals else None,
            evals=evals,
            n_layers=int(trainer.n_layers),
            n_parameters=trainer.network.n_parameters,
            layer_stats=LAYER_STATS,
            task=str(trainer.dataset.task),
            loss_name=str(trainer.loss.name),
            activation=trainer.config.model.activation,
            error=self._error,
            config=trainer.config,
            marks=self._marks,
            boundary=self._boundary,
            boundary_kind=boundary_kind(trainer),
            scenario=self._scenario,
            counterexample=self._counterexample,
            verdict=self._verdict,
            advice=self._advice,
            _reader=reader if history is not None else None,
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


def _label(key: str, config: ExperimentConfig) -> str:
    """A mark's label: the field's name and its new value ("lr 0.05", "steps 5000")."""
    section, name = key.split(".", 1)
    return f"{name} {config.to_dict()[section][name]:g}"


# ------------------------------------------------------------------- looks


def _copy_run(
    trainer: Trainer, history: History, evals: tuple[EvalRecord, ...]
) -> tuple[Trainer, Array]:
    """The run at one moment, for readers outside the lock: the trainer's fields with
    copies of what a step changes (the history, the evaluations, and the weights, given
    apart: network_over puts them in a network of the copy's own, without the lock).
    The judge, the advisor and the grid read only those and what no step changes (the
    data, the config, the loss), so the live run trains on meanwhile. The training lock
    is held: this costs a copy of the weights (10 ms for 33M parameters) and of the
    history."""
    view = copy.copy(trainer)
    view.history = history
    view.evals = list(evals)
    return view, trainer.network.theta.copy()


def network_over(network: MLP, theta: Array) -> MLP:
    """A network of the same layers over its own flat vector, set to `theta`. Built
    from the live network, whose values may be changing meanwhile: they are replaced.
    New layer objects, so a forward on the copy rebinds only the copy's caches."""
    own = MLP([copy.copy(layer) for layer in network.layers])
    own.theta[...] = theta
    return own


def boundary_kind(trainer: Trainer) -> str | None:
    return BOUNDARY_KINDS.get((trainer.dataset.task, trainer.dataset.n_features))


def boundary_of(view: Trainer, stop: threading.Event | None = None) -> Boundary | None:
    """The network's prediction over the data's span; None for data with no picture, a
    prediction that is not finite (a diverged net: the last good one stays), or when
    `stop` is set meanwhile."""
    data = view.dataset
    kind = boundary_kind(view)
    if kind is None:
        return None
    X = np.concatenate([data.X_train, data.X_val])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * BOUNDARY_MARGIN
    lo, hi = lo - pad, hi + pad
    if kind == "curve":
        xs, ys = np.linspace(lo[0], hi[0], CURVE_POINTS), np.zeros(0)
        inputs, shape = xs[:, None], (1, CURVE_POINTS, -1)
    else:
        width, height = BOUNDARY_SIZE
        xs, ys = np.linspace(lo[0], hi[0], width), np.linspace(lo[1], hi[1], height)
        gx, gy = np.meshgrid(xs, ys)  # row 0 the lowest y
        inputs, shape = np.column_stack([gx.ravel(), gy.ravel()]), (height, width, -1)
    parts = []
    for i in range(0, len(inputs), GRID_CHUNK):
        if (
            stop is not None and stop.is_set()
        ):  # closing: a big net's grid must not hold the exit up
            return None
        try:
            parts.append(view.predict(inputs[i : i + GRID_CHUNK]))
        except Exception:  # a broken network must never stop the run or the UI
            return None
    probs = np.concatenate(parts)
    if not np.all(np.isfinite(probs)):
        return None
    return Boundary(
        kind=kind,
        xs=xs,
        ys=ys,
        probs=probs.reshape(shape),
        points=data.X_train,
        labels=data.y_train,
        val_points=data.X_val,
        val_labels=data.y_val,
        class_names=tuple(data.class_names),
        step=int(view.steps_done),
    )


def _verdict(scenario: Scenario | None, view: Trainer) -> Verdict | None:
    if scenario is None:
        return None
    try:
        return judge(scenario, view)
    except Exception as exc:  # a judge must never stop the run
        return Verdict(NOT_YET, f"cannot judge: {type(exc).__name__}: {exc}", {})


def _advice(view: Trainer) -> tuple[Advice, ...]:
    try:
        return tuple(advise(view))
    except Exception:
        return ()
