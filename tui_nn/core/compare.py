"""A comparison: up to MAX_RUNS runs side by side, trained in one background thread.

    runner = CompareRunner(entries_from(config, parse_assignment("activation=relu,tanh")))
    runner.start(); snap = runner.snapshot(); snap.runs[0].series("loss", 200)

What varies is a schema field (`model.activation`, or `activation` when the short name is
unique), given as `field=value` (a fork) or `field=v1,v2,...` (a comparison; widths are
separated by `;`: `hidden=16;16,16`). Every run keeps the base config's training.seed and
data.seed, so where the shapes allow the runs start from the same weights and draw the
same minibatches: the field is the only difference.

The worker thread owns every trainer: it trains the runs a round at a time (a step of each
run that can go on), looks at them (the decision boundary, a scenario's verdict) at most
every LOOK_INTERVAL and at most LOOK_SHARE of its time, and publishes immutable snapshots
under a lock held only for a few assignments. The UI never touches a trainer: it asks
with commands that the worker runs between two steps (`read`, `add`, `drop`), so no key
waits longer than one step. UI-free: no textual, plotext or rich here.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from engine import LAYER_STATS, ConfigError, Diverged, EvalRecord, ExperimentConfig, StepRecord
from engine.config import FIELDS, Setting
from engine.lecture.scenarios import NOT_YET, Scenario, Verdict, judge
from engine.nn.activations import facts
from engine.train.stacked import StackedTrainer, group_members
from engine.train.trainer import Trainer
from tui_nn.core.fields import PARSERS
from tui_nn.core.runner import Boundary, boundary_kind, boundary_of

if TYPE_CHECKING:
    from engine.train.history import History

T = TypeVar("T")
G = TypeVar("G")
State = Literal["idle", "running", "paused", "done"]
RunState = Literal["training", "done", "diverged"]

MAX_RUNS = 8  # colours stay apart, and a screen still holds a boundary a run
LOOK_INTERVAL = 1.0  # seconds between looks while training: up to 8 boundaries and judges
LOOK_SHARE = 0.2  # looks never take more of the worker's time than this
# Seconds between copies of the histories for the plots: a long run's copy takes ~4 ms, and
# eight runs would cost the worker a tenth of its time at the lab's 0.5 s.
HISTORY_INTERVAL = 1.0
VIEW_INTERVAL = 0.05  # seconds between views of the steps and losses (the UI polls at 5 Hz)
RATE_WINDOW = 5.0  # seconds of steps a run's rate is measured over
WIDTHS_SEPARATOR = ";"  # between widths values: "16,16" is one value of model.hidden
SATURATED = LAYER_STATS.index("saturated")


# ------------------------------------------------------------------ what varies


def resolve_field(name: str) -> Setting:
    """The schema field `name` names: a full key ("model.activation") or a field name that
    only one section has ("activation"). ConfigError otherwise, naming what is allowed."""
    name = name.strip()
    if name in FIELDS:
        return FIELDS[name]
    found = [s for s in FIELDS.values() if s.name == name]
    if len(found) == 1:
        return found[0]
    if found:
        keys = ", ".join(s.key for s in found)
        raise ConfigError(name, f"is in more than one section; give one of {keys}")
    raise ConfigError(name, f"unknown field; fields: {', '.join(FIELDS)}")


def parse_value(setting: Setting, text: str) -> Any:
    """A value as typed, in the field's type where it parses (the raw text otherwise: the
    config's validation then says what is allowed)."""
    text = text.strip()
    if setting.kind == "bool":
        lowered = text.lower()
        return {"true": True, "false": False}.get(lowered, text)
    if setting.kind == "widths" and text.lower() in ("none", "[]"):
        return []  # no hidden layer: one neuron
    return PARSERS[setting.kind](text)


@dataclass(frozen=True)
class Assignment:
    """`field=v1,v2`: a schema key and the values asked for, in order."""

    key: str
    values: tuple[Any, ...]


def parse_assignment(text: str) -> Assignment:
    """Parse `field=value[,value...]` (widths: `hidden=16;16,16`). ConfigError names the
    field (or the text) and what is allowed."""
    name, equals, values = text.partition("=")
    if not equals or not name.strip():
        raise ConfigError("compare", f"expected FIELD=VALUE[,VALUE...], got {text.strip()!r}")
    setting = resolve_field(name)
    separator = WIDTHS_SEPARATOR if setting.kind == "widths" else ","
    parts = [part for part in values.split(separator)]
    if not values.strip() or any(not p.strip() and setting.kind != "widths" for p in parts):
        raise ConfigError(setting.key, f"give a value after '=' ({setting.allowed()})")
    parsed = tuple(parse_value(setting, part) for part in parts)
    if len(parsed) > MAX_RUNS:
        raise ConfigError(setting.key, f"{len(parsed)} values: at most {MAX_RUNS} runs compare")
    repeated = [v for i, v in enumerate(parsed) if v in parsed[:i]]
    if repeated:
        raise ConfigError(setting.key, f"{show(repeated[0])} is given twice")
    return Assignment(setting.key, parsed)


def changed(config: ExperimentConfig, key: str, value: Any) -> ExperimentConfig:
    """`config` with one field changed, validated (ConfigError names the field)."""
    section, name = key.split(".", 1)
    return config.with_changes(**{section: {name: value}})


def fork_config(config: ExperimentConfig, text: str) -> ExperimentConfig:
    """`config` with the one `field=value` of `text` changed; the same seeds, so the same
    initial weights and minibatch order where the shapes allow."""
    assignment = parse_assignment(text)
    if len(assignment.values) != 1:
        raise ConfigError(assignment.key, "a fork changes one value; :compare takes several")
    return changed(config, assignment.key, assignment.values[0])


def flat(config: ExperimentConfig) -> dict[str, Any]:
    """Every field of the config by its key."""
    return {f"{s}.{k}": v for s, fields in config.to_dict().items() for k, v in fields.items()}


def differing(configs: Sequence[ExperimentConfig]) -> tuple[str, ...]:
    """The keys whose values are not the same in every config, in the schema's order."""
    values = [flat(c) for c in configs]
    return tuple(k for k in FIELDS if len({show(v.get(k)) for v in values}) > 1)


def show(value: Any) -> str:
    """A value as the table and the legend write it."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def value_of(config: ExperimentConfig, key: str) -> str:
    return show(flat(config)[key])


def label_of(config: ExperimentConfig, keys: Sequence[str]) -> str:
    """A run's name from its differing values: "tanh", or "tanh lr=0.1" for several."""
    if len(keys) == 1:
        return value_of(config, keys[0])
    return " ".join(f"{k.rsplit('.', 1)[1]}={value_of(config, k)}" for k in keys) or "base"


# --------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """A run to compare: its config, the scenario whose judge gives its verdict (None: no
    verdict), and its name ("" names it by its differing values)."""

    config: ExperimentConfig
    scenario: Scenario | None = None
    label: str = ""
    claim: str = ""  # what its verdict says holds, in a few words ("units die")
    trainer: Trainer | None = None  # a run restored where it stopped (a sweep's member)


def entries_from(base: ExperimentConfig, assignment: Assignment) -> list[Entry]:
    """One run per value of the assignment, over `base`. ConfigError names the field and
    the value refused, before anything is built."""
    return [Entry(changed(base, assignment.key, value)) for value in assignment.values]


def describe(assignment: Assignment) -> str:
    """ "activation: relu, tanh": what a comparison varies, for its title."""
    name = assignment.key.rsplit(".", 1)[1]
    return f"{name}: {', '.join(show(v) for v in assignment.values)}"


# ----------------------------------------------------------------- training


class Group(Protocol):
    """Runs trained together: a StackedTrainer, or one Trainer `Alone`."""

    members: list[Trainer]

    def step(self) -> list[StepRecord | None]: ...


class Alone:
    """One run that stacks with no other, as a group of one."""

    def __init__(self, trainer: Trainer) -> None:
        self.members = [trainer]

    def step(self) -> list[StepRecord | None]:
        try:
            return [self.members[0].step()]
        except Diverged:  # kept in trainer.diverged
            return [None]


def train_together(configs: Sequence[ExperimentConfig]) -> list[tuple[list[int], Group]]:
    """The groups that train the configs: (indices into configs, the group). Runs that
    stack (engine.train.stacked.group_members) and share a step budget train as one
    stacked network: a step of the group is a step of each, as each would take it alone."""
    groups: list[tuple[list[int], Group]] = []
    for members in group_members(configs):
        budgets: dict[int, list[int]] = {}
        for i in members:
            budgets.setdefault(configs[i].training.steps, []).append(i)
        for indices in budgets.values():
            if len(indices) == 1:
                trainer = _build(partial(Trainer, configs[indices[0]]))
                groups.append((indices, Alone(trainer)))
            else:
                stacked = _build(partial(StackedTrainer, [configs[i] for i in indices]))
                groups.append((indices, stacked))
    return sorted(groups, key=lambda group: group[0][0])


def _build(make: Callable[[], G]) -> G:
    """make(), or a ConfigError that says why not (e.g. a data file that cannot be read)."""
    try:
        return make()
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError("config", f"{type(exc).__name__}: {exc}") from exc


def can_go_on(trainer: Trainer) -> bool:
    return trainer.diverged is None and trainer.steps_done < trainer.config.training.steps


# -------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class RunView:
    """What the UI sees of one run at one moment; never mutated. It reads like the lab's
    runner Snapshot where the plots and the boundary widget read it."""

    index: int  # the run's number for good, in the order the runs came
    colour: int  # its line colour (tui_nn.charts.line_style), unique among the runs
    label: str
    config: ExperimentConfig
    state: RunState
    step: int
    last: StepRecord | None
    evals: tuple[EvalRecord, ...]
    n_layers: int
    n_parameters: int
    task: str
    loss_name: str
    steps_per_sec: float
    boundary: Boundary | None
    boundary_kind: str | None
    scenario: Scenario | None
    verdict: Verdict | None
    error: str | None
    claim: str = ""  # what its verdict judges, in a few words
    hidden: bool = False  # not drawn (it keeps training)
    pinned: bool = False  # drawn over the others; drop refuses it
    marks: tuple[Any, ...] = ()  # the plots draw a run's marks; a compared run has none
    history: History | None = field(default=None, repr=False, compare=False)

    @property
    def activation(self) -> str:
        return self.config.model.activation

    @property
    def last_eval(self) -> EvalRecord | None:
        return self.evals[-1] if self.evals else None

    @property
    def has_history(self) -> bool:
        return self.history is not None

    @property
    def history_step(self) -> int:
        """The last step the history copy holds (it is copied every HISTORY_INTERVAL)."""
        return (self.history.last_step or 0) if self.history is not None else -1

    def series(self, name: str, max_points: int) -> Any:
        return self.series_many((name,), max_points)[0]

    def series_many(self, names: tuple[str, ...], max_points: int) -> list[Any]:
        history = self.history
        if history is None:
            raise RuntimeError("this run has no history yet")
        return [history.series(name, max_points=max_points) for name in names]

    @property
    def units(self) -> int:
        return sum(self.config.model.hidden)

    @property
    def dead_share(self) -> float | None:
        """Dead hidden units (zero for every training sample) at the last evaluation."""
        ev = self.last_eval
        if ev is None or not self.units:
            return None
        return sum(ev.dead) / self.units

    @property
    def saturated_share(self) -> float | None:
        """Saturated hidden units of the last step's batch; None where the activation
        cannot saturate (the lecture's facts) or before a step."""
        if not self.units or not facts(self.activation).saturates:
            return None
        if self.last is not None:
            return float(self.last.stats[:-1, SATURATED].sum()) / self.units
        row = self.history.last() if self.history is not None else None  # a restored run
        if not row:
            return None
        hidden = range(len(self.config.model.hidden))
        return sum(float(row[f"layers.{i}.saturated"]) for i in hidden) / self.units


@dataclass(frozen=True)
class CompareSnapshot:
    version: int  # bumps on every change
    state: State
    title: str
    runs: tuple[RunView, ...]
    varied: tuple[str, ...]  # the keys that differ between the runs

    @property
    def step(self) -> int:
        return max((r.step for r in self.runs), default=0)

    @property
    def shown(self) -> tuple[RunView, ...]:
        """The runs drawn: not hidden, pinned ones last (over the others)."""
        visible = [r for r in self.runs if not r.hidden]
        return tuple(sorted(visible, key=lambda r: r.pinned))


# ----------------------------------------------------------------------- runner


@dataclass(eq=False)
class _Run:
    """A run as the worker keeps it; `view` is what it last published."""

    index: int
    colour: int
    label: str
    name: str  # its own name ("" : named by its differing values)
    scenario: Scenario | None
    claim: str
    group: Group
    slot: int  # its place in the group
    times: deque[float] = field(default_factory=deque)
    history: History | None = None
    evals: tuple[EvalRecord, ...] = ()
    boundary: Boundary | None = None
    verdict: Verdict | None = None
    last: StepRecord | None = None
    error: str | None = None
    hidden: bool = False
    pinned: bool = False
    looked: int = -1  # the step of its last boundary: same step, same weights, same picture
    judged: int = -1  # the step of its last verdict

    @property
    def trainer(self) -> Trainer:
        return self.group.members[self.slot]


class CompareRunner:
    """Start, pause, step, add, drop, hide and pin the runs of one comparison. Controls
    are called from the UI thread; the worker thread (started at once, asleep while
    paused) does every training step and look."""

    def __init__(
        self, entries: Sequence[Entry] = (), title: str = "", fields: Sequence[str] = ()
    ) -> None:
        """`fields`: keys that name the runs and head the table even where the runs agree
        on them (a sweep's grid, on a page of members that share a value)."""
        self._fields = tuple(fields)
        self._pub = threading.Lock()
        self._wake = threading.Condition(self._pub)
        self._stop = threading.Event()
        self._commands: deque[Callable[[], None]] = deque()  # run by the worker
        self._version = 0
        self._state: State = "idle"
        self._steps_wanted = 0
        self._look_wanted = True
        self._title = title
        self._runs: list[_Run] = []  # the worker's; the published views below
        self._groups: list[Group] = []  # what trains them
        self._teams: list[tuple[Group, list[_Run]]] | None = None  # _make_teams's
        self._views: tuple[RunView, ...] = ()
        self._varied: tuple[str, ...] = ()
        self._next_index = 0
        self._next_look = -math.inf
        self._published_at = -math.inf
        self._viewed_at = -math.inf
        self._cached: CompareSnapshot | None = None
        self._add_entries(list(entries))
        self._publish(histories=True)
        self._thread = threading.Thread(target=self._loop, name="tui-nn-compare", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- controls

    @property
    def state(self) -> State:
        return self._state

    @property
    def alive(self) -> bool:
        """Whether the worker thread still runs (close() ends it)."""
        return self._thread.is_alive()

    def start(self) -> None:
        with self._pub:
            if self._state in ("idle", "paused"):
                self._state = "running"
                self._version += 1
                self._wake.notify_all()

    def pause(self) -> None:
        with self._pub:
            if self._state == "running":
                self._state = "paused"
                self._look_wanted = True
                self._version += 1
                self._wake.notify_all()

    def toggle(self) -> None:
        if self._state == "running":
            self.pause()
        else:
            self.start()

    def step(self) -> None:
        """One round (a step of each run that can go on); pauses a running comparison."""
        self.pause()
        with self._pub:
            if self._state != "done":
                self._steps_wanted += 1
                self._wake.notify_all()

    def add(self, entry: Entry) -> int:
        """Add a run from step 0 (it trains alongside); returns its index. ConfigError when
        the comparison is full or the trainer cannot be built; nothing changes then."""
        if len(self._views) >= MAX_RUNS:
            raise ConfigError("compare", f"{MAX_RUNS} runs at most: drop one first (x)")
        groups = train_together([entry.config])  # built here: a bad config raises here
        return self.call(lambda: self._adopt([entry], groups)[0])

    def replace(self, entries: Sequence[Entry], title: str) -> None:
        """Swap every run for these, paused (a sweep's next page of members). ConfigError
        when they cannot be built; nothing changes then."""
        self.pause()
        self.call(lambda: self._swap(list(entries), title))

    def drop(self, index: int) -> None:
        """Stop a run and take it out; a pinned run is kept (ValueError says so)."""
        view = self._view(index)
        if view.pinned:
            raise ValueError(f"run {view.label} is pinned: unpin it (p) to drop it")
        self.call(lambda: self._remove(index))

    def set_hidden(self, index: int, hidden: bool) -> None:
        self._flag(index, hidden=hidden)

    def set_pinned(self, index: int, pinned: bool) -> None:
        self._flag(index, pinned=pinned)

    def read(self, index: int, fn: Callable[[Trainer], T]) -> T:
        """fn(trainer) of run `index` on the worker, between two steps: for a copy of the
        run (its checkpoint). fn must only read, and be quick."""
        return self.call(lambda: fn(self._find(index).trainer))

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the worker between two steps and return its result (or raise its
        error); inline once the worker has stopped."""
        if self._stop.is_set() or not self._thread.is_alive():
            return fn()
        future: Future[T] = Future()

        def command() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:  # handed to the caller
                future.set_exception(exc)

        with self._pub:
            self._commands.append(command)
            self._wake.notify_all()
        return future.result()

    def stop(self) -> None:
        self._stop.set()
        with self._pub:
            self._wake.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        self.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def snapshot(self) -> CompareSnapshot:
        """The latest snapshot; the very same object while nothing changed."""
        cached = self._cached
        if cached is not None and cached.version == self._version:
            return cached
        with self._pub:
            snap = CompareSnapshot(
                self._version, self._state, self._title, self._views, self._varied
            )
            self._cached = snap
            return snap

    # ------------------------------------------------------------- the worker

    def _loop(self) -> None:
        while True:
            with self._pub:
                todo = self._wait_pub()
            if todo == "stop":
                return
            if todo == "command":
                self._run_commands()
            elif todo == "round":
                self._round()
            else:
                self._look()

    def _wait_pub(self) -> str:
        while True:
            if self._stop.is_set():
                return "stop"
            if self._commands:
                return "command"
            now = time.perf_counter()
            if self._look_wanted or (self._state == "running" and now >= self._next_look):
                return "look"
            if self._state == "running" or self._steps_wanted:
                return "round"
            self._wake.wait()

    def _run_commands(self) -> None:
        while True:
            with self._pub:
                if not self._commands:
                    return
                command = self._commands.popleft()
            command()

    def _round(self) -> None:
        """A step of every run that can go on; commands run between two steps."""
        with self._pub:
            if self._steps_wanted:
                self._steps_wanted -= 1
        teams = self._teams or self._make_teams()
        for group, runs in teams:
            if self._stop.is_set():
                return
            if self._teams is not teams:  # a command took runs in or out meanwhile
                if group not in self._groups:
                    continue
                runs = [r for r in self._runs if r.group is group]
            # A group trains while a run of it is shown and can go on; a dropped run of a
            # stacked group goes along with the others (it costs a row of the stack).
            if not any(can_go_on(r.trainer) for r in runs):
                continue
            try:
                records = group.step()
            except Exception as exc:  # never let the worker die silently
                records = [None] * len(group.members)
                for member in group.members:
                    member.diverged = Diverged(member.steps_done, f"{type(exc).__name__}: {exc}")
            now = time.perf_counter()
            for run in runs:
                record = records[run.slot]
                if record is not None:
                    run.last = record
                diverged = run.trainer.diverged
                if diverged is not None and run.error is None:
                    run.error = f"diverged at step {diverged.step}: {diverged.what}"
                    self._look_wanted = True
                run.times.append(now)
                while len(run.times) > 2 and now - run.times[0] > RATE_WINDOW:
                    run.times.popleft()
            if self._commands:  # a look at a deque's length needs no lock
                self._run_commands()
        done = not any(can_go_on(r.trainer) for r in self._runs)
        now = time.perf_counter()
        if done or self._state != "running" or now - self._published_at >= HISTORY_INTERVAL:
            self._publish(histories=True, done=done)
        elif now - self._viewed_at >= VIEW_INTERVAL:
            self._publish(histories=False)

    def _make_teams(self) -> list[tuple[Group, list[_Run]]]:
        """Each group with its runs, kept for the rounds until runs come or go."""
        self._teams = [(g, [r for r in self._runs if r.group is g]) for g in self._groups]
        return self._teams

    def _look(self) -> None:
        """Every run's boundary and verdict, on the worker between two rounds."""
        with self._pub:
            self._look_wanted = False
        start = time.perf_counter()
        for run in self._runs:
            trainer = run.trainer
            step = int(trainer.steps_done)
            # A run that did not step since (done, diverged, paused) keeps its picture and
            # its verdict: a new picture of the same weights would only cost a redraw. A
            # hidden run is not drawn: its picture waits until it is shown again.
            if run.looked != step and not run.hidden:
                boundary = boundary_of(trainer, self._stop)
                if boundary is not None:
                    run.boundary = boundary
                run.looked = step
            if run.scenario is not None and run.judged != step:
                try:
                    run.verdict = judge(run.scenario, trainer)
                except Exception as exc:  # a judge must never stop the runs
                    run.verdict = Verdict(NOT_YET, f"cannot judge: {type(exc).__name__}", {})
                run.judged = step
        cost = time.perf_counter() - start
        self._next_look = start + max(LOOK_INTERVAL, cost / LOOK_SHARE)
        self._publish(histories=True)

    def _publish(self, histories: bool, done: bool = False) -> None:
        """Build every run's view (histories copied when asked: a few ms a long run);
        `done`: no run can go on, said with the views of their last steps."""
        views = []
        for run in self._runs:
            trainer = run.trainer
            if histories or run.history is None:
                if run.history is None or len(run.history) != len(trainer.history):
                    run.history = copy.deepcopy(trainer.history)
                if len(run.evals) != len(trainer.evals):
                    run.evals = tuple(trainer.evals)
            views.append(self._view_of(run))
        now = time.perf_counter()
        with self._pub:
            if histories:
                self._published_at = now
            self._viewed_at = now
            self._views = tuple(views)
            if done:
                self._state = "done"
                self._steps_wanted = 0
                self._look_wanted = True
            self._version += 1

    def _view_of(self, run: _Run) -> RunView:
        trainer = run.trainer
        state: RunState = (
            "diverged"
            if trainer.diverged is not None
            else "training"
            if can_go_on(trainer)
            else "done"
        )
        return RunView(
            index=run.index,
            colour=run.colour,
            label=run.label,
            config=trainer.config,
            state=state,
            step=int(trainer.steps_done),
            last=run.last,
            evals=run.evals,
            n_layers=int(trainer.n_layers),
            n_parameters=trainer.network.n_parameters,
            task=str(trainer.dataset.task),
            loss_name=str(trainer.loss.name),
            steps_per_sec=_rate(run.times) if self._state == "running" else 0.0,
            boundary=run.boundary,
            boundary_kind=boundary_kind(trainer),
            scenario=run.scenario,
            verdict=run.verdict,
            error=run.error,
            claim=run.claim,
            hidden=run.hidden,
            pinned=run.pinned,
            history=run.history,
        )

    # ------------------------------------------------------------ bookkeeping

    def _add_entries(self, entries: list[Entry]) -> None:
        if len(entries) > MAX_RUNS:
            raise ConfigError("compare", f"{len(entries)} runs: at most {MAX_RUNS} compare")
        fresh = [i for i, e in enumerate(entries) if e.trainer is None]
        groups = [
            ([fresh[j] for j in members], group)
            for members, group in train_together([entries[i].config for i in fresh])
        ]
        groups += [([i], Alone(e.trainer)) for i, e in enumerate(entries) if e.trainer]
        self._adopt(entries, sorted(groups, key=lambda group: group[0][0]))
        if self._runs and not any(can_go_on(r.trainer) for r in self._runs):
            self._state = "done"  # e.g. a finished sweep's runs: nothing to train on

    def _adopt(self, entries: list[Entry], groups: list[tuple[list[int], Group]]) -> list[int]:
        """Take built groups in (on the worker, or before it starts); their indices."""
        added: list[int] = []
        for members, group in groups:
            self._groups.append(group)
            self._teams = None
            for slot, i in enumerate(members):
                entry = entries[i]
                used = {r.colour for r in self._runs}
                colour = next(c for c in range(MAX_RUNS) if c not in used)
                run = _Run(
                    self._next_index,
                    colour,
                    entry.label,
                    entry.label,
                    entry.scenario,
                    entry.claim,
                    group,
                    slot,
                )
                self._next_index += 1
                self._runs.append(run)
                added.append(run.index)
        self._relabel()
        with self._pub:
            if self._state == "done":
                self._state = "paused"
            self._look_wanted = True
        self._publish(histories=True)
        return added

    def _relabel(self) -> None:
        """A run without a name of its own is named by the values that differ, which
        change as runs come and go."""
        found = differing([r.trainer.config for r in self._runs]) if len(self._runs) > 1 else ()
        keys = tuple(k for k in FIELDS if k in found or k in self._fields)
        for run in self._runs:
            run.label = run.name or label_of(run.trainer.config, keys)
        with self._pub:
            self._varied = keys

    def _swap(self, entries: list[Entry], title: str) -> None:
        kept = self._runs, self._groups
        self._runs, self._groups, self._teams = [], [], None
        try:
            self._add_entries(entries)
        except ConfigError:
            (self._runs, self._groups), self._teams = kept, None
            raise
        with self._pub:
            self._title = title
        self._publish(histories=True)

    def _remove(self, index: int) -> None:
        run = self._find(index)
        self._runs.remove(run)
        self._teams = None
        if not any(r.group is run.group for r in self._runs):
            self._groups.remove(run.group)
        self._relabel()
        done = bool(self._runs) and not any(can_go_on(r.trainer) for r in self._runs)
        self._publish(histories=True, done=done)

    def _flag(self, index: int, **flags: bool) -> None:
        def set_flags() -> None:
            run = self._find(index)
            for name, value in flags.items():
                setattr(run, name, value)
            if run.looked != run.trainer.steps_done:  # shown again: its picture is due
                with self._pub:
                    self._look_wanted = True
            self._publish(histories=False)

        self._view(index)  # an unknown index raises here, on the caller's thread
        self.call(set_flags)

    def _find(self, index: int) -> _Run:
        for run in self._runs:
            if run.index == index:
                return run
        raise KeyError(f"no run {index} in the comparison")

    def _view(self, index: int) -> RunView:
        for view in self._views:
            if view.index == index:
                return view
        raise KeyError(f"no run {index} in the comparison")


def _rate(times: deque[float]) -> float:
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])
