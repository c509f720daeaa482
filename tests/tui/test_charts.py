"""tui_nn.charts: reduction, log ticks, and what each plot draws (plotext, no widget)."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import FakeHistory, make_evals

from tui_nn import charts as P

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


def test_log_axis_ticks_whole_decades() -> None:
    _, _, ticks = P.y_axis(P.LOG, -4.3, 0.2, 21)
    assert ticks == [-4.0, -3.0, -2.0, -1.0, 0.0]
    assert [P.tick_label(t, P.LOG) for t in ticks] == ["1e-4", "1e-3", "0.01", "0.1", "1"]


def test_log_axis_ticks_are_thinned_to_every_few_decades() -> None:
    _, _, ticks = P.y_axis(P.LOG, -12, 3, 12)
    assert 2 <= len(ticks) <= 6
    assert all(t == int(t) for t in ticks)
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1  # evenly


def test_log_axis_inside_one_decade_labels_round_numbers_or_its_ends() -> None:
    lo, hi = math.log10(1.5e-3), math.log10(8e-3)
    digits = {f"{m}e-3" for m in range(2, 9)}
    for rows in range(4, 30):
        _, _, ticks = P.y_axis(P.LOG, lo, hi, rows)
        labels = {P.tick_label(t, P.LOG) for t in ticks}
        assert len(labels) >= 2
        assert labels <= digits | {P.format_log_tick(lo), P.format_log_tick(hi)}


def test_a_flat_axis_gets_a_range() -> None:
    bottom, top, ticks = P.y_axis(P.LOG, -3.0, -3.0, 10)
    assert bottom < -3.0 < top and ticks


def test_step_ticks_are_round_and_readable() -> None:
    ticks, labels = P.step_ticks(0, 1_000_000, max_ticks=5)
    assert labels == ["0", "250k", "500k", "750k", "1M"]
    assert ticks[0] == 0 and ticks[-1] == 1_000_000
    assert P.format_steps(2500) == "2.5k"
    assert P.format_steps(999) == "999"


# ----------------------------------------------------------------- plot input


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


HD_BLOCKS = set("▘▝▀▖▌▞▛▗▚▐▜▄▙▟█")  # plotext's hd marker cells
BRAILLE = {chr(c) for c in range(0x2801, 0x2900)}  # plotext's braille cells (not the blank)


def canvas_marks(text: str, color: bool, header: int) -> int:
    """Cells holding a data mark: braille and hd blocks with colour, the lines' marker
    characters without. The header rows (title and legend) are left out."""
    marks = HD_BLOCKS | BRAILLE if color else set(P.MONO_MARKERS)
    return sum(ch in marks for row in text.splitlines()[header:] for ch in row)


def built_twice(spec: P.PlotSpec, data: P.PlotInput, color: bool) -> tuple[str, int]:
    """The plot's text and its header's rows, drawn twice on one plot as the panel
    redraws it."""
    plt = P.new_plot()
    for _ in range(2):
        figure = spec.draw(plt, data, 80, 20, color)
        first = P.render(plt, figure, 80).plain
        # plotext's log axis fails on a second build; ours must not
        assert P.render(plt, figure, 80).plain == first
    return first, len(figure.header)


@pytest.mark.parametrize("spec", P.PLOTS, ids=[s.key for s in P.PLOTS])
@pytest.mark.parametrize("color", [True, False], ids=["color", "no-color"])
def test_every_plot_draws_its_data(spec: P.PlotSpec, color: bool) -> None:
    text, header = built_twice(spec, make_input(), color)
    assert "math domain" not in text and "no steps yet" not in text
    assert canvas_marks(text, color, header) >= 30  # lines across the canvas, not a frame
    assert built_twice(spec, make_input(n=300), color)[0] != text  # other data, other picture


@pytest.mark.parametrize("spec", P.PLOTS, ids=[s.key for s in P.PLOTS])
def test_every_plot_builds_with_no_data(spec: P.PlotSpec) -> None:
    assert "no steps yet" in built(spec.draw, P.PlotInput(n_layers=3, hidden=(16, 16)), 60, 15)


def test_log_plot_labels_ticks_as_numbers() -> None:
    text = built(P.draw_update_ratio, make_input(), 80, 20)
    assert "1e-3" in text  # the reference line's legend and the tick
    assert "-3.0" not in text  # log10 values never show as raw numbers


def built(draw: P.DrawFn, data: P.PlotInput, width: int = 100, height: int = 20) -> str:
    """The plot as the panel shows it: header, canvas and footer, as plain text."""
    plt = P.new_plot()
    return P.render(plt, draw(plt, data, width, height, True), width).plain


def test_a_run_at_step_0_shows_its_first_evaluation_on_a_labelled_log_axis() -> None:
    """Before any step there is one point: the evaluation at step 0 (the chance-level
    loss). Its log axis spans a decade around it, with the ticks on the axis."""
    evals = P.EvalCache().update(make_evals(1), run=0)  # val loss 1.2 at step 0
    text = built(P.draw_loss, P.PlotInput(evals=evals, n_layers=3, hidden=(16, 16)), 50, 10)
    assert "no steps yet" not in text
    ticks = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
    assert len(ticks) >= 2 and min(map(float, ticks)) < 1.2 < max(map(float, ticks))
    assert text.splitlines()[-1].split() == ["0"]  # the x axis: step 0, and no stray label


def test_units_plot_counts_dead_units_on_the_training_set_from_the_evaluations() -> None:
    """The dead count is the evaluations' (zero on every training sample), said in the
    title; the history holds no per-step dead column to read."""
    data = make_input(activation="relu")
    text = built(P.draw_units, data)
    assert P.DEAD_TITLE in text.splitlines()[0]
    last = make_evals(50)[-1].dead  # [8, 1]: the latest evaluation's counts
    assert f"L1 {last[0]}/16" in text and f"L2 {last[1]}/16" in text
    assert "sat" not in text  # ReLU does not saturate
    history = FakeHistory(500)
    P.draw_units(P.new_plot(), P.PlotInput(**{**vars(data), "series": history.series}), 100, 20)
    assert history.calls == []  # nothing per step for a unit that cannot saturate


def test_units_plot_draws_each_evaluation_as_a_share_of_the_width() -> None:
    lines: list[tuple[list[float], list[float]]] = []
    evals = P.EvalCache().update(make_evals(30), run=0)

    class Recorder:
        """Records what draw_lines hands plotext."""

        def __getattr__(self, name: str):
            def call(*args, **kwargs):
                if name == "plot":
                    lines.append((list(args[0]), list(args[1])))

            return call

    data = P.PlotInput(evals=evals, n_layers=3, hidden=(16, 4))
    P.draw_units(Recorder(), data, 100, 20)
    (x1, y1), (_, y2) = lines
    assert x1 == [10.0 * k for k in range(30)]  # step 0, then every 10
    assert y1 == [100.0 * min(8, 10 * k // 50) / 16 for k in range(30)]
    assert y2 == [25.0] * 30  # 1 of 4 units


def test_units_plot_shows_saturation_per_step_for_saturating_activations() -> None:
    text = built(P.draw_units, make_input(activation="tanh"), width=140)
    title = text.splitlines()[0]
    assert P.SATURATED_TITLE in title and P.DEAD_TITLE in title
    # Saturated now (per step), the count and the width: both layers alike, so L1's
    # line lies under L2's and the legend says so.
    assert "L1 sat under L2 sat 4/16" in text
    assert "L1 dead 8/16" in text  # and the dead units of the last evaluation


def test_units_plot_says_when_the_run_is_never_evaluated() -> None:
    data = P.PlotInput(**{**vars(make_input(activation="relu")), "eval_every": 0})
    assert P.NOT_EVALUATED in built(P.draw_units, data)


def test_long_titles_are_cut_before_the_legend_is() -> None:
    rows = built(P.draw_units, make_input(activation="tanh"), 60, 12).splitlines()
    assert rows[0].startswith("saturated") and "…" in rows[0]
    assert all(f"L{i} dead" in "".join(rows[:2]) for i in (1, 2))  # every key still there
    narrow = built(P.draw_units, make_input(activation="tanh"), 30, 12).splitlines()
    assert all(len(row) <= 30 for row in narrow)
    assert "+1" in narrow[1]  # too narrow for all: the keys left out are counted


def test_layer_series_are_requested_at_half_the_plot_width() -> None:
    history = FakeHistory(10_000)
    data = P.PlotInput(series=history.series, n_layers=3, hidden=(16, 16))
    P.draw_grad_norm(P.new_plot(), data, 70, 20, True)
    # Per-layer lines take a point every two columns (see charts._per_layer).
    assert history.calls and all(points == 35 for _, points in history.calls)


def test_accuracy_plot_explains_regression() -> None:
    assert "regress" in built(P.draw_accuracy, make_input(task="regression"), 80, 20)


def test_eval_cache_converts_only_new_records_and_resets_on_new_run() -> None:
    cache = P.EvalCache()
    evals = make_evals(5)
    cols = cache.update(evals, run=1)
    assert cols.step.tolist() == [0, 10, 20, 30, 40]
    assert cols.dead.shape == (5, 2) and cols.dead[:, 1].tolist() == [1.0] * 5
    assert cache.update(evals, run=1) is cols  # nothing new: the same arrays
    evals.append(
        SimpleNamespace(
            step=50, train_loss=1, train_accuracy=1, val_loss=2, val_accuracy=None, dead=[3, 0]
        )
    )
    cols = cache.update(evals, run=1)
    assert cols.step.tolist()[-1] == 50 and cols.val_loss.tolist()[-1] == 2
    assert cols.dead[-1].tolist() == [3.0, 0.0] and cols.dead.shape == (6, 2)
    assert math.isnan(cols.val_acc[-1])  # regression runs have no accuracy
    cols = cache.update(make_evals(2), run=2)
    assert cols.step.tolist() == [0, 10] and cols.dead.shape == (2, 2)
