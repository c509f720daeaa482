"""Tiles: one small heat map per unit, its activation over the input plane (the decision
boundary's grid), laid out like the network: the inputs, each hidden layer, the output,
a column each, the units of a layer one under the other (TensorFlow Playground's view).

A tile is a half-block heat map as the boundary draws one (`tui_nn.widgets.boundary`):
two square pixels a cell, 0 the background, negative toward blue, positive toward red,
on one scale per column (its largest |value|), so that two units that compute the same
function look the same: with zero or constant init every tile of a layer is identical.
Without colour a tile is a ramp of characters. The bottom half of a tile's last row is
left blank: a half-row gap between two tiles.

Marks (one definition each, the engine's): a dead unit (`Activation.dead_units`: zero
for every sample of the training set) is greyed and marked ✗; a saturated one
(`Activation.saturated_units` on the training set) is marked S. Arrow keys move the
selection (▐ beside the tile); a column with more units than fit pages ([ and ]).

`build_maps` gathers the maps (`Trainer.unit_maps`, one batched forward of the grid) and
the marks into columns, on a copy of the weights (tui_nn.screens.inside: never under the
training lock); `draw_tiles` and `tile_lines` draw them; the `TileGrid` widget caches the
drawn tiles and composes the lines around the selection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from engine.nn.network import MLP
from engine.thresholds import MOST
from tui_nn.widgets.boundary import (
    DEFAULT_BACKGROUND,
    MONO_RAMP,
    NO_MARKS,
    PALETTES,
    RGB,
    TRUE_COLOR,
    Painting,
    Palette,
    colour_rows,
    diverging,
    grid_span,
    ramp,
    sample,
    scaled,
    square_view,
)

Array = np.ndarray

MAX_KEPT = 64  # units a layer whose maps are kept: a 4096-wide layer's would be 100 MB
MIN_ROWS, MAX_ROWS = 2, 8  # rows a tile takes (its picture, and the half-row gap)
# Units a column shows at once before its tiles shrink: a 16-wide layer pages in tiles a
# student can read rather than fitting 16 specks.
PAGE = 8
HEAD_ROWS = 1  # the column names
FOOT_ROWS = 1  # the legend of the marks, the scale, the page
SIDE = 3  # columns a tile takes besides its picture: the selection bar, the mark, a gap
DEAD_GREY: RGB = (72, 72, 72)
SCALE_QUANTILE = 0.98  # a column's colour scale ends at this quantile of its |values|
TILE_STRENGTH = 0.9  # of the way from the background to the end colours: no points to stand out
DEAD_MARK, SAT_MARK = "✗", "S"
SELECT_BAR = "▐"
MONO_SELECT = ">"
MONO_DEAD = "·"
DEAD_STYLE = Style(color="#e05050", bold=True)
SAT_STYLE = Style(color="#e0c040", bold=True)
SELECT_STYLE = Style(color="#40c0ff", bold=True)
INPUT, HIDDEN, OUTPUT = "input", "hidden", "output"


# ---------------------------------------------------------------------- the maps


@dataclass(frozen=True)
class Column:
    """One column of the grid: the inputs, a hidden layer or the output layer."""

    name: str  # "in", "L1", "out"
    role: str  # INPUT, HIDDEN or OUTPUT
    maps: Array  # (rows, cols, kept units) over the grid, float64
    units: int  # all the layer's units; maps keeps the first MAX_KEPT
    dead: Array  # (kept,) bool: zero for every training sample
    saturated: Array  # (kept,) bool: saturated for most training samples
    weights: Array  # (fan_in, kept, pieces): each unit's incoming weights; inputs: empty
    bias: Array  # (kept, pieces)
    labels: tuple[str, ...]  # a name a unit: the inputs' features, the output's classes
    activation: str  # what the column's values are: "relu", "input", "prediction"
    scale: float  # the column's colour scale: values in [-scale, scale]

    @property
    def kept(self) -> int:
        return int(self.maps.shape[-1])

    def unit_name(self, unit: int) -> str:
        """ "x1²", "L2 unit 3", "out: class 1"."""
        if self.role == OUTPUT:
            label = self.labels[unit] if unit < len(self.labels) else str(unit + 1)
            return f"{self.name}: class {label}" if self.labels else f"{self.name} {label}"
        if unit < len(self.labels):
            return self.labels[unit]
        return f"{self.name} unit {unit + 1}"


@dataclass(frozen=True)
class UnitMaps:
    """Every unit's activation over the grid xs (cols,) by ys (rows,), row 0 the lowest
    y (as `Boundary`), and the marks; at one step."""

    xs: Array
    ys: Array
    columns: tuple[Column, ...]
    step: int

    @property
    def hidden(self) -> list[Column]:
        return [c for c in self.columns if c.role == HIDDEN]


def plane(xs: Array, ys: Array) -> Array:
    """The grid's points (rows * cols, 2), row by row from the lowest y (as the runner's
    boundary grid)."""
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def unit_marks(layer: Any) -> tuple[Array, Array]:
    """Which units are dead and which saturated, by the activation's own definitions
    (`dead_units`, `saturated_units`, which count units) applied unit by unit to the
    layer's outputs on the training set (its last forward must have been X_train)."""
    a = layer.a
    flags = []
    for counter in (layer.activation.dead_units, layer.activation.saturated_units):
        if counter is None:
            flags.append(np.zeros(a.shape[1], dtype=bool))
        else:
            flags.append(np.array([counter(a[:, j : j + 1]) > 0 for j in range(a.shape[1])]))
    return flags[0], flags[1]


def _scale(maps: Array) -> float:
    """The column's colour scale: its SCALE_QUANTILE of |value|, so that the far corners
    of the plane (where a ReLU grows without bound) do not wash every tile out."""
    sampled = maps[::2, ::2]  # a quarter of the pixels: the quantile is the costly part
    finite = np.abs(sampled[np.isfinite(sampled)])
    top = float(np.quantile(finite, SCALE_QUANTILE)) if finite.size else 0.0
    return top if top > 0 else (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)


def build_maps(
    network: MLP,
    xs: Array,
    ys: Array,
    inputs: Array,
    hidden: list[Array],
    logits: Array,
    X_train: Array,
    *,
    input_names: tuple[str, ...],
    activation: str,
    output: Callable[[Array], Array],
    output_names: tuple[str, ...] = (),
    step: int = 0,
) -> UnitMaps:
    """The tiles' columns: `inputs` are the network's inputs at each grid point (row by
    row), `hidden` each hidden layer's maps over the grid (engine.train.diagnostics.
    unit_maps) and `logits` the output layer's, which `output` turns into what the output
    tiles show (the loss's probabilities). The marks come from a forward of the training
    set, so the network must be one nobody else steps (its caches change)."""
    shape = (len(ys), len(xs), -1)
    with np.errstate(all="ignore"):
        shown = np.asarray(output(logits), dtype=np.float64)
        network.forward(X_train)
    hidden = [np.asarray(m[..., :MAX_KEPT], dtype=np.float64) for m in hidden]
    feature_maps = np.asarray(inputs, dtype=np.float64).reshape(shape)
    columns = [_plain("in", INPUT, feature_maps, input_names)]
    for i, (layer, values) in enumerate(zip(network.layers[:-1], hidden, strict=True)):
        dead, saturated = unit_marks(layer)
        maps = values
        kept = maps.shape[-1]
        W, b = _incoming(layer, kept)
        columns.append(
            Column(
                name=f"L{i + 1}",
                role=HIDDEN,
                maps=maps,
                units=layer.units,
                dead=dead[:kept],
                saturated=saturated[:kept],
                weights=W,
                bias=b,
                labels=(),
                activation=activation,
                scale=_scale(maps),
            )
        )
    out = _plain("out", OUTPUT, shown[:, :MAX_KEPT].reshape(shape), output_names)
    W, b = _incoming(network.layers[-1], out.kept)
    columns.append(replace(out, units=shown.shape[-1], weights=W, bias=b))
    return UnitMaps(np.asarray(xs), np.asarray(ys), tuple(columns), int(step))


def _incoming(layer: Any, kept: int) -> tuple[Array, Array]:
    """Copies of the first `kept` units' incoming weights (fan_in, kept, pieces) and
    biases (kept, pieces), in float64."""
    W = np.asarray(layer.W, dtype=np.float64)
    W = W.reshape(W.shape[0], layer.units, -1)[:, :kept].copy()
    b = np.asarray(layer.b, dtype=np.float64).reshape(layer.units, -1)[:kept].copy()
    return W, b


def _plain(name: str, role: str, maps: Array, labels: tuple[str, ...]) -> Column:
    """A column without marks or weights of its own (the inputs; the output, which then
    gets its weights)."""
    units = int(maps.shape[-1])
    none = np.zeros(units, dtype=bool)
    return Column(
        name=name,
        role=role,
        maps=maps,
        units=units,
        dead=none,
        saturated=none,
        weights=np.zeros((0, units, 1)),
        bias=np.zeros((units, 1)),
        labels=labels,
        activation="prediction" if role == OUTPUT else role,
        scale=_scale(maps),
    )


# ---------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """How the grid fits the widget: each tile `rows` rows by `cols` columns (its
    picture), `per_page` units a column at a time, columns `first`.. shown."""

    rows: int
    cols: int
    per_page: int
    shown: int  # columns that fit side by side

    @property
    def width(self) -> int:
        return self.cols + SIDE


def layout(maps: UnitMaps, width: int, height: int, mono: bool) -> Layout:
    """The largest tiles that show PAGE units of each column (every unit of a narrower
    one), the units of a wider column paged; else the smallest tiles, paged. A tile's
    picture is square in data units (a cell two pixels tall in colour, one without)."""
    most = max((c.kept for c in maps.columns), default=1)
    room = max(1, height - HEAD_ROWS - FOOT_ROWS)
    n = len(maps.columns)
    for rows in range(MAX_ROWS, MIN_ROWS - 1, -1):
        cols = _tile_cols(rows, mono)
        if min(most, PAGE) * rows <= room and n * (cols + SIDE) <= width:
            return Layout(rows, cols, min(most, room // rows), n)
    rows = MIN_ROWS
    cols = _tile_cols(rows, mono)
    return Layout(rows, cols, max(1, room // rows), max(1, width // (cols + SIDE)))


def _tile_cols(rows: int, mono: bool) -> int:
    """A square picture: colour tiles are 2 * rows - 1 pixels tall (the gap is half a
    row), a pixel a column wide; without colour rows - 1 cells tall, each two columns."""
    return 2 * rows - 1 if not mono else 2 * (rows - 1)


# ---------------------------------------------------------------------- drawing

TileRows = list[list[Segment]]  # a tile's picture, a list of segments a row


def tile_values(maps: UnitMaps, column: Column, rows: int, cols: int, mono: bool) -> Array:
    """The column's maps sampled at each pixel of a tile: (pixel rows, cols, units), the
    picture square in data units and centred; NaN where the grid does not reach."""
    extent = (*grid_span(maps.xs), *grid_span(maps.ys))
    pixel_rows = rows - 1 if mono else 2 * rows - 1
    aspect = 2.0 if mono else 1.0
    view = square_view(extent, cols, pixel_rows, aspect, 1)
    grid = _Grid(maps.xs, maps.ys, column.maps)
    values, covered = sample(grid, view)
    values = np.where(covered[..., None], values, np.nan)
    out = np.full((pixel_rows, cols, column.kept), np.nan)
    top, left = (pixel_rows - view.rows) // 2, (cols - view.cols) // 2
    out[top : top + view.rows, left : left + view.cols] = values
    return out


@dataclass(frozen=True)
class _Grid:
    """What `boundary.sample` reads: a grid and its values."""

    xs: Array
    ys: Array
    probs: Array


def colour_tiles(values: Array, column: Column, palette: Palette, bg: RGB) -> list[TileRows]:
    """Each unit's tile: its values on the column's scale, a dead unit grey, the bottom
    pixel row (the gap) the background. The column's tiles are stacked into one picture
    and turned into cells at once (one call, not one a tile), then cut apart."""
    t = scaled(values, -column.scale, column.scale)
    pixels = diverging(t, bg, palette.low, palette.high, TILE_STRENGTH, palette.smooth)
    background = np.array(bg, dtype=np.float64)
    off = np.isnan(values)[..., None]  # (rows, cols, units, 1): where the grid does not reach
    pixels = np.where(off, background, pixels)
    pixels = np.where(column.dead[:, None] & ~off, np.array(DEAD_GREY, np.float64), pixels)
    rows, cols, units = values.shape
    gap = np.broadcast_to(background, (1, cols, units, 3))
    stacked = np.concatenate([pixels, gap], axis=0)  # (rows + 1, cols, units, 3)
    stacked = stacked.transpose(2, 0, 1, 3).reshape(units * (rows + 1), cols, 3)
    lines = colour_rows(Painting(stacked, stacked, NO_MARKS))
    per = (rows + 1) // 2  # cells a tile: rows + 1 pixels, an even number
    return [lines[u * per : (u + 1) * per] for u in range(units)]


def mono_tiles(values: Array, column: Column, base: Style) -> list[TileRows]:
    """Without colour: a character a cell from the ramp (low to high), a dead unit dots,
    then a blank row (the gap)."""
    t = scaled(values, -column.scale, column.scale)
    chars = ramp(t, MONO_RAMP)
    chars = np.where(np.isnan(values), " ", chars)
    cols = values.shape[1]
    tiles = []
    for u in range(column.kept):
        unit = chars[:, :, u]
        if column.dead[u]:
            unit = np.where(np.isnan(values[..., u]), " ", MONO_DEAD)
        lines = [[Segment("".join(row), base)] for row in unit]
        tiles.append([*lines, [Segment(" " * cols, base)]])
    return tiles


def draw_tiles(
    maps: UnitMaps, shape: Layout, palette: Palette | None, bg: RGB, base: Style
) -> list[list[TileRows]]:
    """Every kept unit's tile, column by column."""
    mono = palette is None
    drawn = []
    for column in maps.columns:
        values = tile_values(maps, column, shape.rows, shape.cols, mono)
        if palette is None:
            drawn.append(mono_tiles(values, column, base))
        else:
            drawn.append(colour_tiles(values, column, palette, bg))
    return drawn


@dataclass(frozen=True)
class Selection:
    column: int = 0
    unit: int = 0


def first_column(shape: Layout, n_columns: int, selected: int) -> int:
    """The first column shown: the selected one stays on screen, the last ones fill it."""
    return min(max(0, selected - shape.shown + 1), max(0, n_columns - shape.shown))


def page_of(shape: Layout, unit: int) -> int:
    return unit // shape.per_page


def _header(maps: UnitMaps, shape: Layout, first: int, base: Style) -> list[Segment]:
    cells = []
    for column in maps.columns[first : first + shape.shown]:
        name = column.name
        dead, saturated = int(column.dead.sum()), int(column.saturated.sum())
        if dead:
            name += f" {dead}{DEAD_MARK}"
        if saturated:
            name += f" {saturated}{SAT_MARK}"
        cells.append(name[: shape.width - 1].ljust(shape.width))
    return [Segment("".join(cells), base + Style(bold=True))]


def _footer(maps: UnitMaps, shape: Layout, selection: Selection) -> str:
    page = page_of(shape, selection.unit)
    column = maps.columns[selection.column]
    pages = -(-column.kept // shape.per_page)
    name = column.unit_name(selection.unit)
    parts = [name, f"step {maps.step}", f"{DEAD_MARK} dead", f"{SAT_MARK} saturated"]
    if column.saturated.sum() > MOST * column.kept:
        parts.append(f"most of {column.name} saturated")
    if pages > 1:
        parts.append(f"units {page * shape.per_page + 1}-")
        parts[-1] += f"{min(column.kept, (page + 1) * shape.per_page)} of {column.units} [ ]"
    elif column.units > column.kept:
        parts.append(f"first {column.kept} of {column.units}")
    parts.append(f"scale ±{column.scale:.3g}")
    return " · ".join(parts)


def tile_lines(
    maps: UnitMaps,
    shape: Layout,
    drawn: list[list[TileRows]],
    selection: Selection,
    width: int,
    height: int,
    mono: bool,
    base: Style,
) -> list[Strip]:
    """The whole widget: the column names, the tiles of the selected unit's page (every
    column shows the same page), the legend line."""
    first = first_column(shape, len(maps.columns), selection.column)
    page = page_of(shape, selection.unit)
    lines: list[Strip] = [Strip(_header(maps, shape, first, base))]
    blank = Segment(" " * shape.cols, base)
    for row in range(max(0, height - HEAD_ROWS - FOOT_ROWS)):
        index, within = divmod(row, shape.rows)
        if index >= shape.per_page:
            break
        unit = page * shape.per_page + index
        segments: list[Segment] = []
        for c in range(first, min(len(maps.columns), first + shape.shown)):
            column = maps.columns[c]
            if unit >= column.kept:
                segments += [Segment("   ", base), blank]
                continue
            chosen = selection.column == c and selection.unit == unit
            bar = (MONO_SELECT if within == 0 else " ") if mono else SELECT_BAR
            segments.append(Segment(bar if chosen else " ", base + SELECT_STYLE))
            segments += drawn[c][unit][within]
            mark = " "
            style = base
            if within == 0 and column.dead[unit]:
                mark, style = DEAD_MARK, base + DEAD_STYLE
            elif within == 0 and column.saturated[unit]:
                mark, style = SAT_MARK, base + SAT_STYLE
            segments += [Segment(mark, style), Segment(" ", base)]
        lines.append(Strip(segments))
    while len(lines) < height - FOOT_ROWS:
        lines.append(Strip([]))
    lines.append(Strip([Segment(_footer(maps, shape, selection), base + Style(dim=True))]))
    return [line.adjust_cell_length(width, base) for line in lines[:height]]


def clamp(maps: UnitMaps, selection: Selection) -> Selection:
    column = min(max(0, selection.column), len(maps.columns) - 1)
    unit = min(max(0, selection.unit), maps.columns[column].kept - 1)
    return Selection(column, unit)


# ---------------------------------------------------------------------- widget


class TileGrid(Widget, can_focus=True):
    """Shows a `UnitMaps`; arrows select, [ ] page, enter posts `TileGrid.Chosen`."""

    DEFAULT_CSS = """
    TileGrid {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(0, -1)", "unit", show=False),
        Binding("down", "move(0, 1)", "unit", show=False),
        Binding("left", "move(-1, 0)", "layer", show=False),
        Binding("right", "move(1, 0)", "layer", show=False),
        Binding("right_square_bracket", "page(1)", "next units", show=False),
        Binding("left_square_bracket", "page(-1)", "units back", show=False),
        Binding("enter", "choose", "show large", key_display="enter"),
    ]

    class Chosen(Message):
        """Enter on a tile: show this unit large."""

        def __init__(self, column: int, unit: int) -> None:
            super().__init__()
            self.column = column
            self.unit = unit

    class Moved(Message):
        """The selection moved (the screen follows the selected layer)."""

        def __init__(self, column: int, unit: int) -> None:
            super().__init__()
            self.column = column
            self.unit = unit

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.maps: UnitMaps | None = None
        self.selection = Selection(1, 0)  # the first hidden layer's first unit
        self._drawn: list[list[TileRows]] | None = None
        self._drawn_for: tuple[Size, Layout, bool] | None = None
        self._lines: list[Strip] | None = None
        self._lines_size: Size | None = None
        self.builds = 0  # tiles drawn (tests, benchmark)

    def show(self, maps: UnitMaps) -> None:
        self.maps = maps
        self.selection = clamp(maps, self.selection)
        self._drawn = None
        self._lines = None
        self.refresh()

    @property
    def layout_now(self) -> Layout | None:
        if self.maps is None:
            return None
        return layout(self.maps, self.size.width, self.size.height, self.palette() is None)

    def palette(self) -> Palette | None:
        if self.app.no_color:
            return None
        return PALETTES.get(self.app.console.color_system, TRUE_COLOR)

    def render_line(self, y: int) -> Strip:
        if self._lines is None or self._lines_size != self.size:
            self._lines = self._build()
            self._lines_size = self.size
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _build(self) -> list[Strip]:
        size, base = self.size, self.rich_style
        if self.maps is None or not size.width or not size.height:
            text = "no tiles yet" if self.maps is None else ""
            return [Strip([Segment(text, base)]).adjust_cell_length(size.width, base)]
        palette = self.palette()
        mono = palette is None
        shape = layout(self.maps, size.width, size.height, mono)
        key = (size, shape, mono)
        if self._drawn is None or self._drawn_for != key:
            self._drawn = draw_tiles(self.maps, shape, palette, self._background(), base)
            self._drawn_for = key
            self.builds += 1
        return tile_lines(
            self.maps, shape, self._drawn, self.selection, size.width, size.height, mono, base
        )

    def _background(self) -> RGB:
        color = self.background_colors[1]
        return DEFAULT_BACKGROUND if color.a == 0 else color.rgb

    def select(self, selection: Selection) -> None:
        if self.maps is None:
            return
        self.selection = clamp(self.maps, selection)
        self._lines = None
        self.refresh()
        self.post_message(self.Moved(self.selection.column, self.selection.unit))

    def action_move(self, dx: int, dy: int) -> None:
        s = self.selection
        self.select(Selection(s.column + dx, s.unit + dy))

    def action_page(self, delta: int) -> None:
        shape = self.layout_now
        if shape is None:
            return
        s = self.selection
        self.select(Selection(s.column, s.unit + delta * shape.per_page))

    def action_choose(self) -> None:
        if self.maps is not None:
            self.post_message(self.Chosen(self.selection.column, self.selection.unit))
