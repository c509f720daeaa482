"""The guided tour: the lecture in its order, each stop a comparison trained side by side.

A stop says the idea in a few sentences, what to look at, and runs its comparison at once
(the compare view's plots, boundaries and table, with each run's verdict). right (or ])
goes to the next stop, left (or [) back; the compare view's keys work as there. Leaving
the tour (esc) stops its runs.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.lecture.tour import TOUR, Stop
from tui_nn.core.compare import CompareRunner, Entry
from tui_nn.screens.compare import POLL, CompareScreen


def runner_for(stop: Stop) -> CompareRunner:
    """The stop's comparison, built (not started)."""
    comparison = stop.comparison()
    entries = [Entry(run.config, run.scenario, run.label, run.claim) for run in comparison.runs]
    return CompareRunner(entries, comparison.title)


def stop_text(at: int) -> Text:
    stop = TOUR[at]
    text = Text(f"Tour {at + 1}/{len(TOUR)}: {stop.title}", style="bold")
    text.append("   → next, ← back, w: the whole text", style="dim")
    look = stop.what_to_look_at
    if look:  # first: on a short screen it is what must not scroll away
        text.append("\nLook at: ", style="bold")
        text.append(look)
    text.append("\n" + stop.text)
    return text


class TourScreen(CompareScreen):
    """The compare view under the stop's text; its runs are its own."""

    # With the compare view's keys (Textual adds the base class's bindings); esc or C
    # leaves the tour for the lab.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,right_square_bracket", "next_stop", "next", key_display="→"),
        Binding("left,left_square_bracket", "previous_stop", "back", key_display="←"),
        Binding("w", "expand", "text", show=False),
    ]

    def __init__(self, at: int = 0, poll: float = POLL) -> None:
        self.at = min(max(at, 0), len(TOUR) - 1)
        stop = TOUR[self.at]
        super().__init__(runner_for(stop), poll, plot=stop.comparison().plot)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tour-stop"):
            yield Static(stop_text(self.at), id="tour-text")
        yield from super().compose()

    # Textual calls CompareScreen's on_mount too (after this one): it shows the first plot
    # and starts the poll.
    def on_mount(self) -> None:
        self.runner.start()

    def on_unmount(self) -> None:
        self.runner.close()

    def _begin(self) -> None:
        """The stop's text, its plot and its runs, started."""
        stop = TOUR[self.at]
        self.query_one("#tour-text", Static).update(stop_text(self.at))
        self.plots.show_tab(stop.comparison().plot)
        self.runner.start()
        self._redraw()

    def _go(self, at: int) -> None:
        if not 0 <= at < len(TOUR) or at == self.at:
            return
        old = self.runner
        self.at = at
        self.use(runner_for(TOUR[at]))
        old.close()
        self._begin()

    def action_expand(self) -> None:
        """The stop's text whole (over the plots), or back to its few rows."""
        self.toggle_class("-expanded")

    def action_next_stop(self) -> None:
        self._go(self.at + 1)

    def action_previous_stop(self) -> None:
        self._go(self.at - 1)
