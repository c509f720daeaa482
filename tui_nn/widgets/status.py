"""The status line: state, step, epoch, rate, train/validation loss and accuracy.

Plain text only (no colour carries meaning), so it reads the same with NO_COLOR.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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


def _loss(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "-"


def _acc(value: float) -> str:
    return f"{100 * value:.1f}%" if math.isfinite(value) else "-"


def _metrics(snap: Snapshot) -> list[str]:
    parts: list[str] = []
    if snap.last is not None:
        parts.append(f"loss {_loss(snap.last.loss)}")
    ev = snap.last_eval
    if ev is not None:
        is_classifier = snap.task == "classification"
        train = _loss(ev.train_loss) + (f" {_acc(ev.train_accuracy)}" if is_classifier else "")
        val = _loss(ev.val_loss) + (f" {_acc(ev.val_accuracy)}" if is_classifier else "")
        parts += [f"train {train}", f"val {val}"]
    return parts


PARTS: tuple[Callable[[Snapshot], list[str]], ...] = (
    lambda s: [STATE_LABELS.get(s.state, s.state.upper())],
    lambda s: [f"step {s.step}", f"epoch {s.epoch:.1f}"],
    # The rate is shown only while running, so a paused or test screen is deterministic.
    lambda s: [f"{s.steps_per_sec:,.0f} steps/s"] if s.state == "running" else [],
    _metrics,
    lambda s: [s.error] if s.error else [STATE_HINTS[s.state]] if s.state in STATE_HINTS else [],
)


def status_text(snap: Snapshot) -> str:
    return "  ".join(part for fn in PARTS for part in fn(snap))


class StatusLine(Static):
    """One line at the bottom; updated from the polled snapshot, never per step."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)  # error texts may hold brackets

    def refresh_from(self, snap: Snapshot) -> None:
        self.set_class(snap.error is not None, "-error")
        # One fixed line: no layout pass needed, which keeps each poll cheap.
        self.update(status_text(snap), layout=False)
