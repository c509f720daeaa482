"""The base of the lab's full-screen views (scenarios, depth profile, gradient check,
matrix form, notes).

A modal screen, so only the view's own keys act while it is open (the lab's space or n
do not reach past it) and the footer lists just those; opaque, so it reads as a page.
A view that shows the run gets the run's `RunReader` from the app when it is pushed, and
the app's polled snapshots through `refresh_from`, as the lab's widgets do; it asks for
changes with messages (tui_nn.messages).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from textual.screen import ModalScreen

from tui_nn.core.runner import Snapshot


@dataclass
class ReadPace:
    """When a view reads the run again: while it trains at most every `interval` seconds
    (a later snapshot comes within a poll or two), and only a snapshot not read yet."""

    interval: float
    version: int = -1
    read_at: float = -float("inf")

    def too_soon(self, snapshot: Snapshot) -> bool:
        running = snapshot.state == "running"
        return running and time.monotonic() - self.read_at < self.interval

    def take(self, snapshot: Snapshot) -> bool:
        """True (and noted as read) for a snapshot not read yet."""
        if snapshot.version == self.version:
            return False
        self.version, self.read_at = snapshot.version, time.monotonic()
        return True


class View(ModalScreen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    View {
        background: $background;
    }
    """

    def refresh_from(self, snapshot: Snapshot) -> None:
        """A new snapshot of the run, at the app's poll rate when something changed."""

    def action_close(self) -> None:
        self.dismiss(None)
