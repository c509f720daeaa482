"""The PlotsPanel widget (tui_nn.widgets.plots): which plot it draws, and when."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

from fakes import FakeClock, FakeHistory, make_evals
from pilot_helpers import wait_until
from textual.app import App, ComposeResult

from tui_nn.widgets.chart import Chart
from tui_nn.widgets.plots import PlotsPanel

# -------------------------------------------------------------------- widget


def make_snapshot(
    step: int, run_id: int = 0, n_evals: int = 3, state: str = "running"
) -> SimpleNamespace:
    history = FakeHistory(max(step, 1))
    return SimpleNamespace(
        version=step,
        run_id=run_id,
        state=state,
        step=step,
        evals=tuple(make_evals(n_evals)),
        has_history=True,
        series=history.series,
        series_many=lambda names, n: [history.series(name, n) for name in names],
        n_layers=3,
        config=SimpleNamespace(
            model=SimpleNamespace(hidden=[16, 16]), training=SimpleNamespace(eval_every=10)
        ),
        activation="relu",
        task="classification",
        boundary=None,
        marks=(),
    )


class PlotsApp(App[None]):
    def __init__(self, min_interval: float = 0.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.min_interval, self.clock = min_interval, clock

    def compose(self) -> ComposeResult:
        yield PlotsPanel(min_interval=self.min_interval, clock=self.clock)


async def test_panel_redraws_only_when_data_changes() -> None:
    app = PlotsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        snap = make_snapshot(100)
        panel.refresh_from(snap)
        assert panel.draws == 1
        panel.refresh_from(snap)
        panel.refresh_from(snap)
        assert panel.draws == 1  # unchanged: skipped
        panel.refresh_from(make_snapshot(101))
        assert panel.draws == 2
        panel.refresh_from(make_snapshot(101, run_id=1))  # a reset run, same step
        assert panel.draws == 3
        await pilot.pause()


async def test_panel_draws_only_the_visible_plot() -> None:
    app = PlotsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        snap = make_snapshot(200)
        panel.refresh_from(snap)
        assert panel.draws == 1 and panel.active == 1
        panel.show_tab(4)
        assert panel.active == 4 and panel.active_key == "grad"
        assert panel.draws == 2  # drawn at once, not at the next poll
        panel.show_tab(1)
        assert panel.draws == 2  # loss is still current: nothing to redraw
        panel.show_tab(9)  # out of range: ignored
        assert panel.active == 1
        await pilot.pause()
        plot = panel.query_one("#plot-loss")
        assert plot.display and not panel.query_one("#plot-grad").display


async def test_panel_redraws_at_most_every_min_interval_and_keeps_the_last_data() -> None:
    clock = FakeClock()
    app = PlotsApp(min_interval=0.2, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        panel.refresh_from(make_snapshot(100))
        assert panel.draws == 1
        clock.now += 0.1
        panel.refresh_from(make_snapshot(101))
        panel.refresh_from(make_snapshot(102))
        assert panel.draws == 1  # too soon: held back
        panel.show_tab(2)
        assert panel.draws == 2  # a key press draws at once
        panel.refresh_from(make_snapshot(102, run_id=1))
        assert panel.draws == 3  # so does a new run
        panel.refresh_from(make_snapshot(103, run_id=1))
        assert panel.draws == 3
        # The held-back step shows by the panel's own timer, without another poll.
        await wait_until(pilot, lambda: panel.draws == 4)
        assert panel._drawn["accuracy"][1] == 103
        clock.now += 0.2
        panel.refresh_from(make_snapshot(104, run_id=1))
        assert panel.draws == 5  # min_interval later, a poll draws at once
        panel.refresh_from(make_snapshot(105, run_id=1, state="done"))
        assert panel.draws == 6  # a run that stopped shows its last data at once


def title(panel: PlotsPanel) -> str:
    """The first row of the visible plot: its title and the view it is drawn with."""
    chart = panel.query_one(f"#plot-{panel.active_key}", Chart)
    return chart.text.splitlines()[0]


async def test_smoothing_and_zoom_cycle_redraw_at_once_and_show_in_the_title() -> None:
    app = PlotsApp(min_interval=10.0)  # no poll draws: only the keys do
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        panel.refresh_from(make_snapshot(2000))
        draws = panel.draws
        seen = []
        for _ in range(4):
            panel.cycle_smoothing()
            seen.append(title(panel))
        assert panel.draws == draws + 4  # each press draws at once, however soon
        assert ["EMA 0.6" in seen[0], "EMA 0.9" in seen[1], "EMA 0.99" in seen[2]] == [True] * 3
        assert "EMA" not in seen[3]  # the fourth press turns it off
        panel.cycle_zoom()
        assert "first 200 steps" in title(panel) and panel.view.zoom == "first"
        panel.cycle_zoom()
        assert "last 200 steps" in title(panel)
        panel.cycle_zoom()
        assert "steps" not in title(panel) and panel.view.zoom == "all"
        panel.show_tab(4)
        panel.cycle_smoothing()
        assert "EMA 0.6" in title(panel)  # one view for every plot


async def test_a_new_mark_redraws_the_plot() -> None:
    """A rate changed while paused adds a mark and no step: the plot still redraws."""
    app = PlotsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        snap = make_snapshot(500, state="paused")
        panel.refresh_from(snap)
        draws = panel.draws
        mark = SimpleNamespace(step=500, kind="lr", label="lr 0.5")
        panel.refresh_from(SimpleNamespace(**{**vars(snap), "marks": (mark,)}))
        assert panel.draws == draws + 1
        chart = panel.query_one("#plot-loss", Chart)
        assert chart.text.splitlines()[-1].endswith("lr 0.5▲")  # at the right edge
