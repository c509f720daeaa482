"""tui_nn.charts (reduction, log ticks, every plot builds twice) and the PlotsPanel widget."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual_plotext import Plot

from tui_nn import charts as P
from tui_nn.widgets.plots import PlotsPanel

# ------------------------------------------------------------------ reduction


def test_reduce_minmax_bounds_and_extremes() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(1, 100_001, dtype=float)
    values = rng.normal(size=len(steps))
    values[12_345] = 50.0  # a spike must survive the reduction
    values[77_777] = -50.0
    s, mean, lo, hi = P.reduce_minmax(steps, values, values, 200)
    assert 0 < len(s) <= 200
    assert len(s) == len(mean) == len(lo) == len(hi)
    assert np.all(np.diff(s) > 0)
    assert s[0] == steps[0] and s[-1] <= steps[-1]
    assert hi.max() == 50.0 and lo.min() == -50.0
    assert np.all(lo <= mean) and np.all(mean <= hi)
    assert np.all(lo >= values.min()) and np.all(hi <= values.max())


def test_reduce_minmax_bucket_contents_are_exact() -> None:
    steps = np.arange(10, dtype=float)
    values = np.array([3, 1, 2, 9, 5, 4, 0, 8, 7, 6], dtype=float)
    s, mean, lo, hi = P.reduce_minmax(steps, values, values, 2)
    assert s.tolist() == [0.0, 5.0]
    assert lo.tolist() == [1.0, 0.0]
    assert hi.tolist() == [9.0, 8.0]
    assert mean.tolist() == pytest.approx([4.0, 5.0])


def test_reduce_minmax_is_a_no_op_when_short() -> None:
    steps = np.arange(5, dtype=float)
    s, mean, lo, hi = P.reduce_minmax(steps, steps - 1, steps + 1, 10, mean=steps)
    assert s.tolist() == steps.tolist() and mean.tolist() == steps.tolist()
    assert lo.tolist() == (steps - 1).tolist() and hi.tolist() == (steps + 1).tolist()


def test_reduce_minmax_uneven_steps_are_bucketed_by_step() -> None:
    # A multi-resolution history: coarse old steps, dense new ones.
    steps = np.concatenate([np.arange(0, 1000, 100), np.arange(1000, 2000)]).astype(float)
    s, *_ = P.reduce_minmax(steps, steps, steps, 20)
    assert len(s) <= 20
    assert s[0] == 0 and s[-1] >= 1900  # both ends of the run are still there


def test_envelope_alternates_min_and_max() -> None:
    x, y = P.envelope(np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array([5.0, 6.0]))
    assert x.tolist() == [1.0, 1.0, 2.0, 2.0]
    assert y.tolist() == [0.0, 5.0, 1.0, 6.0]


def test_log10_safe_floors_zero_and_negative() -> None:
    out = P.log10_safe(np.array([1e-3, 0.0, -1.0, 100.0, np.nan, np.inf]))
    assert out[:4].tolist() == pytest.approx([-3.0, -12.0, -12.0, 2.0])
    assert not np.isfinite(out[4:]).any()  # left for draw_lines to drop, not drawn as 0


# ---------------------------------------------------------------------- ticks


@pytest.mark.parametrize(
    ("exponent", "label"),
    [
        (-3, "1e-3"),
        (-2, "0.01"),
        (-1, "0.1"),
        (0, "1"),
        (1, "10"),
        (2, "100"),
        (3, "1e3"),
        (6, "1e6"),
        (-12, "1e-12"),
        (math.log10(5e-4), "5e-4"),
        (math.log10(2e-5), "2e-5"),
        (math.log10(0.5), "0.5"),
        (math.log10(50), "50"),
    ],
)
def test_format_log_tick(exponent: float, label: str) -> None:
    assert P.format_log_tick(exponent) == label


def test_log_ticks_whole_decades() -> None:
    ticks, labels = P.log_ticks(-4.3, 0.2, max_ticks=10)
    assert ticks == [-4.0, -3.0, -2.0, -1.0, 0.0]
    assert labels == ["1e-4", "1e-3", "0.01", "0.1", "1"]


def test_log_ticks_thinned_to_max() -> None:
    ticks, labels = P.log_ticks(-12, 3, max_ticks=4)
    assert 2 <= len(ticks) <= 4
    assert all(t == int(t) for t in ticks)
    assert len(labels) == len(ticks)


def test_log_ticks_inside_one_decade_uses_1_2_5() -> None:
    ticks, labels = P.log_ticks(math.log10(1.5e-3), math.log10(8e-3), max_ticks=6)
    assert labels == ["2e-3", "5e-3"]
    assert ticks == pytest.approx([math.log10(2e-3), math.log10(5e-3)])


def test_log_ticks_flat_and_non_finite() -> None:
    ticks, _ = P.log_ticks(-3.0, -3.0)
    assert -3.0 in ticks
    assert P.log_ticks(float("nan"), 1.0) == ([], [])


def test_step_ticks_are_round_and_readable() -> None:
    ticks, labels = P.step_ticks(0, 1_000_000, max_ticks=5)
    assert labels == ["0", "250k", "500k", "750k", "1M"]
    assert ticks[0] == 0 and ticks[-1] == 1_000_000
    assert P.format_steps(2500) == "2.5k"
    assert P.format_steps(999) == "999"


# ----------------------------------------------------------------- plot input


class FakeHistory:
    """Stands in for engine.train.history.History: a series per column name."""

    def __init__(self, n: int, n_layers: int = 3, start: int = 1) -> None:
        self.steps = np.arange(start, start + n, dtype=float)
        rng = np.random.default_rng(1)
        self.columns: dict[str, np.ndarray] = {
            "loss": np.exp(-self.steps / max(1, n)) + 0.1 * rng.random(n),
            "accuracy": 1.0 - 0.5 * np.exp(-self.steps / max(1, n)),
        }
        for i in range(n_layers):
            self.columns[f"layers.{i}.grad_norm_W"] = 10.0 ** (-i - rng.random(n))
            self.columns[f"layers.{i}.update_ratio"] = 10.0 ** (-3.0 + 0.2 * rng.random(n))
            self.columns[f"layers.{i}.dead"] = np.minimum(8, self.steps // 10)
            self.columns[f"layers.{i}.saturated"] = np.minimum(4, self.steps // 20)
        self.calls: list[tuple[str, int]] = []

    def series(self, name: str, max_points: int) -> SimpleNamespace:
        self.calls.append((name, max_points))
        v = self.columns[name]
        return SimpleNamespace(steps=self.steps, mean=v, min=v, max=v)


def make_evals(n: int, every: int = 10) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            step=s,
            train_loss=1.0 / s,
            train_accuracy=0.5,
            val_loss=1.2 / s,
            val_accuracy=0.4,
            dead=[0],
        )
        for s in range(every, n * every + 1, every)
    ]


def make_input(n: int = 500, activation: str = "relu", task: str = "classification") -> P.PlotInput:
    history = FakeHistory(n)
    evals = P.EvalCache().update(make_evals(n // 10), run=0)
    return P.PlotInput(
        series=history.series,
        evals=evals,
        n_layers=3,
        hidden=(16, 16),
        activation=activation,
        task=task,
    )


@pytest.mark.parametrize("spec", P.PLOTS, ids=[s.key for s in P.PLOTS])
@pytest.mark.parametrize("color", [True, False], ids=["color", "no-color"])
def test_every_plot_builds_twice(spec: P.PlotSpec, color: bool) -> None:
    """plotext's log axis fails on a second build; ours must not."""
    plt = Plot()
    for _ in range(2):
        spec.draw(plt, make_input(), 80, 20, color)
        plt.plotsize(80, 20)
        first = plt.build()
        second = plt.build()
        assert first == second
    assert "math domain" not in first


@pytest.mark.parametrize("spec", P.PLOTS, ids=[s.key for s in P.PLOTS])
def test_every_plot_builds_with_no_data(spec: P.PlotSpec) -> None:
    plt = Plot()
    spec.draw(plt, P.PlotInput(n_layers=3, hidden=(16, 16)), 60, 15, True)
    plt.plotsize(60, 15)
    assert "no steps yet" in plt.uncolorize(plt.build())


def test_log_plot_labels_ticks_as_numbers() -> None:
    plt = Plot()
    P.draw_update_ratio(plt, make_input(), 80, 20, True)
    plt.plotsize(80, 20)
    text = plt.uncolorize(plt.build())
    assert "1e-3" in text  # the reference line's legend and the tick
    assert "-3.0" not in text  # log10 values never show as raw numbers


def test_units_plot_shows_saturation_only_for_saturating_activations() -> None:
    plt = Plot()
    P.draw_units(plt, make_input(activation="tanh"), 100, 20, True)
    plt.plotsize(100, 20)
    text = plt.uncolorize(plt.build())
    assert "L1 sat" in text and "saturated" in text
    assert "L1 4/16" in text  # saturated now: the count and the width
    P.draw_units(plt, make_input(activation="relu"), 100, 20, True)
    text = plt.uncolorize(plt.build())
    assert "sat" not in text and "dead" in text
    assert "L1 8/16" in text


def test_long_titles_are_cut_to_the_width() -> None:
    plt = Plot()
    P.draw_units(plt, make_input(activation="tanh"), 30, 12, True)
    plt.plotsize(30, 12)
    first_line = plt.uncolorize(plt.build()).splitlines()[0]
    assert "…" in first_line and first_line.strip().startswith("dead")


def test_layer_series_are_requested_at_half_the_plot_width() -> None:
    history = FakeHistory(10_000)
    data = P.PlotInput(series=history.series, n_layers=3, hidden=(16, 16))
    P.draw_grad_norm(Plot(), data, 70, 20, True)
    # Per-layer lines take a point every two columns (see plots._per_layer).
    assert history.calls and all(points == 35 for _, points in history.calls)


def test_accuracy_plot_explains_regression() -> None:
    plt = Plot()
    P.draw_accuracy(plt, make_input(task="regression"), 80, 20, True)
    plt.plotsize(80, 20)
    assert "regress" in plt.uncolorize(plt.build())


def test_eval_cache_converts_only_new_records_and_resets_on_new_run() -> None:
    cache = P.EvalCache()
    evals = make_evals(5)
    cols = cache.update(evals, run=1)
    assert cols.step.tolist() == [10, 20, 30, 40, 50]
    assert cache.update(evals, run=1) is cols  # nothing new: the same arrays
    evals.append(
        SimpleNamespace(step=60, train_loss=1, train_accuracy=1, val_loss=2, val_accuracy=None)
    )
    cols = cache.update(evals, run=1)
    assert cols.step.tolist()[-1] == 60 and cols.val_loss.tolist()[-1] == 2
    assert math.isnan(cols.val_acc[-1])  # regression runs have no accuracy
    cols = cache.update(make_evals(2), run=2)
    assert cols.step.tolist() == [10, 20]


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
        config=SimpleNamespace(model=SimpleNamespace(hidden=[16, 16])),
        activation="relu",
        task="classification",
        boundary=None,
    )


class PlotsApp(App[None]):
    def __init__(self, min_interval: float = 0.0) -> None:
        super().__init__()
        self.min_interval = min_interval

    def compose(self) -> ComposeResult:
        yield PlotsPanel(min_interval=self.min_interval)


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
    app = PlotsApp(min_interval=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(PlotsPanel)
        await pilot.pause()
        panel.refresh_from(make_snapshot(100))
        assert panel.draws == 1
        panel.refresh_from(make_snapshot(101))
        panel.refresh_from(make_snapshot(102))
        assert panel.draws == 1  # too soon: held back
        panel.show_tab(2)
        assert panel.draws == 2  # a key press draws at once
        panel.refresh_from(make_snapshot(102, run_id=1))
        assert panel.draws == 3  # so does a new run
        panel.refresh_from(make_snapshot(103, run_id=1))
        assert panel.draws == 3
        await pilot.pause(0.4)
        assert panel.draws == 4  # the held-back step shows without another poll
        assert panel._drawn["accuracy"][1] == 103
        panel.refresh_from(make_snapshot(104, run_id=1, state="done"))
        assert panel.draws == 5  # a run that stopped shows its last data at once
