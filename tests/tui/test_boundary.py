"""The decision-boundary picture: colours from a hand-made grid, points, NO_COLOR, throttling."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fakes import FakeClock
from pilot_helpers import wait_until
from rich.color import Color as RichColor
from textual.app import App, ComposeResult

from tui_nn.widgets import boundary as B
from tui_nn.widgets.boundary import DecisionBoundary

BG = (0, 0, 0)


def rgb(color: RichColor | None) -> tuple[int, int, int]:
    assert color is not None
    return color.get_truecolor().red, color.get_truecolor().green, color.get_truecolor().blue


def expected(cls: int, amount: float, bg: tuple[int, int, int] = BG) -> list[int]:
    c = np.array(B.CLASS_COLORS[cls], dtype=float)
    return np.rint(np.array(bg) + (c - np.array(bg)) * amount).astype(int).tolist()


def hand_boundary(points: np.ndarray | None = None, labels: np.ndarray | None = None) -> Any:
    """2x2 grid, row 0 the lowest y (as the runner's grid): three classes.

    bottom-left: class 0 certain, bottom-right: class 1 certain,
    top-left: class 2 certain, top-right: all equal (chance).
    """
    third = 1.0 / 3.0
    probs = np.array(
        [
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            [[0.0, 0.0, 1.0], [third, third, third]],
        ]
    )
    return SimpleNamespace(
        kind="classes",
        xs=np.array([0.0, 1.0]),
        ys=np.array([0.0, 1.0]),
        probs=probs,
        points=np.zeros((0, 2)) if points is None else points,
        labels=np.zeros(0, dtype=int) if labels is None else labels,
        val_points=np.zeros((0, 2)),
        val_labels=np.zeros(0, dtype=int),
        class_names=(),
        step=0,
    )


def pixels_of(b: Any, kind: str = "classes", size: int = 2, bg: tuple[int, int, int] = BG):
    """The picture of the 2x2 grid's plane ([-0.5, 1.5] both ways) in size x size pixels."""
    view = B.square_view(B.plane_extent(b), size, size, aspect=1.0, row_step=2)
    assert (view.cols, view.rows) == (size, size)
    return np.rint(B.KINDS[kind].paint(b, view, B.TRUE_COLOR, bg, False).pixels).astype(int)


def test_classes_blend_by_confidence_toward_background() -> None:
    pixels = pixels_of(hand_boundary())
    strength = B.REGION_STRENGTH
    assert pixels[0, 0].tolist() == expected(2, strength)  # top-left: class 2, certain
    assert pixels[0, 1].tolist() == list(BG)  # top-right: chance, so background
    assert pixels[1, 0].tolist() == expected(0, strength)  # bottom-left: class 0
    assert pixels[1, 1].tolist() == expected(1, strength)  # bottom-right: class 1


def test_partial_confidence_is_partway_to_the_class_colour() -> None:
    b = hand_boundary()
    b.probs = np.full((2, 2, 2), 0.0)
    b.probs[..., 0] = 0.75  # halfway between chance (0.5) and certainty
    b.probs[..., 1] = 0.25
    bg = (40, 40, 40)
    pixels = pixels_of(b, bg=bg)
    assert pixels[0, 0].tolist() == expected(0, 0.5 * B.REGION_STRENGTH, bg)


def test_single_sigmoid_output_is_two_classes() -> None:
    b = hand_boundary()
    b.probs = np.array([[[0.0], [1.0]], [[0.5], [0.9]]])
    pixels = pixels_of(b)
    assert pixels[1, 0].tolist() == expected(0, B.REGION_STRENGTH)  # p=0: class 0
    assert pixels[1, 1].tolist() == expected(1, B.REGION_STRENGTH)  # p=1: class 1
    assert pixels[0, 0].tolist() == list(BG)  # p=0.5: unsure


def test_points_are_drawn_on_top_in_their_class_colour() -> None:
    points = np.array([[-0.4, -0.4], [1.4, 1.4], [5.0, 5.0]])  # the last is off the grid
    labels = np.array([1, 0, 2])
    pixels = pixels_of(hand_boundary(points, labels), size=4)
    assert pixels[3, 0].tolist() == list(B.TRUE_COLOR.points[1])  # bottom-left pixel
    assert pixels[0, 3].tolist() == list(B.TRUE_COLOR.points[0])  # top-right pixel
    lifted = np.rint(np.array(B.CLASS_COLORS[1]) + (255 - np.array(B.CLASS_COLORS[1])) * 0.2)
    assert list(B.TRUE_COLOR.points[1]) == lifted.astype(int).tolist()  # lifted toward white


def test_half_blocks_carry_top_pixel_as_fg_and_bottom_as_bg() -> None:
    view = B.square_view(B.plane_extent(hand_boundary()), 2, 2, aspect=1.0, row_step=2)
    painting = B.paint_classes(hand_boundary(), view, B.TRUE_COLOR, BG, False)
    (row,) = B.colour_rows(painting)
    assert "".join(s.text for s in row) == "▀▀"
    left, right = row
    assert rgb(left.style.color) == tuple(expected(2, B.REGION_STRENGTH))
    assert rgb(left.style.bgcolor) == tuple(expected(0, B.REGION_STRENGTH))
    assert rgb(right.style.color) == BG
    assert rgb(right.style.bgcolor) == tuple(expected(1, B.REGION_STRENGTH))


def test_equal_cells_merge_into_one_segment() -> None:
    pixels = np.zeros((4, 10, 3))
    pixels[:, 5:] = 200
    rows = B.colour_rows(B.Painting(pixels, pixels, B.NO_MARKS))
    assert len(rows) == 2
    assert [s.text for s in rows[0]] == ["▀" * 5, "▀" * 5]


def test_regression_uses_a_diverging_map() -> None:
    b = hand_boundary(labels=np.array([[-1.0], [1.0]]))
    b.kind = "values"
    b.probs = np.array([[[-1.0], [0.0]], [[1.0], [0.0]]])  # bottom row, then top row
    pixels = pixels_of(b, kind="values")
    # Grid row 0 is the lowest y, so it is the bottom screen row.
    high, mid, low = pixels[0, 0], pixels[0, 1], pixels[1, 0]
    assert high.tolist() == expected_diverging(B.DIVERGING_HIGH)  # +1: red end
    assert low.tolist() == expected_diverging(B.DIVERGING_LOW)  # -1: blue end
    assert mid.tolist() == list(BG)  # the middle of the range is background


def expected_diverging(end: tuple[int, int, int]) -> list[int]:
    return np.rint(np.array(end) * B.REGION_STRENGTH).astype(int).tolist()


def test_regression_targets_as_a_column_colour_the_points() -> None:
    b = hand_boundary(np.array([[-0.4, -0.4], [1.4, 1.4]]), np.array([[-1.0], [1.0]]))
    b.kind = "values"
    b.probs = np.zeros((2, 2, 1))
    pixels = pixels_of(b, kind="values", size=4)
    bottom_left, top_right = pixels[3, 0], pixels[0, 3]
    assert bottom_left[2] > bottom_left[0]  # target -1: the blue end
    assert top_right[0] > top_right[2]  # target +1: the red end


def test_no_color_uses_characters() -> None:
    b = hand_boundary(np.array([[-0.4, -0.4]]), np.array([1]))
    # Without colour a pixel is a character, one wide and two tall: 4 x 2 of them.
    view = B.square_view(B.plane_extent(b), 4, 2, aspect=2.0, row_step=1)
    assert (view.cols, view.rows) == (4, 2)
    top, bottom = ("".join(line) for line in B.mono_classes(b, view, False).chars)
    assert top[:2] == B.MONO_CLASS_CHARS[2] * 2  # class 2 region
    assert top[2:] == "  "  # chance: blank
    assert bottom[0] == "1"  # the point, as its class digit
    assert bottom[1] == B.MONO_CLASS_CHARS[0] and bottom[2:] == B.MONO_CLASS_CHARS[1] * 2


# -------------------------------------------------------------------- widget


class BoundaryApp(App[None]):
    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield DecisionBoundary(clock=self.clock)


def snapshot(boundary: Any) -> SimpleNamespace:
    return SimpleNamespace(boundary=boundary)


@pytest.fixture(autouse=True)
def true_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The colours below are true colour's, whatever TERM the tests run under."""
    monkeypatch.setattr("textual.constants.COLOR_SYSTEM", "truecolor")


async def test_widget_rebuilds_at_most_twice_a_second() -> None:
    clock = FakeClock()
    app = BoundaryApp(clock)
    async with app.run_test(size=(20, 6)) as pilot:
        widget = app.query_one(DecisionBoundary)
        first, second = hand_boundary(), hand_boundary()
        widget.refresh_from(snapshot(first))
        await pilot.pause()
        assert widget.boundary is first and widget.builds == 1
        widget.refresh_from(snapshot(first))  # unchanged: nothing to do
        clock.now += 0.1
        widget.refresh_from(snapshot(second))  # too soon: kept pending
        await pilot.pause()
        assert widget.boundary is first and widget.builds == 1
        clock.now += 0.5
        widget.refresh_from(snapshot(second))  # the next poll shows it
        await pilot.pause()
        assert widget.boundary is second and widget.builds == 2


async def test_widget_renders_half_blocks_with_the_grid_colours() -> None:
    app = BoundaryApp(FakeClock())
    async with app.run_test(size=(8, 4)) as pilot:
        widget = app.query_one(DecisionBoundary)
        widget.refresh_from(snapshot(hand_boundary()))
        await pilot.pause()
        assert widget.size == (8, 4)  # 8x8 pixels, 4x4 for each cell of the 2x2 grid
        background = widget._background()
        top = list(widget.render_line(0))
        bottom = list(widget.render_line(3))
        assert "".join(s.text for s in top) == "▀" * 8
        # Top row: class 2 (left half), chance = background (right half).
        assert rgb(top[0].style.color) == tuple(expected(2, B.REGION_STRENGTH, background))
        assert rgb(top[-1].style.color) == background
        # Bottom row: class 0 (left), class 1 (right), fg and bg alike.
        assert rgb(bottom[0].style.bgcolor) == tuple(expected(0, B.REGION_STRENGTH, background))
        assert rgb(bottom[-1].style.bgcolor) == tuple(expected(1, B.REGION_STRENGTH, background))


async def test_widget_without_color_draws_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = BoundaryApp(FakeClock())
    async with app.run_test(size=(8, 4)) as pilot:
        widget = app.query_one(DecisionBoundary)
        widget.refresh_from(snapshot(hand_boundary()))
        await pilot.pause()
        text = "".join(widget.render_line(y).text for y in range(4))
        assert "▀" not in text
        assert B.MONO_CLASS_CHARS[2] in text


async def test_widget_without_data_says_so() -> None:
    app = BoundaryApp(FakeClock())
    async with app.run_test(size=(60, 5)) as pilot:
        widget = app.query_one(DecisionBoundary)
        widget.refresh_from(snapshot(None))
        await pilot.pause()
        assert B.NO_PICTURE in widget.render_line(2).text


async def test_widget_shows_a_held_back_grid_without_another_poll() -> None:
    app = BoundaryApp(FakeClock())
    async with app.run_test(size=(20, 6)) as pilot:
        widget = app.query_one(DecisionBoundary)
        first, second = hand_boundary(), hand_boundary()
        widget.refresh_from(snapshot(first))
        widget.refresh_from(snapshot(second))  # too soon: held back
        assert widget.boundary is first
        await wait_until(pilot, lambda: widget.boundary is second)  # by the widget's timer
