"""A redraw at most every `interval` seconds, for the widgets that follow a training run
(plots, the compare view's plots, the decision boundary): a request that comes sooner is
held, and a timer makes it once the interval is up, so the latest data still shows when
no further poll comes (the run stopped, a view covers the lab)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer
from textual.widget import Widget


class Throttle:
    def __init__(
        self,
        widget: Widget,
        draw: Callable[[], None],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._widget, self._draw, self._clock = widget, draw, clock
        self._drawn_at = -float("inf")
        self._timer: Timer | None = None

    def request(self, hold: bool = True) -> None:
        """Draw now; or, when `hold` and within `interval` of the last draw, once it is up."""
        wait = self._drawn_at + self.interval - self._clock()
        if hold and wait > 0:
            if self._timer is None:
                self._timer = self._widget.set_timer(wait, self._held)
            return
        self._draw()

    def drew(self) -> None:
        """Called by the draw when it drew (one that found nothing new does not count)."""
        self._drawn_at = self._clock()

    def _held(self) -> None:
        self._timer = None
        self._draw()
