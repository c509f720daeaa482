"""The timeline: what happened in a run, detected from its diagnostics as it happens.

Each Event has its step, a kind, the layer (an index into network.layers, None for the
whole run), a sentence and the numbers behind it. The Trainer feeds its Timeline: every
step's loss (appended to a list, read at the next sample: a step does no more), every
SAMPLE_EVERY steps the per-layer stats,
every evaluation's dead units and losses, and every change of the learning rate (the
one config field a running run takes: any other change starts a new run, and a raised
step budget changes nothing, so a resumed run's timeline is an uninterrupted one's).

    "hidden layer 2 went 60% dead (10 of 16 units) at step 140, 20 steps after the
     learning rate changed to 0.5"

A level is reported when it is crossed, both ways, not at every step it holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.thresholds import (
    BAND_MARGIN,
    DEAD,
    DYING,
    HEALTHY_UPDATE,
    LOSS_SPIKE,
    LOSS_WINDOW,
    MOST,
    OVERFIT,
    SPIKE_FLOOR,
)
from engine.train.diagnostics import LAYER_STATS
from engine.train.records import Diverged, EvalRecord, StepRecord

# Every threshold is stated once, in engine.thresholds (a base module), with its reason.

KINDS = {
    "dead": "a layer crossed a dead-unit share",
    "saturated": "most units of a layer saturated, or no longer",
    "update_ratio": "a layer's update/weight ratio left the healthy band, or came back",
    "loss_spike": "the batch loss jumped far above its running mean",
    "diverged": "the loss or a parameter became NaN or infinite",
    "lr": "the learning rate changed (the one field a running run takes; any other change "
    "starts a new run)",
    "overfitting": "the validation loss turned up while the training loss kept falling",
}

# A run of any length keeps at most MAX_EVENTS events: the first KEEP_FIRST (how it began)
# and the newest; the learning-rate changes (a person's, and what verify replays) always.
MAX_EVENTS = 1000
KEEP_FIRST = 100

_RATIO = LAYER_STATS.index("update_ratio")
_SATURATED = LAYER_STATS.index("saturated")


@dataclass(frozen=True)
class Event:
    step: int
    kind: str  # a key of KINDS
    layer: int | None  # index into network.layers; None: the whole run
    message: str
    values: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "layer": self.layer,
            "message": self.message,
            "values": dict(self.values),
        }

    @classmethod
    def from_dict(cls, raw: object) -> Event:
        """An Event from to_dict()'s form; ValueError saying what is wrong."""
        if not isinstance(raw, dict) or set(raw) != {"step", "kind", "layer", "message", "values"}:
            raise ValueError("an event is an object with step, kind, layer, message, values")
        step, kind, layer, message, values = (
            raw[k] for k in ("step", "kind", "layer", "message", "values")
        )
        if not (isinstance(step, int) and step >= 0) or isinstance(step, bool):
            raise ValueError(f"step: {step!r}, expected a whole number >= 0")
        if kind not in KINDS:
            raise ValueError(f"kind: {kind!r}; kinds: {', '.join(KINDS)}")
        if layer is not None and not (isinstance(layer, int) and layer >= 0):
            raise ValueError(f"layer: {layer!r}, expected a whole number >= 0 or null")
        if not isinstance(message, str):
            raise ValueError("message: expected text")
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            for k, v in values.items()
        ):
            raise ValueError("values: expected an object of numbers")
        return cls(step, kind, layer, message, {k: float(v) for k, v in values.items()})


def _layer_name(i: int, n_layers: int) -> str:
    return "the output layer" if i == n_layers - 1 else f"hidden layer {i + 1}"


class Timeline:
    """Detects events from what the Trainer feeds it; `events` in step order."""

    def __init__(self, units: list[int]) -> None:
        self.units = units  # per layer of the network, the output layer last
        self.n_layers = len(units)
        self.events: list[Event] = []
        self.dropped = 0  # events left out to keep MAX_EVENTS
        # (step, batch loss) of the steps not read yet: a step only appends to this list
        # (the cheapest thing a step can do); catch_up() reads them, and every other
        # reading catches up first, so the events stay in step order.
        self.pending: list[tuple[int, float]] = []
        hidden = self.n_layers - 1
        self.dead_level = [0] * hidden  # 0: under DYING, 1: from DYING, 2: from DEAD
        self.saturated = [False] * hidden
        self.band = [0] * self.n_layers  # -1 below the healthy band, 0 in it, 1 above
        self.first_loss = math.nan
        self.mean_loss = math.nan  # running mean of the batch loss (an EMA)
        self.last_spike = -LOSS_WINDOW
        self.best_val = math.inf  # the lowest validation loss, its step and training loss
        self.best_step = 0
        self.best_train = math.inf
        self.overfitting = False

    def _add(self, event: Event) -> None:
        self.events.append(event)
        if len(self.events) > MAX_EVENTS:
            events = self.events
            oldest = next(
                (i for i in range(KEEP_FIRST, len(events)) if events[i].kind != "lr"), None
            )
            if oldest is not None:
                del events[oldest]
                self.dropped += 1

    # ------------------------------------------------------------------ steps

    def catch_up(self) -> None:
        """Read the pending batch losses (see `pending`), in step order."""
        if self.pending:
            for step, loss in self.pending:
                self.loss(step, loss)
            self.pending.clear()  # in place: the trainer appends to this very list

    def loss(self, step: int, loss: float) -> None:
        """A step's batch loss: a spike is a batch loss far above the running mean."""
        mean = self.mean_loss
        if mean != mean:  # the first step: NaN is the only value not equal to itself
            self.first_loss = self.mean_loss = loss
            return
        if (
            loss > LOSS_SPIKE * mean
            and loss - mean > SPIKE_FLOOR * self.first_loss
            and step - self.last_spike >= LOSS_WINDOW
        ):
            self.last_spike = step
            self._add(
                Event(
                    step,
                    "loss_spike",
                    None,
                    f"the batch loss spiked to {loss:.4g} at step {step}, "
                    f"{loss / mean:.1f} times its running mean {mean:.4g}",
                    {"loss": loss, "mean": mean},
                )
            )
        self.mean_loss = mean + (loss - mean) * (2.0 / (LOSS_WINDOW + 1))

    def stats(self, record: StepRecord) -> None:
        """Every SAMPLE_EVERY steps: saturation and the update/weight ratio, per layer."""
        self.catch_up()
        rows = record.stats.tolist()
        step = record.step
        for i in range(self.n_layers - 1):
            share = rows[i][_SATURATED] / self.units[i]
            most = share > MOST
            if most != self.saturated[i]:
                self.saturated[i] = most
                name = _layer_name(i, self.n_layers)
                what = "most units of" if most else "no longer most units of"
                self._add(
                    Event(
                        step,
                        "saturated",
                        i,
                        f"{what} {name} saturated ({share:.0%}) at step {step}",
                        {"share": share},
                    )
                )
        low, high = HEALTHY_UPDATE
        for i in range(self.n_layers):
            ratio = rows[i][_RATIO]
            band = -1 if ratio < low else 1 if ratio > high else 0
            if band == 0 and self.band[i] and not low * BAND_MARGIN <= ratio <= high / BAND_MARGIN:
                continue  # near the edge it left by: not back yet
            if band != self.band[i]:
                self.band[i] = band
                name = _layer_name(i, self.n_layers)
                where = {-1: "fell below", 1: "rose above", 0: "came back into"}[band]
                self._add(
                    Event(
                        step,
                        "update_ratio",
                        i,
                        f"the update/weight ratio of {name} {where} the healthy band "
                        f"[{low:g}, {high:g}]: {ratio:.3g} at step {step}",
                        {"ratio": ratio, "low": low, "high": high},
                    )
                )

    def diverged(self, error: Diverged) -> None:
        self.catch_up()
        self._add(Event(error.step, "diverged", None, str(error)))

    # ------------------------------------------------------------------ evaluations

    def evaluation(self, ev: EvalRecord) -> None:
        """Dead-unit shares (the evaluations count them: the one definition) and the
        validation loss turning up."""
        self.catch_up()
        for i, dead in enumerate(ev.dead):
            share = dead / self.units[i]
            level = 2 if share >= DEAD else 1 if share >= DYING else 0
            if level != self.dead_level[i]:
                up = level > self.dead_level[i]
                self.dead_level[i] = level
                mark = (DYING, DEAD)[level - 1] if up else (DYING, DEAD)[level]
                name, counted = _layer_name(i, self.n_layers), f"{dead} of {self.units[i]} units"
                if up:
                    text = f"{name} went {share:.0%} dead ({counted})"
                else:
                    text = f"{name} fell back under {mark:.0%} dead ({share:.0%}, {counted})"
                self._add(
                    Event(
                        ev.step,
                        "dead",
                        i,
                        f"{text} at step {ev.step}{self._after_change(ev.step)}",
                        {"share": share, "dead": float(dead), "level": mark},
                    )
                )
        self._overfitting(ev)

    def _overfitting(self, ev: EvalRecord) -> None:
        if ev.val_loss < self.best_val:
            self.best_val, self.best_step, self.best_train = ev.val_loss, ev.step, ev.train_loss
            self.overfitting = False
            return
        turned = ev.val_loss > self.best_val * (1.0 + OVERFIT) and ev.train_loss < self.best_train
        if turned and not self.overfitting:
            self.overfitting = True
            self._add(
                Event(
                    ev.step,
                    "overfitting",
                    None,
                    f"the validation loss turned up: {ev.val_loss:.4g} at step {ev.step}, "
                    f"from its lowest {self.best_val:.4g} at step {self.best_step}, while "
                    f"the training loss fell to {ev.train_loss:.4g}",
                    {
                        "val_loss": ev.val_loss,
                        "best_val_loss": self.best_val,
                        "best_step": float(self.best_step),
                        "train_loss": ev.train_loss,
                    },
                )
            )

    def _after_change(self, step: int) -> str:
        """ ", 20 steps after the learning rate changed to 0.5" when it changed before."""
        for event in reversed(self.events):
            if event.kind == "lr" and event.step <= step:
                return (
                    f", {step - event.step} steps after the learning rate changed to "
                    f"{event.values['to']:g}"
                )
        return ""

    # ------------------------------------------------------------------ changes

    def learning_rate(self, step: int, old: float, new: float) -> None:
        self.catch_up()
        self._add(
            Event(
                step,
                "lr",
                None,
                f"the learning rate changed from {old:g} to {new:g} at step {step}",
                {"from": old, "to": new},
            )
        )

    # ------------------------------------------------------------------ saving

    _STATE = (
        "dropped",
        "dead_level",
        "saturated",
        "band",
        "first_loss",
        "mean_loss",
        "last_spike",
        "best_val",
        "best_step",
        "best_train",
        "overfitting",
    )

    def to_json(self) -> str:
        """The events and the detectors' state as JSON text (floats exact; inf and NaN
        as JSON's Infinity and NaN, which json reads back)."""
        self.catch_up()
        state = {name: getattr(self, name) for name in self._STATE}
        return json.dumps({"events": [e.to_dict() for e in self.events], "state": state})

    def load_json(self, text: str, last_step: int) -> None:
        """Load to_json() of a timeline of the same layers; ValueError naming what is
        wrong, with the timeline unchanged."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON ({error})") from None
        if not isinstance(raw, dict) or set(raw) != {"events", "state"}:
            raise ValueError("expected an object with events and state")
        events_raw, state = raw["events"], raw["state"]
        if not isinstance(events_raw, list) or len(events_raw) > MAX_EVENTS:
            raise ValueError(f"events: expected a list of at most {MAX_EVENTS}")
        events: list[Event] = []
        for i, item in enumerate(events_raw):
            try:
                event = Event.from_dict(item)
            except ValueError as error:
                raise ValueError(f"events[{i}]: {error}") from None
            if event.step > last_step or (events and event.step < events[-1].step):
                raise ValueError(f"events[{i}]: step {event.step} out of order")
            if event.layer is not None and event.layer >= self.n_layers:
                raise ValueError(f"events[{i}]: layer {event.layer} of {self.n_layers}")
            events.append(event)
        checked = self._checked_state(state)
        self.events = events
        for name, value in checked.items():
            setattr(self, name, value)

    def _checked_state(self, state: object) -> dict[str, Any]:
        if not isinstance(state, Mapping) or set(state) != set(self._STATE):
            raise ValueError(f"state: expected the fields {', '.join(self._STATE)}")
        hidden = self.n_layers - 1
        lists = {"dead_level": (hidden, {0, 1, 2}), "band": (self.n_layers, {-1, 0, 1})}
        for name, (n, allowed) in lists.items():
            value = state[name]
            if not (isinstance(value, list) and len(value) == n and set(value) <= allowed):
                raise ValueError(f"state.{name}: {value!r}, expected {n} of {sorted(allowed)}")
        saturated = state["saturated"]
        if not (isinstance(saturated, list) and len(saturated) == hidden):
            raise ValueError(f"state.saturated: expected {hidden} true or false")
        if not all(isinstance(v, bool) for v in [*saturated, state["overfitting"]]):
            raise ValueError("state.saturated, state.overfitting: expected true or false")
        for name in ("first_loss", "mean_loss", "best_val", "best_train"):
            if not isinstance(state[name], (int, float)) or isinstance(state[name], bool):
                raise ValueError(f"state.{name}: expected a number")
        for name in ("last_spike", "best_step", "dropped"):
            if not isinstance(state[name], int) or isinstance(state[name], bool):
                raise ValueError(f"state.{name}: expected a whole number")
        return dict(state)
