"""The decision boundary as a student sees it (issue 9): square data units, axes with
ticks, a legend with the class names, validation points, 16 colours, no colour, and the
regression pictures. The widget is rendered in an app and read back cell by cell."""

from __future__ import annotations

import io
import itertools
import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fakes import FakeClock
from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segments
from textual.app import App, ComposeResult
from textual.strip import Strip

from tui_nn.widgets import boundary as B
from tui_nn.widgets.boundary import DecisionBoundary

RGB = tuple[int, int, int]
# The widget's size in the lab at 80x24 and 120x40, then odd shapes: tall, flat, tiny.
SIZES = [(50, 11), (84, 19), (30, 30), (120, 12), (60, 40), (24, 6)]


def boundary(
    probs: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    kind: str = "classes",
    points: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    val_points: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    class_names: tuple[str, ...] = (),
    step: int = 7,
) -> SimpleNamespace:
    """A Boundary as tui_nn.core.runner builds it (grid row 0 is the lowest y)."""
    dims = 1 if kind == "curve" else 2
    empty = np.zeros((0, dims))
    return SimpleNamespace(
        kind=kind,
        xs=xs,
        ys=ys,
        probs=probs,
        points=empty if points is None else points,
        labels=np.zeros(0, dtype=int) if labels is None else labels,
        val_points=empty if val_points is None else val_points,
        val_labels=np.zeros(0, dtype=int) if val_labels is None else val_labels,
        class_names=class_names,
        step=step,
    )


def disc(radius: float = 0.6) -> SimpleNamespace:
    """Class 1 inside a circle around the origin, class 0 outside, on a plane twice as
    tall as wide and sampled finely (0.01 apart)."""
    xs, ys = np.linspace(-0.8, 0.8, 161), np.linspace(-1.6, 1.6, 321)
    inside = (xs[None, :] ** 2 + ys[:, None] ** 2) < radius**2
    probs = np.stack([~inside, inside], axis=-1).astype(float)
    return boundary(probs, xs, ys, class_names=("out", "in"))


def quadrants() -> SimpleNamespace:
    """Four classes split at x = 0 and y = 0, on a plane off-centre from the origin:
    0 bottom-left, 1 bottom-right, 2 top-left, 3 top-right."""
    xs, ys = np.linspace(-1.3, 2.1, 69), np.linspace(-0.7, 1.9, 53)
    cls = (xs[None, :] >= 0).astype(int) + 2 * (ys[:, None] >= 0).astype(int)
    return boundary(np.eye(4)[cls], xs, ys)


def three_classes(**extra: Any) -> SimpleNamespace:
    """Three confident regions side by side (x < -1/3, middle, x > 1/3)."""
    xs, ys = np.linspace(-1, 1, 31), np.linspace(-1, 1, 31)
    cls = np.digitize(xs, [-1 / 3, 1 / 3])[None, :].repeat(len(ys), axis=0)
    return boundary(np.eye(3)[cls] * 0.98 + 0.02 / 3, xs, ys, **extra)


class BoundaryApp(App[None]):
    CSS = "DecisionBoundary { background: #1e1e1e; color: #e0e0e0; }"

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock or FakeClock()

    def compose(self) -> ComposeResult:
        yield DecisionBoundary(clock=self.clock)


@pytest.fixture
def color_system(monkeypatch: pytest.MonkeyPatch):
    """Run the app as on a terminal of this colour system (the console Textual builds)."""

    def use(system: str | None) -> None:
        monkeypatch.setattr("textual.constants.COLOR_SYSTEM", system)

    use("truecolor")
    return use


async def render(b: Any, size: tuple[int, int], *, val: bool = False) -> list[Strip]:
    """The widget's lines, showing b at size (columns, rows)."""
    app = BoundaryApp()
    async with app.run_test(size=size) as pilot:
        widget = app.query_one(DecisionBoundary)
        widget.refresh_from(SimpleNamespace(boundary=b))
        if val:
            widget.toggle_validation()
        await pilot.pause()
        assert widget.size == size
        return [widget.render_line(y) for y in range(size[1])]


def text(lines: list[Strip]) -> list[str]:
    return [line.text for line in lines]


def rgb(color: Any) -> RGB:
    t = color.get_truecolor()
    return t.red, t.green, t.blue


def pixels(lines: list[Strip]) -> dict[tuple[int, int], RGB]:
    """(pixel row, column) -> colour of every half block: two pixel rows a line."""
    out: dict[tuple[int, int], RGB] = {}
    for y, line in enumerate(lines):
        x = 0
        for seg in line:
            for _ in seg.text:
                if seg.text[0] == B.HALF_BLOCK:
                    out[2 * y, x] = rgb(seg.style.color)
                    out[2 * y + 1, x] = rgb(seg.style.bgcolor)
                x += 1
    return out


def cells(lines: list[Strip]) -> dict[tuple[int, int], tuple[str, Any]]:
    """(row, column) -> (character, style) of every cell."""
    out = {}
    for y, line in enumerate(lines):
        x = 0
        for seg in line:
            for ch in seg.text:
                out[y, x] = (ch, seg.style)
                x += 1
    return out


def picture_columns(lines: list[Strip]) -> range:
    """The picture's columns: those over the x axis line."""
    axis = next(line for line in text(lines) if "└" in line)
    return range(axis.index("└") + 1, len(axis.rstrip()))


def in_picture(found: dict, lines: list[Strip]) -> dict:
    """The cells right of the y axis and over the x axis."""
    cols = picture_columns(lines)
    rows = {r for r, line in enumerate(text(lines)) if line[cols.start - 1] in "│┤"}
    return {at: v for at, v in found.items() if at[1] in cols and at[0] in rows}


def span(where: list[tuple[int, int]]) -> tuple[int, int]:
    rows = {r for r, _ in where}
    cols = {c for _, c in where}
    return max(rows) - min(rows) + 1, max(cols) - min(cols) + 1


def region_color(cls: int, palette: B.Palette = B.TRUE_COLOR, bg: RGB = (30, 30, 30)) -> RGB:
    color = B.class_pixels(np.eye(len(palette.regions))[[cls]][None], palette, bg)[0, 0]
    red, green, blue = (int(c) for c in np.rint(color))
    return red, green, blue


# ------------------------------------------------------------- square data units


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_circle_is_as_wide_as_it_is_tall(color_system, size: tuple[int, int]) -> None:
    lines = await render(disc(), size)
    inside = region_color(1)
    where = [at for at, color in pixels(lines).items() if color == inside]
    tall, wide = span(where)
    assert abs(tall - wide) <= 1, (tall, wide)
    assert tall >= 2  # a disc, not a speck


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_without_colour_a_circle_is_as_wide_as_it_is_tall(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    lines = await render(disc(), size)
    shade = B.MONO_CLASS_CHARS[1]
    found = in_picture(cells(lines), lines) if "└" in "".join(text(lines)) else cells(lines)
    where = [at for at, (ch, _) in found.items() if ch == shade]
    tall, wide = span(where)
    # A character is one pixel wide and two tall: equal within one character.
    assert abs(2 * tall - wide) <= 3, (tall, wide)


def test_square_view_gives_both_axes_the_same_scale() -> None:
    extent = (-1.0, 2.0, 0.0, 1.0)  # three units wide, one tall
    for cols, rows in [(10, 40), (40, 10), (33, 17), (2, 2)]:
        view = B.square_view(extent, cols, rows, aspect=1.0, row_step=2)
        assert view.dx == view.dy
        assert view.cols <= cols and view.rows <= rows and view.rows % 2 == 0
        # The whole extent shows, and it fills the width or the height.
        assert view.cols * view.dx >= 3.0 - 1e-9 and view.rows * view.dy >= 1.0 - 1e-9
        assert view.cols == cols or view.rows >= rows - 1


# ---------------------------------------------------------------------- ticks


def test_ticks_are_round_numbers_inside_the_range() -> None:
    assert B.nice_ticks(-1.1, 1.1, 5) == ([-1.0, -0.5, 0.0, 0.5, 1.0], 0.5)
    assert B.nice_ticks(-2.7, 2.9, 5) == ([-2.0, -1.0, 0.0, 1.0, 2.0], 1.0)
    values, step = B.nice_ticks(0.0, 1000.0, 3)
    assert values == [0.0, 500.0, 1000.0] and step == 500.0
    assert B.nice_ticks(1.0, 1.0, 5)[0] == []  # an empty range has none
    assert [B.format_tick(v, 0.5) for v in (-0.5, 0.0, 1.0)] == ["-0.5", "0.0", "1.0"]
    assert B.format_tick(-1e-17, 0.2) == "0.0"  # never "-0.0"
    assert B.format_tick(3.0, 1.0) == "3"


def axis_labels(lines: list[str]) -> tuple[dict[int, str], dict[int, str], int]:
    """The y labels by row, the x labels by the column of their tick, and the plot's
    first column (the one right of the y axis). The x labels are under the axis, or on
    it when the widget is short."""
    axis_row = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[axis_row].index("└") + 1
    y = {
        row: line[: left - 1].strip()
        for row, line in enumerate(lines[:axis_row])
        if line[left - 1] == "┤"
    }
    under = axis_row + 1 < len(lines) and re.search(r"\d", lines[axis_row + 1])
    labels = lines[axis_row + 1] if under else lines[axis_row]
    x = {}
    for match in re.finditer(r"-?\d[\d.]*", labels):
        col = match.start() + B.label_offset(match.group())
        if under:
            assert lines[axis_row][col] == "┬"  # the tick over its label
        x[col] = match.group()
    return y, x, left


@pytest.mark.parametrize("size", [(50, 11), (84, 19), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_zero_ticks_sit_where_the_classes_change(color_system, size) -> None:
    lines = await render(quadrants(), size)
    y_labels, x_labels, left = axis_labels(text(lines))
    assert len(y_labels) >= 2 and len(x_labels) >= 2
    [zero_row] = [row for row, label in y_labels.items() if float(label) == 0]
    [zero_col] = [col for col, label in x_labels.items() if float(label) == 0]
    found = pixels(lines)
    left_col = left + 2  # inside the picture, left of the x = 0 line
    # Along a row of pixels, the class changes (0 -> 1 or 2 -> 3) at x = 0.
    row = 2 * zero_row + 4
    changes = [
        col
        for col in range(left_col, zero_col + 3)
        if found.get((row, col)) != found.get((row, col - 1))
    ]
    assert changes and abs(changes[-1] - zero_col) <= 1
    # Down a column, from class 2 to class 0 at y = 0: in the tick's cell, give or take one pixel.
    col = left_col
    flips = [r for r in range(1, 2 * len(lines)) if found.get((r, col)) != found.get((r - 1, col))]
    assert any(abs(r - (2 * zero_row + 1)) <= 1 for r in flips), (flips, zero_row)


async def test_labels_read_in_data_coordinates_and_increase(color_system) -> None:
    lines = await render(quadrants(), (84, 19))
    y_labels, x_labels, _ = axis_labels(text(lines))
    ys = [float(v) for _, v in sorted(y_labels.items())]
    xs = [float(v) for _, v in sorted(x_labels.items())]
    assert ys == sorted(ys, reverse=True) and xs == sorted(xs)
    assert xs[0] >= -1.3 and xs[-1] <= 2.1 and ys[-1] >= -0.7 and ys[0] <= 1.9


# --------------------------------------------------------------------- legend


async def test_the_legend_names_each_class_in_its_colour(color_system) -> None:
    names = ("setosa", "versicolor", "a-very-long-species-name")
    lines = await render(three_classes(class_names=names), (84, 19))
    screen = "\n".join(text(lines))
    assert "setosa" in screen and "versicolor" in screen
    assert "a-very-long-spe…" in screen  # cut to the legend's width, and says so
    assert "step 7" in screen  # the step the picture was computed at
    found = cells(lines)
    for k, name in enumerate(names):
        row, col = next(
            (r, line.index(name[:10])) for r, line in enumerate(text(lines)) if name[:10] in line
        )
        swatch, style = found[row, col - 2]
        assert swatch == B.SWATCH and rgb(style.color) == B.TRUE_COLOR.points[k]


async def test_without_names_the_classes_are_numbered(color_system) -> None:
    lines = await render(three_classes(), (84, 19))
    screen = "\n".join(text(lines))
    assert all(f"{B.SWATCH} {k}" in screen for k in range(3))


# ----------------------------------------------------------------- validation


async def test_validation_points_show_after_the_toggle(color_system) -> None:
    val = np.array([[-0.7, 0.0], [0.7, 0.5]])
    b = three_classes(val_points=val, val_labels=np.array([0, 2]))
    hidden = await render(b, (84, 19))
    assert B.VAL_GLYPH not in "".join(text(hidden))
    shown = await render(b, (84, 19), val=True)
    found = in_picture(cells(shown), shown)
    marks = [(at, style) for at, (ch, style) in found.items() if ch == B.VAL_GLYPH]
    assert len(marks) == 2
    (left, left_style), (right, right_style) = sorted(marks, key=lambda mark: mark[0][1])
    assert left[1] < right[1] and left[0] > right[0]  # (-0.7, 0) left of and below (0.7, 0.5)
    assert rgb(left_style.color) == B.TRUE_COLOR.points[0]
    assert rgb(right_style.color) == B.TRUE_COLOR.points[2]
    assert rgb(right_style.bgcolor) == region_color(2)  # drawn on the region under it
    assert "validation" in "".join(text(shown))


async def test_the_toggle_flips_and_redraws(color_system) -> None:
    app = BoundaryApp()
    async with app.run_test(size=(84, 19)) as pilot:
        widget = app.query_one(DecisionBoundary)
        b = three_classes(val_points=np.array([[0.0, 0.0]]), val_labels=np.array([1]))
        widget.refresh_from(SimpleNamespace(boundary=b))
        await pilot.pause()
        builds = widget.builds
        widget.toggle_validation()
        await pilot.pause()
        assert widget.show_validation and widget.builds == builds + 1
        assert B.VAL_GLYPH in "".join(widget.render_line(y).text for y in range(19))
        widget.toggle_validation()
        await pilot.pause()
        assert not widget.show_validation
        assert "validation" not in "".join(widget.render_line(y).text for y in range(19))


async def test_without_colour_validation_points_are_reversed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    b = three_classes(
        points=np.array([[-0.7, -0.5]]),
        labels=np.array([0]),
        val_points=np.array([[0.7, 0.5]]),
        val_labels=np.array([2]),
    )
    lines = await render(b, (84, 19), val=True)
    found = in_picture(cells(lines), lines)
    trained = [s for ch, s in found.values() if ch == "0" and s.bold]
    held_out = [s for ch, s in found.values() if ch == "2" and s.reverse]
    assert len(trained) == 1 and len(held_out) == 1


# ----------------------------------------------------------------- 16 colours


def sgr_cells(lines: list[Strip], system: str) -> list[list[tuple[int | None, int | None]]]:
    """Print the lines on a console of that colour system (16 or 256 colours) and read
    each cell's colours back from the escape codes: (fg, bg) colour numbers, None for
    the terminal's default."""
    out = io.StringIO()
    console = Console(file=out, color_system=system, force_terminal=True, width=200)
    decoded = []
    for line in lines:
        out.seek(0)
        out.truncate()
        console.print(Segments(list(line)), end="")
        row: list[tuple[int | None, int | None]] = []
        for codes, chars in re.findall(r"\x1b\[([\d;]*)m([^\x1b]*)", out.getvalue()):
            fg = bg = None
            numbers = [int(c) for c in codes.split(";") if c]
            while numbers:
                n = numbers.pop(0)
                if n in (38, 48) and numbers[:1] == [5]:
                    color = numbers[1]
                    numbers = numbers[2:]
                    fg, bg = (color, bg) if n == 38 else (fg, color)
                elif 30 <= n <= 37 or 90 <= n <= 97:
                    fg = n - 30 if n < 90 else n - 82
                elif 40 <= n <= 47 or 100 <= n <= 107:
                    bg = n - 40 if n < 100 else n - 92
            row.extend((fg, bg) for _ in chars)
        decoded.append(row)
    return decoded


def ten_classes() -> SimpleNamespace:
    """Ten vertical bands, each a class (the most a synthetic set has), half of each
    band certain and half less so."""
    xs, ys = np.linspace(0, 10, 200), np.linspace(0, 10, 200)
    cls = np.minimum(xs // 1, 9).astype(int)[None, :].repeat(len(ys), axis=0)
    sure = np.where(ys[:, None] < 5, 0.99, 0.6)
    probs = np.eye(10)[cls] * sure[..., None] + (1 - sure[..., None]) / 10
    return boundary(probs, xs, ys)


def region_runs(lines: list[Strip], system: str, row: int) -> list[int]:
    """Left to right, the colours of a row of the picture's cells that are one colour top
    and bottom (a region), a run of equal cells counted once."""
    decoded = sgr_cells(lines, system)[row]
    found = cells(lines)
    runs: list[int] = []
    for col in picture_columns(lines):
        fg, bg = decoded[col]
        region = found[row, col][0] == B.HALF_BLOCK and fg == bg and fg is not None
        if region and (not runs or runs[-1] != fg):
            runs.append(fg)
    return runs


@pytest.mark.parametrize("system", ["standard", "256"])
async def test_every_class_keeps_its_own_colours(color_system, system: str) -> None:
    """TERM=xterm (16 colours) and xterm-256color without COLORTERM (256, e.g. over
    SSH): ten classes, none sharing a colour with another, sure or not."""
    color_system(system)
    lines = await render(ten_classes(), (84, 19))
    rows = [
        r for r, line in enumerate(text(lines)) if line[picture_columns(lines).start - 1] in "│┤"
    ]
    unsure = region_runs(lines, system, rows[1])  # the top half: confidence 0.6
    sure = region_runs(lines, system, rows[-2])  # the bottom half: 0.99
    assert len(unsure) == 10 and len(sure) == 10, (unsure, sure)
    bands = [{a, b} for a, b in zip(unsure, sure, strict=True)]
    for k, band in enumerate(bands):
        others = set().union(*(other for j, other in enumerate(bands) if j != k))
        assert not band & others, (k, bands)
    background = sgr_cells(lines, system)[0][0][1]
    assert background not in set().union(*bands)


async def test_in_16_colours_points_stand_out_from_their_region(color_system) -> None:
    color_system("standard")
    points = np.array([[-0.7, 0.5], [0.0, 0.5], [0.7, 0.5]])
    b = three_classes(points=points, labels=np.array([0, 1, 2]))
    lines = await render(b, (84, 19))
    decoded = sgr_cells(lines, "standard")
    found = cells(lines)
    codes = {
        color for (r, c), (ch, _) in found.items() if ch == B.HALF_BLOCK for color in decoded[r][c]
    }
    normal = {c for c in codes if c is not None and c < 8}
    bright = {c - 8 for c in codes if c is not None and c >= 8}
    # Regions in three dark colours, the points in the bright colours of the same hues.
    assert len(normal) == 3 and normal == bright, codes


@pytest.mark.parametrize(
    ("palette", "system", "table"),
    [
        (B.ANSI_16, ColorSystem.STANDARD, STANDARD_PALETTE),
        (B.CUBE_256, ColorSystem.EIGHT_BIT, EIGHT_BIT_PALETTE),
    ],
    ids=["16", "256"],
)
def test_a_palette_survives_its_downgrade(palette: B.Palette, system: ColorSystem, table) -> None:
    """Every colour of the palette is one Rich's downgrade keeps as it is, so what the
    widget meant is what such a terminal shows."""
    p = palette
    used = [
        *p.regions,
        *p.faint,
        *p.points,
        *p.low,
        *p.high,
        p.point_low,
        p.point_mid,
        p.point_high,
    ]
    for color in used:
        number = Color.from_rgb(*color).downgrade(system).number
        assert number is not None and tuple(table[number]) == color
    # And no two classes share a colour (10 classes, the most a synthetic set has).
    ten = [*p.regions[:10], *p.faint[:10]]
    assert len(set(p.regions[:10])) == 10 and len(set(p.points[:10])) == 10
    for k in range(10):
        others = {c for j in range(10) if j != k for c in (p.regions[j], p.faint[j])}
        assert not {p.regions[k], p.faint[k]} & others, (k, ten)


# ------------------------------------------------------------------ no colour


async def test_without_colour_each_class_has_its_own_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    lines = await render(ten_classes(), (84, 19))
    screen = text(lines)
    for line in screen:
        assert B.HALF_BLOCK not in line
    picture = [line for line in screen if "┤" in line or "│" in line]
    used = {ch for line in picture for ch in line}
    assert set(B.MONO_CLASS_CHARS) <= used  # ten classes, ten characters


async def test_a_terminal_without_colour_gets_characters(color_system) -> None:
    color_system(None)  # e.g. TERM=dumb: Rich gives no colour system at all
    lines = await render(three_classes(), (84, 19))
    assert B.HALF_BLOCK not in "".join(text(lines))
    assert B.MONO_CLASS_CHARS[2] in "".join(text(lines))


# ----------------------------------------------------------------- regression


def ramp(**extra: Any) -> SimpleNamespace:
    """2-D regression: the prediction is x, from -1 (left) to 1 (right)."""
    xs, ys = np.linspace(-1, 1, 41), np.linspace(-1, 1, 41)
    probs = np.broadcast_to(xs[None, :, None], (41, 41, 1)).copy()
    points = np.array([[-0.9, 0.0], [0.9, 0.0]])
    return boundary(
        probs, xs, ys, kind="values", points=points, labels=np.array([[-1.0], [1.0]]), **extra
    )


async def test_values_are_a_heat_map_with_a_scale(color_system) -> None:
    lines = await render(ramp(), (84, 19))
    screen = "\n".join(text(lines))
    assert B.NO_PICTURE not in screen
    found = pixels(lines)
    middle_row = max(r for r, _ in found) // 2
    row = sorted((c, color) for (r, c), color in found.items() if r == middle_row)
    left, right = row[2][1], row[-3][1]
    assert left[2] > left[0] and right[0] > right[2]  # low is blue, high is red
    # The scale: round values of the targets' range, high to low, each in its colour.
    legend = [line.split()[-1] for line in text(lines) if line.rstrip().endswith(("1", "0", "5"))]
    assert "1.0" in screen and "-1.0" in screen and "0.0" in screen
    assert legend


async def test_values_points_are_shaded_by_target(color_system) -> None:
    b = ramp()
    b.probs = np.zeros_like(b.probs)  # an untrained net: the plane is the middle value
    found = pixels(await render(b, (84, 19)))
    colours = set(found.values())
    low = tuple(int(c) for c in B.TRUE_COLOR.point_low)
    high = tuple(int(c) for c in B.TRUE_COLOR.point_high)
    assert low in colours and high in colours


def sine(**extra: Any) -> SimpleNamespace:
    xs = np.linspace(-3.0, 3.0, 200)
    fit = np.sin(xs)[None, :, None]
    points = np.array([[-1.5], [0.0], [1.5]])
    labels = np.sin(points) + 0.4  # off the line, so that it does not cover them
    return boundary(fit, xs, np.zeros(0), kind="curve", points=points, labels=labels, **extra)


@pytest.mark.parametrize("size", [(50, 11), (84, 19), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_curve_is_drawn_through_the_data(color_system, size) -> None:
    lines = await render(sine(), size)
    screen = text(lines)
    assert "fit" in "".join(screen) and "data" in "".join(screen)
    found = pixels(lines)
    fit = tuple(int(c) for c in B.curve_colors(0, B.TRUE_COLOR)[1])
    data = tuple(int(c) for c in B.curve_colors(0, B.TRUE_COLOR)[0])
    line = sorted(at for at, color in found.items() if color == fit)
    cols = sorted({c for _, c in line})
    assert cols == list(range(cols[0], cols[-1] + 1))  # every column of the picture
    by_col = {c: [r for r, cc in line if cc == c] for c in cols}
    for a, b in itertools.pairwise(cols):  # connected: neighbours touch
        assert min(by_col[b]) <= max(by_col[a]) + 1 and min(by_col[a]) <= max(by_col[b]) + 1
    top = min(r for r, _ in line)
    bottom = max(r for r, _ in line)
    peak = np.mean([c for r, c in line if r == top])
    trough = np.mean([c for r, c in line if r == bottom])
    assert trough < peak  # sin: the low at x = -pi/2 comes before the high at pi/2
    assert sum(color == data for color in found.values()) == 3  # the data points


def test_curve_pixels_follow_the_function() -> None:
    view = B.fill_view((0.0, 10.0, 0.0, 10.0), 10, 10)
    rows, cols = B.curve_pixels(view, np.linspace(0, 10, 101), np.linspace(0, 10, 101))
    assert sorted(zip(cols.tolist(), rows.tolist(), strict=True)) == [(c, 9 - c) for c in range(10)]
    # A step: the jump is drawn, half in each column.
    rows, cols = B.curve_pixels(view, np.array([0.0, 4.9, 5.1, 10.0]), np.array([1, 1, 9, 9.0]))
    assert set(range(1, 9)) <= set(rows[(cols == 4) | (cols == 5)].tolist())


async def test_a_curve_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    screen = "".join(text(await render(sine(), (84, 19))))
    assert B.MONO_FIT in screen and B.MONO_DATA in screen and "fit" in screen


# --------------------------------------------------------------------- redraw


async def test_a_new_boundary_at_a_new_step_is_drawn(color_system) -> None:
    clock = FakeClock()
    app = BoundaryApp(clock)
    async with app.run_test(size=(84, 19)) as pilot:
        widget = app.query_one(DecisionBoundary)
        first = three_classes(step=5)
        widget.refresh_from(SimpleNamespace(boundary=first))
        await pilot.pause()
        assert "step 5" in "".join(widget.render_line(y).text for y in range(19))
        clock.now += B.MIN_INTERVAL
        widget.refresh_from(SimpleNamespace(boundary=three_classes(step=739)))
        await pilot.pause()
        assert "step 739" in "".join(widget.render_line(y).text for y in range(19))
        builds = widget.builds
        clock.now += B.MIN_INTERVAL
        widget.refresh_from(SimpleNamespace(boundary=widget.boundary))  # the same: nothing
        await pilot.pause()
        assert widget.builds == builds


async def test_without_a_picture_it_says_why(color_system) -> None:
    lines = await render(None, (60, 9))
    assert B.NO_PICTURE in "".join(text(lines))
