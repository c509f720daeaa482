"""The status line: state, step, epoch, pace, the last minibatch's loss, and the train
and validation numbers of the latest evaluation, each with its label.

The parts flow onto as many lines as the width needs, never cut: a part is moved to the
next line whole. Plain text only (no colour carries meaning), so it reads the same with
NO_COLOR.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from textual import events
from textual.widgets import Static

from tui_nn.core.runner import Snapshot

STATE_LABELS: dict[str, str] = {
    "idle": "IDLE",
    "running": "RUNNING",
    "paused": "PAUSED",
    "diverged": "DIVERGED",
    "done": "DONE",
}

# What to press next in each state, shown when there is room.
STATE_HINTS: dict[str, str] = {
    "idle": "space: train",
    "paused": "space: resume",
    "diverged": "r: reset",
    "done": "r: reset",
}

SEPARATOR = "  "
BREAKS = re.compile(r"(?<=[:,]) ")  # where a part too long for a line breaks


def _loss(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "-"


def _acc(value: float) -> str:
    return f"{100 * value:.1f}%" if math.isfinite(value) else "-"


def _epoch(value: float) -> str:
    return f"epoch {value:.1f}" if value < 1000 else f"epoch {value:,.0f}"


def _rate(steps_per_sec: float) -> str:
    """A slow big net's 3.4 steps/s reads as such, not as 3; fast rates stay whole."""
    return f"{steps_per_sec:.1f}" if steps_per_sec < 10 else f"{steps_per_sec:,.0f}"


def _pace(snap: Snapshot) -> list[str]:
    """The measured rate while running (only then, so a paused screen is the same every
    time), and the speed limit (keys < and >) whenever one is set."""
    limit = snap.speed
    if snap.state == "running":
        of = f" of {limit:,g}" if limit is not None else ""
        return [f"{_rate(snap.steps_per_sec)}{of} steps/s"]
    return [f"speed {limit:,g} steps/s"] if limit is not None else []


def _metrics(snap: Snapshot) -> list[str]:
    parts: list[str] = []
    if snap.last is not None:
        parts.append(f"batch loss {_loss(snap.last.loss)}")
    ev = snap.last_eval
    if ev is not None:
        is_classifier = snap.task == "classification"
        train = _loss(ev.train_loss) + (f" acc {_acc(ev.train_accuracy)}" if is_classifier else "")
        val = _loss(ev.val_loss) + (f" acc {_acc(ev.val_accuracy)}" if is_classifier else "")
        parts.append(f"eval at step {ev.step:,}: train {train}, val {val}")
    return parts


PARTS: tuple[Callable[[Snapshot], list[str]], ...] = (
    lambda s: [STATE_LABELS.get(s.state, s.state.upper())],
    lambda s: [f"step {s.step:,}", _epoch(s.epoch)],
    _pace,
    _metrics,
    lambda s: [s.error] if s.error else [STATE_HINTS[s.state]] if s.state in STATE_HINTS else [],
)


def status_parts(snap: Snapshot) -> list[str]:
    return [part for fn in PARTS for part in fn(snap)]


def flow(parts: list[str], width: int) -> list[str]:
    """The parts on lines of at most `width` cells: each on the first line with room for
    it (the hint after the numbers fills the state's line), else on a new line. A part
    longer than a line takes new lines, broken after its colons and commas."""
    lines: list[str] = []
    for part in parts:
        if len(part) > width:
            lines += flow_pieces(BREAKS.split(part), width)
            continue
        room = (i for i, line in enumerate(lines) if len(line + SEPARATOR + part) <= width)
        at = next(room, None)
        if at is None:
            lines.append(part)
        else:
            lines[at] += SEPARATOR + part
    return lines


def flow_pieces(pieces: list[str], width: int) -> list[str]:
    """Pieces in order on new lines, one space apart (a piece longer than the line is
    left to wrap)."""
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return lines


class StatusLine(Static):
    """The bottom lines; updated from the polled snapshot, never per step."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)  # error texts may hold brackets
        self._snap: Snapshot | None = None
        self._shape: tuple[int, ...] = ()

    def refresh_from(self, snap: Snapshot) -> None:
        self._snap = snap
        self.set_class(snap.error is not None, "-error")
        width = self.content_size.width or self.app.size.width
        lines = flow(status_parts(snap), max(1, width))
        # A layout pass only when the lines change in number or overflow (and wrap):
        # most polls change numbers only, which keeps each poll cheap.
        shape = (len(lines), *(len(line) > width for line in lines))
        self.update("\n".join(lines), layout=shape != self._shape)
        self._shape = shape

    def on_resize(self, event: events.Resize) -> None:
        if self._snap is not None:
            self.refresh_from(self._snap)
