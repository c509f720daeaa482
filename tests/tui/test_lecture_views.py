"""The lecture views: the depth profile's one x axis, the matrix form in the
lecture's orientation with numbers for 16-unit layers (paged when wider), and the
scenario screen's "look at"."""

from __future__ import annotations

import numpy as np
import pytest
from pilot_helpers import CONFIG, SIZE
from rich.console import Console
from textual.widgets import OptionList

from engine import ExperimentConfig, Trainer
from engine.lecture.profiles import PROFILES, ProfileResult, run_profile, shared_edges
from engine.lecture.scenarios import PLOT_TABS, SCENARIOS
from engine.train.diagnostics import LayerProfile
from tui_nn.app import LabApp
from tui_nn.charts import PLOTS
from tui_nn.screens.depth import BARS, BINS, DepthResult, profile_table
from tui_nn.screens.matrix import PAGE, MatrixScreen, form_text, page_units, read_form
from tui_nn.screens.scenarios import ScenarioScreen

pytestmark = pytest.mark.usefixtures("ui_idle")


def rendered(renderable: object, width: int) -> list[str]:
    console = Console(width=width, record=True)
    console.print(renderable)
    return console.export_text().splitlines()


def test_the_plot_tabs_are_the_lab_plots_in_order() -> None:
    assert tuple(spec.key for spec in PLOTS) == PLOT_TABS


# ----------------------------------------------------------------------------- depth


def test_every_layer_of_a_profile_is_binned_on_the_same_edges() -> None:
    result = run_profile(PROFILES["tanh_small"].model, bins=BINS)
    for layer in result.layers:
        np.testing.assert_array_equal(layer.edges, result.edges)
    # Symmetric about 0 with an odd number of bins: the collapsed layers pile up in the
    # middle bin, 0 at its centre.
    assert result.edges[0] == -result.edges[-1]
    middle = BINS // 2
    assert result.edges[middle] < 0 < result.edges[middle + 1]
    assert result.layers[-1].counts[middle] == result.layers[-1].counts.sum()


def synthetic(values: list[np.ndarray]) -> DepthResult:
    edges = shared_edges(values, BINS)
    layers = [
        LayerProfile(float(v.mean()), float(v.std()), np.histogram(v, bins=edges)[0], edges)
        for v in values
    ]
    return DepthResult("net", "test", ProfileResult(layers, [0.0] * len(values)), [8] * 10)


def test_the_same_value_falls_in_the_same_column_in_every_row() -> None:
    spread = np.linspace(-1.0, 1.0, 1000)
    values = [spread, *(np.full(1000, v) for v in (0.5, -0.75, 0.0, 1.0))]
    depth = synthetic(values * 2)  # 10 rows: row 10 as well as rows 1-9
    lines = rendered(profile_table(depth), 80)
    head = next(i for i, line in enumerate(lines) if line.startswith("layer"))
    start = lines[head].index("histogram") + 1  # a blank, then the bars
    rows = lines[head + 1 : head + 11]
    assert [row.split()[0] for row in rows] == [str(i) for i in range(1, 11)]
    edges = depth.result.edges
    for row, v in zip(rows, values * 2, strict=True):
        bars = row[start : start + BINS]
        assert all(c in BARS or c == " " for c in bars)
        if v.std() == 0:  # one value: one bar, in the column of its bin
            column = min(int(np.searchsorted(edges, v[0], side="right")) - 1, BINS - 1)
            assert [i for i, c in enumerate(bars) if c != " "] == [column]
        else:
            assert " " not in bars  # spread over the whole axis
    axis = lines[head + 11]
    assert axis.startswith("axis") and axis[start + BINS // 2] == "0"
    assert axis[start:].startswith("-1") and axis[start : start + BINS].rstrip().endswith("1")


def test_no_span_of_bars_starts_with_a_blank() -> None:
    # rsvg (the screenshot renderer) drops a span's leading blanks: bars after blanks in
    # the same span would be drawn shifted left, as row 10 was.
    depth = synthetic([np.linspace(-1, 1, 100), np.full(100, 0.5)])
    console = Console(width=80)
    for segment in console.render(profile_table(depth)):
        if any(c in BARS for c in segment.text):
            assert not segment.text.startswith(" "), repr(segment.text)


# ----------------------------------------------------------------------------- matrix


def test_the_matrix_form_is_in_the_lectures_orientation() -> None:
    trainer = Trainer(CONFIG.with_changes(model={"hidden": [4, 3]}))
    trainer.run(3)
    form = read_form(trainer)
    for shown, layer in zip(form.layers, trainer.network.layers, strict=True):
        W = layer.W.astype(np.float64)
        assert shown.W.shape == (layer.units, W.shape[0])  # (fan_out, fan_in)
        for i in range(layer.units):  # row i: unit i's incoming weights
            np.testing.assert_array_equal(shown.W[i], W[:, i])
    x = form.X[:, 0]  # a sample as a column
    np.testing.assert_array_equal(x, trainer.X_train[0].astype(np.float64))
    first = form.layers[0]
    np.testing.assert_allclose(first.z[:, 0], first.W @ x + first.b, rtol=1e-12)
    logits = trainer.network.astype(np.float64).forward(form.X.T)
    np.testing.assert_allclose(form.layers[-1].a.T, logits, rtol=1e-12)


def test_maxout_rows_are_each_units_pieces() -> None:
    trainer = Trainer(CONFIG.with_changes(model={"hidden": [3], "activation": "maxout"}))
    form = read_form(trainer)
    W = trainer.network.layers[0].W.astype(np.float64)  # (fan_in, units, pieces)
    assert form.layers[0].W.shape == (6, 2)
    for u in range(3):
        for j in range(2):
            np.testing.assert_array_equal(form.layers[0].W[u * 2 + j], W[:, u, j])
    np.testing.assert_array_equal(form.layers[0].a, form.layers[0].z.reshape(3, 2, -1).max(1))


def test_the_zero_init_preset_shows_its_identical_rows() -> None:
    scenario = SCENARIOS["zero_init"]  # 16, 16
    trainer = Trainer(scenario.config)
    trainer.run(scenario.steps)
    form = read_form(trainer)
    assert form.small and form.pages == 1
    for width in (76, 114):  # 80 and 120 columns, less the border and the scrollbar
        lines = rendered(form_text(form, width), width + 4)
        assert max(len(line) for line in lines) <= width
        for layer in (1, 2):
            rows = unit_rows(lines, f"layer {layer}:", f"W{layer}")
            assert len(rows) == 16 and len(set(rows)) == 1  # 16 units, all the same
            numbers = rows[0].split()
            assert len(numbers) == (2 if layer == 1 else 16)
    # The counter-example's units differ.
    counter = Trainer(scenario.counterexample_config)
    lines = rendered(form_text(read_form(counter), 114), 118)
    assert len(set(unit_rows(lines, "layer 2:", "W2"))) == 16


def unit_rows(lines: list[str], layer: str, name: str) -> list[str]:
    """The numbers of each unit's row of matrix `name` in `layer`'s section, joined over
    its column blocks (W2 inputs 1-8, W2 inputs 9-16)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(layer))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("layer ")), None)
    rows: dict[str, list[str]] = {}
    column = None
    for line in lines[start + 1 : end]:
        if line.startswith("unit"):
            column = line.find(name + " ") if (name + " ") in line else line.find(name)
            if not line[column:].startswith(name):
                column = None
            continue
        if column is None or not line or not line[0].isdigit():
            continue
        cell = line[column:].split("]")[0].strip("[ ")
        rows.setdefault(line.split()[0], []).extend(cell.split())
    return [" ".join(v) for v in rows.values()]


def test_a_layer_wider_than_a_page_is_paged() -> None:
    form = read_form(Trainer(CONFIG.with_changes(model={"hidden": [40, 4]})))
    assert form.small and form.pages == 3
    wide, narrow = form.layers[0], form.layers[1]
    assert list(page_units(wide, 0)) == list(range(PAGE))
    assert list(page_units(wide, 2)) == list(range(32, 40))
    assert list(page_units(narrow, 2)) == list(range(4))  # fits a page: always whole
    lines = rendered(form_text(form, 76, page=2), 80)
    text = "\n".join(lines)
    assert "(units 33-40 of 40)" in text and "page 3 of 3" in text
    rows = unit_rows(lines, "layer 1:", "W1")
    assert len(rows) == 8
    labels = [line.split()[0] for line in lines if line[:2] in ("33", "40")]
    assert "33" in labels and "40" in labels


def test_a_net_too_wide_for_numbers_shows_shapes_only() -> None:
    form = read_form(Trainer(CONFIG.with_changes(model={"hidden": [100]})))
    assert not form.small and all(f.W.size == 0 for f in form.layers)
    text = "\n".join(rendered(form_text(form, 76), 80))
    assert "100 x 2" in text and "at most 64 units" in text and "[ " not in text


async def test_the_matrix_view_pages_with_the_bracket_keys() -> None:
    app = LabApp(CONFIG.with_changes(model={"hidden": [40]}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, MatrixScreen) and screen.page == 0
        await pilot.press("right_square_bracket")
        assert screen.page == 1
        text = "\n".join(rendered(screen.query_one("#matrix-text").content, 120))
        assert "(units 17-32 of 40)" in text
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert screen.page == 2  # the last page
        await pilot.press("left_square_bracket")
        assert screen.page == 1


async def test_the_matrix_view_has_no_pages_for_a_16_unit_net() -> None:
    app = LabApp(CONFIG)  # 16, 16
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        screen = app.screen
        assert screen.form.small and screen.form.pages == 1
        await pilot.press("right_square_bracket")
        assert screen.page == 0
        text = "\n".join(rendered(screen.query_one("#matrix-text").content, 120))
        assert "W2" in text and "units 1-16" not in text


# ----------------------------------------------------------------------------- scenarios


async def test_the_scenario_screen_says_what_to_look_at() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, ScenarioScreen)
        options = app.screen.query_one(OptionList)
        for name in ("zero_init", "sigmoid_large_init"):
            options.highlighted = list(SCENARIOS).index(name)
            await pilot.pause()
            details = " ".join(rendered(app.screen.query_one("#scenario-details").content, 200))
            scenario = SCENARIOS[name]
            assert f"look at (plot {scenario.plot}, {PLOT_TABS[scenario.plot - 1]})" in details
            assert scenario.look_at.split(":")[0] in details


def test_reading_the_form_leaves_the_weights_alone() -> None:
    config = ExperimentConfig().with_changes(data={"n_samples": 120})
    trainer = Trainer(config)
    before = trainer.network.theta.copy()
    read_form(trainer)
    np.testing.assert_array_equal(trainer.network.theta, before)
