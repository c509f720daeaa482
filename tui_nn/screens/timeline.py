"""The timeline: what happened in the run, as the engine detected it (`trainer.events`):
a layer crossing 10%/40% dead, most units saturating, the update/weight ratio leaving its
band, a loss spike or divergence, a learning-rate change, overfitting. One row an
event: its step, its kind, its layer, the sentence and the numbers behind it.

The events are copied inside `reader.read(...)` (a list of frozen records) at most every
READ_INTERVAL while the run trains, and at once when it stopped; the newest stay in view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from engine import Trainer
from engine.train.events import MAX_EVENTS, Event
from tui_nn.charts import layer_name
from tui_nn.core.runner import RunReader, Snapshot
from tui_nn.screens.view import ReadPace, View

READ_INTERVAL = 0.5  # seconds between reads while training
MAX_ROWS = 500  # events listed at most, the newest: a table of a thousand redraws slowly
NOTHING_YET = (
    "Nothing happened yet. Events are detected as the run trains: dead units, saturation, "
    "the update/weight ratio, loss spikes, divergence, learning-rate changes, overfitting."
)


@dataclass(frozen=True)
class Read:
    events: tuple[Event, ...]
    dropped: int  # events the trainer's timeline left out (it keeps at most MAX_EVENTS)
    n_layers: int


def read_events(trainer: Trainer) -> Read:
    """Runs inside `reader.read`: the events, frozen records the timeline keeps at most
    MAX_EVENTS of (so a tuple of them costs microseconds), and how many it left out."""
    return Read(tuple(trainer.events), int(trainer.timeline.dropped), int(trainer.n_layers))


def number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


def events_table(events: Sequence[Event], n_layers: int, dropped: int = 0) -> Table | Text:
    """One row an event, oldest first; the last MAX_ROWS of a long run."""
    if not events:
        return Text(NOTHING_YET, style="dim")
    older = len(events) - MAX_ROWS
    events = events[-MAX_ROWS:]
    table = Table(box=None, padding=(0, 2, 0, 0), header_style="bold", expand=True)
    table.add_column("step", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("what happened", ratio=3)
    table.add_column("numbers", ratio=2)
    for event in events:
        layer = "run" if event.layer is None else layer_name(event.layer, n_layers)
        values = "  ".join(f"{k} {number(v)}" for k, v in event.values.items())
        table.add_row(str(event.step), event.kind, layer, event.message, Text(values, "dim"))
    notes = []
    if older > 0:
        notes.append(f"the last {MAX_ROWS} events shown, {older} before them")
    if dropped:
        notes.append(f"{dropped} more were not kept: a run keeps its first and newest {MAX_EVENTS}")
    if notes:
        table.caption = "; ".join(notes)
    return table


class TimelineScreen(View):
    """The run's events, newest at the bottom."""

    DEFAULT_CSS: ClassVar[str] = """
    TimelineScreen #timeline-body { height: 1fr; border: round $accent; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self._ready = False  # on_mount has run: the widgets exist
        self.run = run
        self.events: list[Event] = []
        self._shown: tuple[object, ...] | None = None  # what the table shows
        self.pace = ReadPace(READ_INTERVAL)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="timeline-body") as body:
            body.border_title = "Timeline: what happened, when"
            body.border_subtitle = "esc closes"
            yield Static(Text(NOTHING_YET, style="dim"), id="timeline-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ready = True
        self.query_one(VerticalScroll).focus()
        self._read(self.run.snapshot())

    def refresh_from(self, snapshot: Snapshot) -> None:
        if not self._ready:
            return  # pushed, not composed yet: on_mount reads the run itself
        if self.pace.too_soon(snapshot):
            return
        self._read(snapshot)

    def _read(self, snapshot: Snapshot) -> None:
        if not self.pace.take(snapshot):
            return
        read = self.run.read(read_events)
        shown = (snapshot.run_id, len(read.events), read.dropped, read.events[-1:])
        if shown == self._shown:
            return  # nothing new
        self._shown = shown
        self.events = list(read.events)
        self.query_one("#timeline-text", Static).update(
            events_table(self.events, read.n_layers, read.dropped)
        )
        self.query_one(VerticalScroll).scroll_end(animate=False)
