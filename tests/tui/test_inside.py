"""Issue 11's screens: a tile per unit, the similarity of a layer's units, the
distributions over training and the timeline."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pilot_helpers import CONFIG, wait_until
from rich.console import Console
from rich.style import Style
from textual.app import App
from textual.screen import Screen

import tui_nn.screens.inside as inside
from engine import ExperimentConfig, Trainer
from engine.train.diagnostics import dead_units, saturated_units
from engine.train.events import Event
from tui_nn.app import LabApp
from tui_nn.core.runner import Runner
from tui_nn.screens.distributions import DistributionsScreen
from tui_nn.screens.inside import InsideScreen, compute, copy_run
from tui_nn.screens.timeline import MAX_ROWS, TimelineScreen, events_table
from tui_nn.widgets.heat import Distribution, resample, similarity_lines, strip_lines
from tui_nn.widgets.tiles import (
    DEAD_MARK,
    HIDDEN,
    SAT_MARK,
    TRUE_COLOR,
    Selection,
    TileGrid,
    UnitMaps,
    draw_tiles,
    layout,
    tile_lines,
    tile_values,
)

pytestmark = pytest.mark.usefixtures("ui_idle")

BG = (30, 30, 30)


def small(lr: float = 0.01, **model: Any) -> ExperimentConfig:
    return ExperimentConfig().with_changes(
        data={"n_samples": 200}, model=model, optimizer={"lr": lr}, training={"steps": 10**6}
    )


def inside_of(trainer: Trainer) -> UnitMaps:
    xs, ys = trainer.grid(32, 24)
    return compute(copy_run(trainer), xs, ys).maps


# ---------------------------------------------------------------------- the maps


def test_each_tile_is_its_units_own_activation_on_the_grid() -> None:
    trainer = Trainer(small(hidden=[5, 4], activation="tanh"))
    trainer.run(30)
    maps = inside_of(trainer)
    net = trainer.network
    rng = np.random.default_rng(0)
    for _ in range(10):
        i, j = int(rng.integers(len(maps.ys))), int(rng.integers(len(maps.xs)))
        point = np.array([[maps.xs[j], maps.ys[i]]])
        net.forward(trainer.inputs(point))  # one point through the live network
        for layer, column in zip(net.layers[:-1], maps.hidden, strict=True):
            np.testing.assert_allclose(column.maps[i, j], layer.a[0], rtol=1e-5, atol=1e-6)
        out = maps.columns[-1].maps[i, j]
        np.testing.assert_allclose(out, trainer.loss.probabilities(net.layers[-1].a)[0], atol=1e-6)
    np.testing.assert_allclose(maps.columns[0].maps[..., 0], np.broadcast_to(maps.xs, (24, 32)))


def test_a_tile_is_drawn_from_its_own_map() -> None:
    """Two units with different maps get different tiles; the tile's hottest pixel is
    where its unit's map peaks."""
    trainer = Trainer(small(hidden=[4], activation="relu", init="he_normal"))
    trainer.run(20)
    maps = inside_of(trainer)
    shape = layout(maps, 120, 40, mono=False)
    column = maps.hidden[0]
    values = tile_values(maps, column, shape.rows, shape.cols, mono=False)
    for u in range(column.kept):
        if column.dead[u]:
            continue
        peak = np.unravel_index(np.nanargmax(values[..., u]), values.shape[:2])
        assert values[(*peak, u)] == pytest.approx(np.nanmax(column.maps[..., u]), rel=0.35)
    drawn = draw_tiles(maps, shape, TRUE_COLOR, BG, Style())
    live = [u for u in range(column.kept) if not column.dead[u]]
    assert len(live) >= 2
    assert drawn[1][live[0]] != drawn[1][live[1]]


def test_dead_marks_are_the_evaluations_dead_units() -> None:
    trainer = Trainer(small(lr=0.3, hidden=[16, 16], activation="relu"))
    trainer.run(100)
    maps = inside_of(trainer)
    expected = trainer.evaluate().dead  # the one definition: zero on every training sample
    assert sum(expected) > 0  # the run has dead units to mark
    assert [int(c.dead.sum()) for c in maps.hidden] == expected
    trainer.network.forward(trainer.X_train)
    assert [int(c.dead.sum()) for c in maps.hidden] == dead_units(trainer.network)
    lines = _lines(maps, Selection(1, 0), width=120, height=40)
    shown = "\n".join(line.text for line in lines[1:-1])  # the tiles, no header or legend
    # A 16-wide layer pages: the first page's units are marked, the header counts all.
    page = layout(maps, 120, 40, mono=False).per_page
    assert page < 16
    assert shown.count(DEAD_MARK) == sum(int(c.dead[:page].sum()) for c in maps.hidden)
    for column, dead in zip(maps.hidden, expected, strict=True):
        assert f"{column.name} {dead}{DEAD_MARK}" in lines[0].text


def test_saturated_marks_are_the_diagnostics_saturated_units() -> None:
    trainer = Trainer(small(hidden=[8, 8], activation="tanh", init="normal", init_scale=3.0))
    maps = inside_of(trainer)
    trainer.network.forward(trainer.X_train)
    expected = saturated_units(trainer.network)
    assert 0 < expected[0] <= 4 < expected[1]  # L1 partly, L2 mostly saturated
    assert [int(c.saturated.sum()) for c in maps.hidden] == expected
    lines = _lines(maps, Selection(1, 0), 120, 40)
    text = "\n".join(line.text for line in lines[1:-1])
    assert text.count(SAT_MARK) == sum(expected)
    assert f"L2 {expected[1]}{SAT_MARK}" in lines[0].text
    # More than MOST of a layer saturated is said of it, not of the other.
    assert "most of L2 saturated" in _lines(maps, Selection(2, 0), 120, 40)[-1].text
    assert "most of L1" not in lines[-1].text


def _lines(maps: UnitMaps, selection: Selection, width: int, height: int) -> list[Any]:
    shape = layout(maps, width, height, mono=False)
    drawn = draw_tiles(maps, shape, TRUE_COLOR, BG, Style())
    return tile_lines(maps, shape, drawn, selection, width, height, False, Style())


@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_zero_and_constant_init_give_identical_tiles(init: str) -> None:
    trainer = Trainer(small(hidden=[6, 6], activation="tanh", init=init))
    trainer.run(25)
    maps = inside_of(trainer)
    shape = layout(maps, 120, 40, mono=False)
    drawn = draw_tiles(maps, shape, TRUE_COLOR, BG, Style())
    for c, column in enumerate(maps.columns):
        if column.role != HIDDEN:
            continue
        for u in range(1, column.kept):
            # The same unit, up to float32 rounding (BLAS sums the columns apart).
            np.testing.assert_allclose(column.maps[..., u], column.maps[..., 0], atol=1e-6)
            assert drawn[c][u] == drawn[c][0]
    # ... and He init does not.
    other = inside_of(Trainer(small(hidden=[6, 6], activation="tanh", init="he_normal")))
    column = other.hidden[0]
    assert not np.array_equal(column.maps[..., 1], column.maps[..., 0])


def test_an_8_by_6_net_fits_120_by_40_and_wider_layers_page() -> None:
    maps = inside_of(Trainer(small(hidden=[8] * 6)))
    shape = layout(maps, 120 - 36 - 4, 40 - 3, mono=False)  # the tiles' share at 120x40
    assert shape.per_page == 8 and shape.shown == len(maps.columns) == 8
    small_screen = layout(maps, 80 - 4, 24 - 3, mono=False)  # 80x24: the tiles alone
    assert small_screen.per_page == 8 and small_screen.shown == 8
    wide = inside_of(Trainer(small(hidden=[40])))
    shape = layout(wide, 76, 36, mono=False)
    assert shape.per_page < 40
    lines = tile_lines(
        wide, shape, draw_tiles(wide, shape, TRUE_COLOR, BG, Style()),
        Selection(1, shape.per_page), 76, 36, False, Style(),
    )  # fmt: skip
    assert f"units {shape.per_page + 1}-" in lines[-1].text and "of 40" in lines[-1].text


# ---------------------------------------------------------------------- screens


class ScreenApp(App[None]):
    """The screen over an empty app, fed the runner's snapshots as the lab feeds it."""

    def __init__(self, runner: Runner, screen: Callable[[Runner], Screen[None]]) -> None:
        super().__init__()
        self.runner = runner
        self.screen_type = screen

    def on_mount(self) -> None:
        self.push_screen(self.screen_type(self.runner))


def rows(app: App[None]) -> str:
    console = Console(
        width=app.size.width, record=True, color_system=None, file=io.StringIO(),
        legacy_windows=False,
    )  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(console.export_text().splitlines()[: app.size.height])


@pytest.fixture
def runner() -> Any:
    made: list[Runner] = []

    def make(config: ExperimentConfig, steps: int) -> Runner:
        r = Runner(config)
        r.step(steps)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_inside_screen_shows_tiles_similarity_and_a_unit_large(
    runner: Any, size: tuple[int, int]
) -> None:
    run = runner(small(hidden=[6, 6], activation="tanh", init="zeros"), 50)
    app = ScreenApp(run, InsideScreen)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, InsideScreen)
        await wait_until(pilot, lambda: screen.inside is not None)
        await pilot.pause()
        text = rows(app)
        assert "L1" in text and "L2" in text and "out" in text
        assert f"step {run.snapshot().step}" in text
        if size[0] >= 100:
            assert "L1 similarity · mean 1.00" in text  # zero init: every unit the same
            assert "mean similarity" in text
        else:
            assert "similarity" not in text.split("\n", 1)[1].rsplit("\n", 2)[0]
            await pilot.press("s")
            await pilot.pause()
            assert "L1 similarity · mean 1.00" in rows(app)
            await pilot.press("s")
        await pilot.press("right", "down", "enter")
        await pilot.pause()
        assert screen.query_one(TileGrid).selection == Selection(2, 1)
        text = rows(app)
        assert "L2 unit 2" in text and "bias" in text and "L1 u1" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InsideScreen) and not screen.has_class("-large")


async def test_the_inside_screen_rereads_only_when_the_boundary_is_new(runner: Any) -> None:
    run = runner(small(hidden=[4]), 10)
    app = ScreenApp(run, InsideScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, InsideScreen)
        await wait_until(pilot, lambda: screen.inside is not None)
        reads = screen.reads
        for _ in range(3):
            screen.refresh_from(run.snapshot())  # the same boundary: nothing to read
        assert screen.reads == reads
        run.step(5)  # a single step: the runner looks at once, a new boundary
        screen.refresh_from(run.snapshot())
        await wait_until(pilot, lambda: screen.inside is not None and screen.inside.step == 15)
        assert screen.reads == reads + 1


async def test_the_inside_screen_says_when_there_is_no_plane(runner: Any) -> None:
    run = runner(ExperimentConfig().with_changes(data={"name": "sine"}), 5)
    app = ScreenApp(run, InsideScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Tiles are drawn for 2-D inputs" in rows(app)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_distributions_screen_shows_every_layer_on_one_axis(
    runner: Any, size: tuple[int, int]
) -> None:
    run = runner(small(hidden=[8, 8]), 100)
    app = ScreenApp(run, DistributionsScreen)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = rows(app)
        assert "activations · step 100" in text
        for name in ("L1 +3.1", "L2 +3.1", "out +3.1"):
            assert name in text
        if size[0] >= 100:
            assert "gradients (signed log axis)" in text
        else:
            assert "gradients" not in text.split("\n", 2)[1]
            await pilot.press("g")
            await pilot.pause()
            text = rows(app)
            assert "gradients (signed log axis) · step 100" in text and "L1 +10" in text


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_timeline_lists_the_runs_events(runner: Any, size: tuple[int, int]) -> None:
    run = runner(small(hidden=[8, 8], init="he_normal"), 300)
    events = run.read(lambda t: list(t.events))
    assert events  # the run has something to show
    app = ScreenApp(run, TimelineScreen)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = rows(app)
        assert "step" in text and "what happened" in text
        last = events[-1]
        assert last.kind in text and str(last.step) in text
        assert last.message.split()[0] in text


async def test_the_timeline_says_when_nothing_happened(runner: Any) -> None:
    run = runner(small(hidden=[4], activation="tanh"), 0)
    app = ScreenApp(run, TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not run.read(lambda t: list(t.events))  # tanh at step 0: nothing yet
        assert "Nothing happened yet" in rows(app)


@pytest.mark.parametrize("screen", [InsideScreen, DistributionsScreen, TimelineScreen])
def test_a_snapshot_before_the_screen_is_mounted_waits_for_its_mount(
    runner: Any, screen: Callable[[Runner], Any]
) -> None:
    """The lab polls every screen on its stack, one just pushed included."""
    run = runner(small(hidden=[4]), 3)
    screen(run).refresh_from(run.snapshot())  # raised NoMatches before the screen composed


def test_the_input_tiles_are_the_features_of_the_plane() -> None:
    """With feature crosses the network reads x1² and x2² too; its input tiles show them
    over the original plane, and a single neuron has no hidden tiles or similarity."""
    config = small(hidden=[]).with_changes(
        data={"name": "circles", "features": ["x1", "x2", "x1^2", "x2^2"]}
    )
    trainer = Trainer(config)
    xs, ys = trainer.grid(32, 24)
    inside = compute(copy_run(trainer), xs, ys)
    inputs, out = inside.maps.columns
    assert inputs.labels == ("x1", "x2", "x1²", "x2²")
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_allclose(inputs.maps[..., 2], gx**2, rtol=1e-6)
    np.testing.assert_allclose(inputs.maps[..., 3], gy**2, rtol=1e-6)
    assert out.weights.shape == (4, 2, 1) and inside.similarity == ()
    assert out.unit_name(1) == "out: class 1"


async def test_the_tiles_are_computed_outside_the_training_lock(
    runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside `reader.read` only copies are taken; the maps are computed after it
    returns, on the screen's worker thread."""
    run = runner(small(hidden=[4]), 5)
    in_read = threading.Event()
    calls: list[tuple[bool, bool]] = []  # (under the lock, on the UI thread)
    ui_thread = threading.get_ident()
    real_read, real_compute = run.read, inside.compute

    def read(fn: Callable[[Trainer], Any]) -> Any:
        in_read.set()
        try:
            return real_read(fn)
        finally:
            in_read.clear()

    def compute(copied: Any, xs: Any, ys: Any) -> Any:
        calls.append((in_read.is_set(), threading.get_ident() == ui_thread))
        return real_compute(copied, xs, ys)

    monkeypatch.setattr(run, "read", read)
    monkeypatch.setattr(inside, "compute", compute)
    app = ScreenApp(run, InsideScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, InsideScreen)
        await wait_until(pilot, lambda: screen.inside is not None)
    assert calls == [(False, False)]


# ---------------------------------------------------------------------- heat


def test_every_strip_reads_values_on_the_same_axis() -> None:
    """A layer collapsed at 0 and one saturated at the top value land on the rows of
    those values, on the axis every strip shares."""
    edges = np.linspace(-3.0, 3.0, 7)  # 6 bins of 1; 0 is the edge between bins 2 and 3
    steps = np.arange(1.0, 11.0)
    middle = np.zeros((6, 10))
    middle[3] = 1.0  # every value in [0, 1)
    top = np.zeros((6, 10))
    top[5] = 1.0  # every value in [2, 3]
    rows = 6
    for density, row in ((middle, 2), (top, 0)):
        picture = resample(Distribution("L", steps, edges, density), 20, rows, 1.0, 10.0)
        assert set(np.argmax(picture, axis=0).tolist()) == {row}
    lines = strip_lines(
        [Distribution("L1", steps, edges, middle), Distribution("L2", steps, edges, top)],
        "activations", 60, 12, None, BG, Style(),
    )  # fmt: skip
    labels = [line.text.split("│")[0].strip() for line in lines[1:-2]]
    assert labels.count("L1 +3") == 1 and labels.count("L2 +3") == 1 and labels.count("-3") == 2


def test_a_zero_init_similarity_matrix_is_one_colour() -> None:
    def colours(S: np.ndarray) -> set[Any]:
        lines = similarity_lines(S, "L1", 40, 10, TRUE_COLOR, BG, Style())
        return {seg.style.bgcolor for line in lines[1:5] for seg in line if seg.style.bgcolor}

    assert len(colours(np.ones((4, 4)))) == 1  # every unit the same unit: one red square
    assert len(colours(np.eye(4))) == 2  # each unit only like itself


async def test_the_inside_screen_follows_the_lab_while_it_trains() -> None:
    """Pushed over the lab as the app opens its views: the app's polls feed it, and it
    shows a later step of the running run without a key."""
    app = LabApp(CONFIG.with_changes(model={"hidden": [6, 6]}))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = InsideScreen(app.runner)
        app.push_screen(screen)  # the next poll may come before it has composed
        await wait_until(pilot, lambda: screen.inside is not None)
        first = screen.inside.step if screen.inside is not None else -1
        app.runner.start()
        await wait_until(pilot, lambda: screen.inside is not None and screen.inside.step > first)
        app.runner.pause()
        await pilot.pause()
        assert "L1 similarity" in rows(app) and "L2" in rows(app)


def test_a_long_timeline_lists_its_newest_events_and_says_what_it_left_out() -> None:
    events = [
        Event(step, "lr", None, f"the learning rate changed at step {step}", {"lr": 0.1})
        for step in range(MAX_ROWS + 20)
    ]
    text = "\n".join(rendered(events_table(events, 3, dropped=7), 120))
    assert f"changed at step {MAX_ROWS + 19}" in text and "changed at step 19 " not in text
    assert "20 before them" in text and "7 more were not kept" in text


def rendered(renderable: Any, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().splitlines()
