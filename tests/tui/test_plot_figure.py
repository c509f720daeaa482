"""tui_nn.charts' figures: lines told apart, lines under lines said, the log axis bounded
to the data, ticks on rows, smoothing, zoom and the series' size (plotext, no widget)."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fakes import FakeHistory, make_evals
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_nn import charts as P


class Recorder:
    """Stands in for plotext: records the lines a draw function hands it."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def __getattr__(self, name: str):
        def call(*args: Any, **kwargs: Any) -> None:
            if name == "plot":
                self.lines.append({"x": args[0], "y": args[1], **kwargs})

        return call


def many_layers(n_hidden: int, activation: str = "tanh", steps: int = 300) -> P.PlotInput:
    history = FakeHistory(steps, n_layers=n_hidden + 1)
    evals = [
        SimpleNamespace(**{**vars(e), "dead": [0] * n_hidden}) for e in make_evals(steps // 10)
    ]
    return P.PlotInput(
        series=history.series,
        evals=P.EvalCache().update(evals, run=0),
        n_layers=n_hidden + 1,
        hidden=(64,) * n_hidden,
        activation=activation,
        step=steps,
    )


def shown(draw: P.DrawFn, data: P.PlotInput, width: int = 100, height: int = 24) -> str:
    plt = P.new_plot()
    return P.render(plt, draw(plt, data, width, height, True), width).plain


# ----------------------------------------------------------------- many lines


@pytest.mark.parametrize("color", [True, False], ids=["color", "no-color"])
def test_twelve_lines_look_different(color: bool) -> None:
    """Six tanh layers: 12 lines on the units plot (saturated and dead per layer); the
    colours used to repeat past 10, with one marker for all."""
    plt = Recorder()
    P.draw_units(plt, many_layers(6), 100, 24, color)
    looks = [(line.get("color"), line.get("marker")) for line in plt.lines]
    assert len(looks) == 12 and len(set(looks)) == 12


def test_up_to_thirty_lines_get_their_own_colour_and_marker() -> None:
    looks = {P.line_style(i, True) for i in range(30)}
    assert len(looks) == 30
    assert len({P.line_style(i, False) for i in range(len(P.MONO_MARKERS))}) == len(P.MONO_MARKERS)


def test_a_layers_dead_line_takes_its_saturated_lines_colour_and_another_marker() -> None:
    plt = Recorder()
    P.draw_units(plt, many_layers(3), 100, 24, True)
    sat, dead = plt.lines[:3], plt.lines[3:]
    for s, d in zip(sat, dead, strict=True):
        assert s["color"] == d["color"] and s["marker"] != d["marker"]


def test_every_line_has_a_key_when_none_lie_under_another() -> None:
    """Six hidden layers and the output: seven gradient lines, seven keys (the legend
    used to stop at six)."""
    data = many_layers(6)
    history = FakeHistory(300, n_layers=7)
    for i in range(7):  # a decade apart: no line covers another
        history.columns[f"layers.{i}.grad_norm_W"] = np.full(300, 10.0**-i)
    data = P.PlotInput(**{**vars(data), "series": history.series})
    figure = P.draw_grad_norm(P.new_plot(), data, 120, 30, True)
    assert [key.text for key in figure.keys] == ["L1", "L2", "L3", "L4", "L5", "L6", "out"]
    assert len({key.rgb for key in figure.keys}) == 7


def test_lines_under_a_line_are_named_in_its_key() -> None:
    """tiny_init: the gradients of L1-L4 vanish to the same tiny value as L5's, and the
    four lines lie under L5's with nothing to say so."""
    history = FakeHistory(300, n_layers=7)
    for i in range(5):
        history.columns[f"layers.{i}.grad_norm_W"] = np.full(300, 1e-7)
    history.columns["layers.5.grad_norm_W"] = np.full(300, 1e-5)
    history.columns["layers.6.grad_norm_W"] = np.full(300, 1e-3)
    data = P.PlotInput(**{**vars(many_layers(6)), "series": history.series})
    figure = P.draw_grad_norm(P.new_plot(), data, 100, 20, True)
    assert [key.text for key in figure.keys] == ["L1-L4 under L5", "L6", "out"]


def test_names_of_several_lines_are_ranges_of_layers_per_kind() -> None:
    def line(i: int, kind: str) -> P.Line:
        return P.Line(np.zeros(1), np.zeros(1), P.layer_name(i, 7), i, kind, layer=i)

    lines = [line(i, "sat") for i in range(6)] + [line(i, "dead") for i in (0, 1, 3)]
    assert P._names(lines) == "L1-L6 sat, L1-L2,L4 dead"
    assert P._names([line(6, "")]) == "out"


def test_a_line_that_shows_is_not_said_to_lie_under() -> None:
    """Two lines that cross are both visible: neither is under the other."""
    x = np.arange(100.0)
    canvas = P.Canvas(left=4, cols=60, rows=12)
    rising = P._cells(x, x, (0, 99), (0, 99), canvas, "braille")
    falling = P._cells(x, 99 - x, (0, 99), (0, 99), canvas, "braille")
    assert P._covers([rising, falling]) == [None, None]
    assert P._covers([rising, rising.copy()]) == [1, None]


def test_the_cells_of_a_line_are_the_cells_plotext_draws() -> None:
    """Lines of every marker, drawn by plotext and read back cell by cell."""
    rng = np.random.default_rng(3)
    x = np.arange(40.0)
    y = np.cumsum(rng.normal(size=40))
    xlim, ylim = (0.0, 39.0), (float(y.min()) - 0.3, float(y.max()) + 0.7)
    for marker in ("braille", "hd", "dot", "x"):
        plt = P.new_plot()
        plt.theme("clear")
        plt.xaxes(True, False)
        plt.yaxes(True, False)
        plt.plot(x.tolist(), y.tolist(), marker=marker)
        plt.xlim(*xlim)
        plt.ylim(*ylim)
        plt.xticks([0, 39], ["0", "39"])
        plt.yticks([], [])
        plt._limit_size(False, False)
        plt.plotsize(41, 14)
        rows = plt.uncolorize(plt.build()).splitlines()[:12]
        drawn = np.array([[rows[11 - r][1 + c] != " " for r in range(12)] for c in range(40)])
        canvas = P.Canvas(left=1, cols=40, rows=12)
        assert (P._cells(x, y, xlim, ylim, canvas, marker) == drawn).all(), marker


# -------------------------------------------------------------------- the log axis


def zero_loss_run(steps: int = 200_000) -> P.PlotInput:
    """A long run whose batch losses reach exactly zero (the band's minima), its mean
    loss falling to 1e-3."""
    history = FakeHistory(steps)
    mean = 1e-3 + np.exp(-history.steps / (steps / 20))
    history.columns["loss"] = mean

    def series(name: str, n: int) -> SimpleNamespace:
        s = history.series(name, n)
        low = np.where(history.steps > steps / 10, 0.0, s.min) if name == "loss" else s.min
        return SimpleNamespace(steps=s.steps, mean=s.mean, min=low, max=s.max)

    evals = P.EvalCache().update(
        [
            SimpleNamespace(**{**vars(e), "val_loss": 1e-3 + 1.2 * math.exp(-e.step / 1e4)})
            for e in make_evals(200, every=steps // 200)
        ],
        run=0,
    )
    return P.PlotInput(series=series, evals=evals, n_layers=3, hidden=(16, 16), step=steps)


def test_exact_zero_losses_do_not_stretch_the_log_axis() -> None:
    """Zeros were drawn at 1e-12: a 12-decade axis squashing the informative range.
    They are drawn a few decades under the lowest line, and the legend says so."""
    figure = P.draw_loss(P.new_plot(), zero_loss_run(), 100, 24, True)
    assert figure.canvas is not None
    notes = [key.text for key in figure.keys if not key.glyph]
    assert notes == ["0 drawn at 1e-6"]  # 1e-3, the lowest decade of the lines, less 3
    plt = Recorder()
    P.draw_loss(plt, zero_loss_run(), 100, 24, True)
    assert min(min(line["y"]) for line in plt.lines) == pytest.approx(-6.0)


def test_a_log_plot_of_zeros_says_so() -> None:
    history = FakeHistory(100)
    for i in range(3):
        history.columns[f"layers.{i}.grad_norm_W"] = np.zeros(100)
    data = P.PlotInput(series=history.series, n_layers=3, hidden=(16, 16), step=100)
    figure = P.draw_grad_norm(P.new_plot(), data, 80, 20, True)
    assert any("all 0" in key.text for key in figure.keys)


def test_a_flat_log_line_is_not_blown_up_to_the_plots_height() -> None:
    """A gradient norm that barely moves stays on an axis of a decade at least."""
    history = FakeHistory(500)
    history.columns["layers.0.grad_norm_W"] = 0.05 * (1 + 0.01 * np.sin(history.steps))
    data = P.PlotInput(series=history.series, n_layers=1, step=500)
    text = shown(P.draw_grad_norm, data, 80, 20)
    rows_used = {i for i, row in enumerate(text.splitlines()) if any("⠁" <= c <= "⣿" for c in row)}
    assert len(rows_used) <= 4


# ---------------------------------------------------------------------- ticks


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-14, 4),
    st.floats(0.01, 14),
    st.integers(2, 40),
    st.booleans(),
)
def test_every_y_tick_sits_within_a_quarter_row_of_its_row(
    lo: float, span: float, rows: int, log: bool
) -> None:
    axis = P.LOG if log else P.PERCENT
    if not log:
        lo, span = 0.0, 100.0
    bottom, top, ticks = P.y_axis(axis, lo, lo + span, rows)
    assert bottom <= lo + 1e-9 and top >= lo + span - 1e-9  # the data is on the axis
    positions = [P.row_of(t, bottom, top, rows) for t in ticks]
    assert all(abs(p - round(p)) <= 0.25 for p in positions)
    assert all(-0.25 <= p <= rows - 0.75 for p in positions)
    assert all(round(b) - round(a) >= 2 for a, b in itertools.pairwise(positions))
    assert len(ticks) >= (2 if rows >= 4 else 1)


def test_an_aligned_axis_puts_every_tick_exactly_on_a_row() -> None:
    bottom, top, ticks = P.aligned_axis(-3.2, 0.1, 16, P.LOG.steps)
    assert ticks == [-3.0, -2.0, -1.0, 0.0]
    for t in ticks:
        assert P.row_of(t, bottom, top, 16) == pytest.approx(round(P.row_of(t, bottom, top, 16)))


def test_percent_ticks_never_pass_100() -> None:
    for rows in range(2, 40):
        _, _, ticks = P.y_axis(P.PERCENT, 0, 100, rows)
        assert ticks and max(ticks) <= 100 and min(ticks) >= 0


def test_step_ticks_are_whole_steps() -> None:
    assert P.step_ticks(0, 2, 5)[1] == ["0", "1", "2"]
    assert P.step_ticks(1, 2, 8)[1] == ["1", "2"]
    for last in (3, 7, 10, 33):
        ticks, _ = P.step_ticks(0, last, 9)
        assert all(t == int(t) for t in ticks)


# ----------------------------------------------------------- smoothing, zoom


def test_ema_of_a_step_moves_by_one_minus_beta_a_step() -> None:
    steps = np.arange(1.0, 11.0)
    values = np.r_[np.zeros(5), np.ones(5)]
    out = P.ema(steps, values, 0.9)
    assert out[:5].tolist() == [0.0] * 5
    assert out[5:].tolist() == pytest.approx([1 - 0.9**k for k in range(1, 6)])


def test_ema_over_buckets_counts_the_steps_a_bucket_holds() -> None:
    """A reduced series smooths as the raw one does (the smoothing means the same at any
    run length and zoom); weighting each bucket as one step would not."""
    rng = np.random.default_rng(0)
    steps = np.arange(1.0, 10_001.0)
    values = np.exp(-steps / 3000) + 0.1 * rng.random(len(steps))
    raw = P.ema(steps, values, 0.99)
    s, raw_in_buckets, _, _ = P.reduce_minmax(steps, raw, raw, 100, mean=raw)
    _, mean, _, _ = P.reduce_minmax(steps, values, values, 100)
    centres = s + 49.5  # a bucket's mean sits at its middle step
    assert np.abs(P.ema(centres, mean, 0.99) - raw_in_buckets).max() < 0.02
    as_one_step = P.ema(np.arange(100.0), mean, 0.99)
    assert np.abs(as_one_step - raw_in_buckets).max() > 0.2


def test_ema_skips_missing_values() -> None:
    out = P.ema(np.arange(4.0), np.array([np.nan, 1.0, np.nan, 3.0]), 0.5)
    assert math.isnan(out[0]) and out[1] == 1.0 and out[2] == 1.0
    assert out[3] == pytest.approx(0.25 * 1.0 + 0.75 * 3.0)  # two steps since the last


def test_views_cycle_and_say_what_they_show() -> None:
    view = P.View()
    seen = []
    for _ in range(4):
        view = view.next_smoothing()
        seen.append(view.smoothing)
    assert seen == [0.6, 0.9, 0.99, 0.0]
    zooms = [P.View().next_zoom().zoom, P.View().next_zoom().next_zoom().zoom]
    assert zooms == ["first", "last"] and P.View(zoom="last").next_zoom().zoom == "all"
    assert P.View(0.9, "last").describe(2000) == ["EMA 0.9", "last 200 steps"]
    assert P.View(zoom="first").window(1234) == (0.0, 200.0)
    assert P.View(zoom="last").window(1234) == (1034.0, 1234.0)
    assert P.View(zoom="first").window(30) == (0.0, 10.0)  # at least MIN_WINDOW steps
    assert P.View().window(1234) is None


def test_a_zoom_reads_the_window_in_detail_and_draws_only_it() -> None:
    history = FakeHistory(10_000)
    evals = P.EvalCache().update(make_evals(1001), run=0)
    data = P.PlotInput(series=history.series, evals=evals, n_layers=3, hidden=(16, 16), step=10_000)
    zoomed = P.PlotInput(**{**vars(data), "view": P.View(zoom="last")})
    plt = Recorder()
    P.draw_loss(plt, zoomed, 80, 20, True)
    assert history.calls[-1] == ("loss", 80 * P.ZOOM_SHARE)
    for line in plt.lines:
        assert min(line["x"]) >= 9000 and max(line["x"]) <= 10_000
    train = plt.lines[1]
    assert len(train["x"]) > 60  # the window at full detail, not a tenth of the points
    figure = P.draw_loss(P.new_plot(), zoomed, 80, 20, True)
    assert "last 1k steps" in figure.header[0].plain


def test_smoothing_shows_in_the_title_and_smooths_the_training_line() -> None:
    history = FakeHistory(400)
    data = P.PlotInput(series=history.series, n_layers=3, hidden=(16, 16), step=400)
    plain, smooth = Recorder(), Recorder()
    P.draw_loss(plain, data, 80, 20, True)
    smoothed = P.PlotInput(**{**vars(data), "view": P.View(smoothing=0.99)})
    P.draw_loss(smooth, smoothed, 80, 20, True)
    wiggle = [np.abs(np.diff(r.lines[1]["y"])).sum() for r in (plain, smooth)]
    assert wiggle[1] < 0.5 * wiggle[0]
    assert "EMA 0.99" in P.draw_loss(P.new_plot(), smoothed, 80, 20, True).header[0].plain


# --------------------------------------------------------------- size of series


@pytest.mark.parametrize("spec", P.PLOTS, ids=[s.key for s in P.PLOTS])
@pytest.mark.parametrize("view", [P.View(), P.View(0.9, "first"), P.View(0.0, "last")])
def test_every_series_is_reduced_to_about_twice_the_width(spec: P.PlotSpec, view: P.View) -> None:
    history = FakeHistory(100_000)
    data = P.PlotInput(
        series=history.series,
        evals=P.EvalCache().update(make_evals(10_001), run=0),
        n_layers=3,
        hidden=(16, 16),
        activation="tanh",
        step=100_000,
        view=view,
    )
    plt = Recorder()
    spec.draw(plt, data, 70, 20, True)
    assert plt.lines and all(len(line["x"]) <= 2 * 70 for line in plt.lines)


# ---------------------------------------------------------------------- legend


@pytest.mark.parametrize("width", [30, 50, 83, 120])
def test_the_legend_fits_its_rows_and_counts_what_it_leaves_out(width: int) -> None:
    keys = [P.Key(f"L{i} sat {i}/64", (1, 2, 3), "⠤⠤") for i in range(12)]
    for max_rows in (1, 2, 3):
        rows = P._header("saturated per step; dead", "EMA 0.9", keys, width, max_rows)
        assert 1 <= len(rows) <= max_rows
        assert all(row.cell_len <= width for row in rows)
        text = " ".join(row.plain for row in rows)
        assert "EMA 0.9" in text  # the view is said even when the title is cut
        left_out = sum(f"L{i} sat" not in text for i in range(12))
        assert left_out == 0 or f"+{left_out}" in text


def test_marks_outside_the_view_are_not_drawn() -> None:
    marks = (SimpleNamespace(step=100, kind="lr", label="lr 0.5"),)
    history = FakeHistory(10_000)
    data = P.PlotInput(
        series=history.series,
        n_layers=3,
        hidden=(16, 16),
        step=10_000,
        marks=marks,
        view=P.View(zoom="last"),
    )
    assert P.draw_loss(P.new_plot(), data, 80, 20, True).footer == ()
    whole = P.PlotInput(**{**vars(data), "view": P.View()})
    footer = P.draw_loss(P.new_plot(), whole, 80, 20, True).footer
    assert len(footer) == 1 and "▲lr 0.5" in footer[0].plain


def test_a_plot_input_reads_the_snapshots_step_and_marks() -> None:
    history = FakeHistory(10)
    marks = (SimpleNamespace(step=3, kind="reset", label="reset"),)
    snap = SimpleNamespace(
        has_history=True,
        series=history.series,
        series_many=None,
        n_layers=3,
        config=SimpleNamespace(
            model=SimpleNamespace(hidden=[4, 4]), training=SimpleNamespace(eval_every=5)
        ),
        activation="relu",
        task="classification",
        step=10,
        marks=marks,
    )
    data = P.PlotInput.from_snapshot(snap, P.EvalColumns(), P.View(zoom="first"))
    assert data.step == 10 and data.marks == marks and data.view.zoom == "first"
