"""The plots panel: one plot visible at a time, chosen by number (keys 1-5), with a
smoothing and a zoom that every plot follows (`cycle_smoothing`, `cycle_zoom`).

Redraw cost must not grow with the run: the series are reduced to the plot's width
(tui_nn.charts), and only the visible plot is redrawn, only when its data changed,
at the rate the app polls the runner but at most every `min_interval` seconds while
data streams in. A plotext build is pure Python and the runner's thread shares the GIL,
so each redraw is training time lost; a tab switch, a resize or a new run draw at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Static

from tui_nn.charts import PLOTS, EvalCache, PlotInput, PlotSpec, View, new_plot
from tui_nn.widgets.chart import Chart
from tui_nn.widgets.throttle import Throttle

MIN_INTERVAL = 0.5  # seconds between redraws while training: twice a second, like the boundary


class PlotTabs(Static):
    """One line naming the plots with their keys, the visible one highlighted.

    Not focusable: plots are chosen with the number keys, so tab keeps moving
    between the config fields.
    """

    DEFAULT_CSS = """
    PlotTabs {
        height: 1;
        width: 1fr;
    }
    """

    def show(self, active: int) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, spec in enumerate(PLOTS):
            label = f" {i + 1} {spec.tab} "
            text.append(label, style="reverse bold" if i == active else "dim")
        self.update(text)


class PlotsPanel(Vertical):
    """Plots 1-5; `show_tab(n)` picks one, `refresh_from(snapshot)` keeps it current."""

    DEFAULT_CSS = """
    PlotsPanel {
        height: 1fr;
        width: 1fr;
    }
    PlotsPanel > ContentSwitcher {
        height: 1fr;
    }
    PlotsPanel .chart {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        min_interval: float = MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._throttle = Throttle(self, self._redraw_visible, min_interval, clock)
        self._active = 0
        self._snapshot: Any = None
        self._evals = EvalCache()
        self._view = View()
        self._plots = {spec.key: new_plot() for spec in PLOTS}  # plotext's figures, a tab each
        # What each plot was last drawn from; equal keys mean nothing to redraw.
        self._drawn: dict[str, tuple[Any, ...]] = {}
        self._drawn_run: Any = None
        self.draws = 0  # how many plots were redrawn (tests, benchmark)

    def compose(self) -> ComposeResult:
        yield PlotTabs()
        with ContentSwitcher(initial=_plot_id(PLOTS[0])):
            for spec in PLOTS:
                yield Chart(id=_plot_id(spec), classes="chart")

    def on_mount(self) -> None:
        self.query_one(PlotTabs).show(self._active)

    @property
    def active(self) -> int:
        """The visible plot's number, 1-based like its key and its label."""
        return self._active + 1

    @property
    def active_key(self) -> str:
        return PLOTS[self._active].key

    def show_tab(self, number: int) -> None:
        """Show plot `number` (1-5, as on the tab and the key); other numbers are ignored."""
        if not 1 <= number <= len(PLOTS) or number - 1 == self._active:
            return
        self._active = number - 1
        self.query_one(ContentSwitcher).current = _plot_id(PLOTS[self._active])
        self.query_one(PlotTabs).show(self._active)
        # Draw now, not at the next poll: the key press should show at once.
        self._redraw_visible()

    @property
    def view(self) -> View:
        """The smoothing and zoom every plot is drawn with."""
        return self._view

    def cycle_smoothing(self) -> None:
        """EMA off -> 0.6 -> 0.9 -> 0.99 -> off; the plot's title says which."""
        self._view = self._view.next_smoothing()
        self._redraw_visible()

    def cycle_zoom(self) -> None:
        """Whole run -> its first tenth -> its last tenth -> whole run; the title says which."""
        self._view = self._view.next_zoom()
        self._redraw_visible()

    def refresh_from(self, snapshot: Any) -> None:
        """Take a runner Snapshot; redraws the visible plot if its data changed.

        Within `min_interval` of the last redraw the snapshot is kept and drawn by a
        timer, so the last data of a run that stopped still shows.
        """
        self._snapshot = snapshot
        # Only a running run is throttled: a paused or finished one shows its last data now.
        self._throttle.request(snapshot.run_id == self._drawn_run and snapshot.state == "running")

    def on_resize(self) -> None:
        # The bucket count follows the width: a new size is new data to draw.
        self._redraw_visible()

    def _redraw_visible(self) -> None:
        snapshot = self._snapshot
        if snapshot is None or not self.is_mounted:
            return
        spec = PLOTS[self._active]
        size = self.query_one(ContentSwitcher).content_size  # the same for every plot
        if size.width < 8 or size.height < 4:
            return
        color = not self.app.no_color
        key = (
            snapshot.run_id,
            snapshot.step,
            len(snapshot.evals),
            len(snapshot.marks),
            size,
            color,
            self._view,
        )
        if self._drawn.get(spec.key) == key:
            return
        evals = self._evals.update(snapshot.evals, snapshot.run_id)
        data = PlotInput.from_snapshot(snapshot, evals, self._view)
        plt = self._plots[spec.key]
        figure = spec.draw(plt, data, size.width, size.height, color)
        self.query_one(f"#{_plot_id(spec)}", Chart).draw(plt, figure, size.width)
        self._drawn[spec.key] = key
        self._throttle.drew()
        self._drawn_run = snapshot.run_id
        self.draws += 1


def _plot_id(spec: PlotSpec) -> str:
    return f"plot-{spec.key}"
