"""The network in matrix form, in the lecture's orientation: per layer z = W x + b and
a = f(z), where row i of W is unit i's incoming weights (w_i^T), x is a sample as a
column, and W is units x fan_in. The engine stores the transpose (fan_in x units) and
computes a batch of rows as a W^T; the numbers are the same.

Shapes always; for nets of at most MAX_UNITS units a layer and MAX_INPUTS inputs, the
numbers too, for the first few training samples (one a column), PAGE units at a time
(] and [ page through wider layers). A matrix wider than the screen is shown in column
blocks, as NumPy prints one. n or space asks the app for one training step; the app's
next snapshot shows the new numbers.

What is shown is copied between two steps (under the runner's lock) and recomputed in
float64 on those few samples; the run is never touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine import Trainer
from tui_nn.commands import LabFooter
from tui_nn.core.runner import RunReader, Snapshot
from tui_nn.messages import StepWanted
from tui_nn.screens.view import ReadPace, View

PAGE = 16  # units a layer shown at a time: the zero-init preset's 16 fit one page
MAX_UNITS = 4 * PAGE  # numbers are shown when no layer is wider than this
MAX_INPUTS = 16  # ...and the input has at most this many features
SAMPLES = 3  # training samples pushed through, for z and a
GAP = 2  # columns between two blocks side by side
MIN_WIDTH = 40  # the narrowest layout the numbers are fitted to
# While the run trains, the form is read at most this often (each read copies the weights
# under the runner's lock); a paused run's new step shows at once.
READ_INTERVAL = 0.5  # seconds


NO_NUMBERS = np.zeros(0)  # W, b, z and a of a net too large to show numbers for


@dataclass(frozen=True)
class LayerForm:
    """One layer in the lecture's orientation: a row per affine piece of a unit (one a
    unit for a dense layer; k for maxout, unit-major: unit 1's pieces, then unit 2's)."""

    index: int  # 1-based
    activation: str  # the config's for a hidden layer; the output layer's is linear
    pieces: int  # affine pieces a unit: 1 for a dense layer, k for maxout
    fan_in: int
    units: int
    # The numbers, for small nets only (NO_NUMBERS otherwise), float64 copies:
    W: np.ndarray  # (units * pieces, fan_in): row i is W[:, i] of the engine's layout
    b: np.ndarray  # (units * pieces,)
    z: np.ndarray  # (units * pieces, samples): W x + b, a column a sample
    a: np.ndarray  # (units, samples)


@dataclass(frozen=True)
class MatrixForm:
    step: int
    loss: float | None  # the last step's batch loss
    batch: int
    X: np.ndarray  # (features, samples): a column a sample; no samples unless small
    y: np.ndarray  # the samples' labels (samples,) or targets (samples, outputs)
    layers: list[LayerForm]
    output: str  # what the output layer feeds: the loss name
    small: bool  # numbers are shown: no layer wider than MAX_UNITS, at most MAX_INPUTS

    @property
    def pages(self) -> int:
        """Pages of PAGE units that the widest layer needs (1 when all fit)."""
        return max(1, *(math.ceil(f.units / PAGE) for f in self.layers))


def read_form(trainer: Trainer) -> MatrixForm:
    """Runs under the runner's lock: copies of the weights and a forward of a few samples,
    for a small net; a larger one shows shapes only, so only its shapes are read (not a
    float64 copy of every weight and a forward twice a second, for nothing)."""
    net_layers = trainer.network.layers
    small = trainer.X_train.shape[1] <= MAX_INPUTS and all(
        layer.units <= MAX_UNITS for layer in net_layers
    )
    X = trainer.X_train[: SAMPLES if small else 0].astype(np.float64)
    a = X
    layers = []
    for i, layer in enumerate(net_layers):
        fan_in, units, pieces = int(layer.W.shape[0]), layer.units, layer.pieces
        hidden = i < len(net_layers) - 1
        name = trainer.config.model.activation if hidden else layer.activation.name
        if not small:
            layers.append(LayerForm(i + 1, name, pieces, fan_in, units, *[NO_NUMBERS] * 4))
            continue
        # The engine's (fan_in, units[, pieces]) as a row per piece of a unit.
        W = layer.W.astype(np.float64).reshape(fan_in, units * pieces).T.copy()
        b = layer.b.astype(np.float64).reshape(-1)
        with np.errstate(all="ignore"):
            z = W @ a.T + b[:, None]  # (units * pieces, samples)
            # Each unit's largest piece (a dense layer has one: z itself), then the
            # activation (the identity after maxout's max).
            best = z.reshape(units, pieces, -1).max(axis=1)
            out = np.asarray(layer.activation.forward(best.T), np.float64)
        layers.append(LayerForm(i + 1, name, pieces, fan_in, units, W, b, z, out.T.copy()))
        a = out
    last = trainer.history.last() or {}
    return MatrixForm(
        step=int(trainer.steps_done),
        loss=last.get("loss"),
        batch=int(trainer.config.training.batch_size),
        X=X.T.copy(),
        y=np.asarray(trainer.y_train[: len(X)]).copy(),
        layers=layers,
        output=str(trainer.loss.name),
        small=small,
    )


# ----------------------------------------------------------------------------- layout


def _num(value: float) -> str:
    """Five characters for most numbers: +.123, -1.23, +12.3, +1234, then +1e5."""
    if not math.isfinite(value):
        return f"{value:+}"
    size = abs(value)
    if size < 1:
        return f"{value:+.3f}".replace("0.", ".", 1)
    if size < 10:
        return f"{value:+.2f}"
    if size < 100:
        return f"{value:+.1f}"
    if size < 10_000:
        return f"{value:+.0f}"
    return f"{value:+.0e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


Block = list[str]  # a title line, then one line a row, all as wide as the widest


def _pad(block: Block) -> Block:
    width = max(len(line) for line in block)
    return [line.ljust(width) for line in block]


def matrix_block(title: str, M: np.ndarray) -> Block:
    """A 2-D array as a titled block of bracketed rows, the numbers right-aligned."""
    cells = [[_num(float(v)) for v in row] for row in M]
    width = max((len(c) for row in cells for c in row), default=1)
    return _pad([title, *("[ " + " ".join(c.rjust(width) for c in row) + " ]" for row in cells)])


def number_width(M: np.ndarray) -> int:
    return max((len(_num(float(v))) for v in M.ravel()), default=1)


def column_blocks(title: str, M: np.ndarray, room: int) -> list[Block]:
    """M as one block, or as blocks of columns that fit `room` (as NumPy prints a wide
    array), each titled with its columns: W2 inputs 1-8, W2 inputs 9-16."""
    cols = M.shape[1]
    per = max(1, (room - 3) // (number_width(M) + 1))
    if cols <= per or cols == 0:
        return [matrix_block(title, M)]
    chunks = math.ceil(cols / per)
    per = math.ceil(cols / chunks)  # even blocks: 8 + 8, not 11 + 5
    blocks = []
    for start in range(0, cols, per):
        stop = min(cols, start + per)
        blocks.append(matrix_block(f"{title} inputs {start + 1}-{stop}", M[:, start:stop]))
    return blocks


def label_block(title: str, labels: list[str]) -> Block:
    return _pad([title, *labels])


def side_by_side(blocks: list[Block], gap: int = GAP) -> list[str]:
    height = max(len(b) for b in blocks)
    lines = []
    for r in range(height):
        cells = [b[r] if r < len(b) else " " * len(b[0]) for b in blocks]
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def pack(labels: Block, blocks: list[Block], limit: int) -> list[str]:
    """Blocks in rows of at most `limit` columns, each row led by the row labels (so no
    line starts with a blank: a screenshot renderer such as rsvg drops leading blanks)."""
    rows: list[list[Block]] = []
    used = limit  # no row yet: the first block starts one
    for block in blocks:
        width = GAP + len(block[0])
        if used + width > limit:
            rows.append([])
            used = len(labels[0])
        rows[-1].append(block)
        used += width
    return [line for row in rows for line in [*side_by_side([labels, *row]), ""]]


def page_units(form: LayerForm, page: int) -> range:
    """The units of `form` on `page`: all of a layer that fits one page, else its page
    (the last one for a page past its end)."""
    pages = math.ceil(form.units / PAGE)
    if pages <= 1:
        return range(form.units)
    start = min(page, pages - 1) * PAGE
    return range(start, min(form.units, start + PAGE))


def layer_lines(form: LayerForm, page: int, limit: int, last: bool) -> list[str]:
    units = page_units(form, page)
    k = form.pieces
    rows = [u * k + j for u in units for j in range(k)]
    l, prev = form.index, form.index - 1
    what = "the logits" if last else f"a{l} = {form.activation}(z{l})"
    if k > 1:
        what = f"a{l} = the max of each unit's {k} pieces"
    head = f"layer {l}: z{l} = W{l} a{prev} + b{l},  {what}"
    if len(units) < form.units:
        head += f"   (units {units[0] + 1}-{units[-1] + 1} of {form.units})"
    lines = [head]
    if k > 1:
        row_labels = [f"{u + 1}.{j + 1}" for u in units for j in range(k)]
        labels = label_block("piece", row_labels)
    else:
        labels = label_block("unit", [str(u + 1) for u in units])
    room = limit - len(labels[0]) - GAP
    W = form.W[rows]
    blocks = column_blocks(f"W{l}", W, room)
    blocks += [
        matrix_block(f"b{l}", form.b[rows][:, None]),
        matrix_block(f"z{l}", form.z[rows]),
    ]
    if k == 1:
        blocks.append(matrix_block(f"a{l}", form.a[list(units)]))
        return lines + pack(labels, blocks, limit)
    lines += pack(labels, blocks, limit)
    unit_labels = label_block("unit", [str(u + 1) for u in units])
    return lines + pack(unit_labels, [matrix_block(f"a{l}", form.a[list(units)])], limit)


def input_lines(form: MatrixForm, limit: int) -> list[str]:
    n = form.X.shape[1]
    lines = [f"a0 = x: the first {n} training samples, one a column"]
    labels = label_block("input", [str(i + 1) for i in range(form.X.shape[0])])
    lines += pack(labels, [matrix_block("x", form.X)], limit)
    if form.y.ndim == 1 and form.y.dtype.kind in "iu":
        lines += ["y = " + ", ".join(f"class {v}" for v in form.y.tolist()), ""]
    else:
        targets = form.y.reshape(n, -1).T
        out_labels = label_block("output", [str(i + 1) for i in range(targets.shape[0])])
        lines += pack(out_labels, [matrix_block("y", targets)], limit)
    return lines


def shape(*dims: int) -> str:
    return " x ".join(map(str, dims))


def shapes_table(form: MatrixForm) -> Table:
    """Per layer: f, and the shapes of W, b, z and a for one training batch (a column a
    sample)."""
    table = Table(box=None, padding=(0, 2, 0, 0), expand=False, header_style="bold")
    for column in ("layer", "f", "W", "b", "z", "a"):
        table.add_column(column, no_wrap=True)
    table.add_row("input", "", "", "", "", shape(form.X.shape[0], form.batch))
    for f in form.layers:
        pieces = f" (x{f.pieces} pieces)" if f.pieces > 1 else ""
        role = "linear (logits)" if f.index == len(form.layers) else f.activation
        table.add_row(
            str(f.index),
            role,
            shape(f.units, f.fan_in) + pieces,
            str(f.units) + pieces,
            shape(f.units, form.batch) + pieces,
            shape(f.units, form.batch),
        )
    return table


def form_text(form: MatrixForm, width: int = 76, page: int = 0) -> Group:
    """The form as the view shows it, fitted to `width` columns; `page` picks the PAGE
    units shown of a layer wider than that."""
    limit = max(MIN_WIDTH, width)
    loss = f"{form.loss:.4g}" if form.loss is not None else "-"
    head = Text(f"step {form.step}  batch loss {loss}", style="bold")
    head.append(
        "\nz_l = W_l a_(l-1) + b_l,  a_l = f(z_l),  a_0 = x;  row i of W_l is unit i's "
        f"incoming weights;  the last z is the logits, fed to {form.output}\n\n",
        style="not bold",
    )
    head.append(f"shapes for a training batch of {form.batch}, a column a sample", style="italic")
    parts: list[Any] = [head, shapes_table(form)]
    text = Text()
    parts.append(text)
    if not form.small:
        text.append(
            f"\nNumbers are shown for nets of at most {MAX_UNITS} units a layer and "
            f"{MAX_INPUTS} inputs: try hidden 16,16 in the Model panel.",
            style="dim",
        )
        return Group(*parts)
    if form.pages > 1:
        widest = max(f.units for f in form.layers)
        text.append(
            f"\nunits {page * PAGE + 1}-{min(widest, (page + 1) * PAGE)} of the layers wider "
            f"than {PAGE} (page {page + 1} of {form.pages}: ] next, [ back)\n",
            style="italic",
        )
    text.append("\n" + "\n".join(input_lines(form, limit)) + "\n")
    for f in form.layers:
        lines = layer_lines(f, page, limit, f.index == len(form.layers))
        text.append(lines[0] + "\n", style="bold")
        text.append("\n".join(lines[1:]) + "\n")
    return Group(*parts)


class MatrixScreen(View):
    """Shapes always, numbers for small nets; n or space takes one training step, ] and [
    page through the units of a wide layer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,space", "step", "one step", key_display="n"),
        Binding("right_square_bracket", "page(1)", "next units", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "units back", key_display="["),
        Binding("escape,q,m", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self.run = run
        self.form: MatrixForm | None = None
        self.page = 0
        self.pace = ReadPace(READ_INTERVAL)
        self._width = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="matrix-body") as body:
            body.border_title = "Matrix form"
            yield Static("", markup=False, id="matrix-text")
        yield LabFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self._read(self.run.snapshot())

    def on_resize(self) -> None:
        if self._text_width() != self._width:
            self._show()

    def refresh_from(self, snapshot: Snapshot) -> None:
        if self.pace.too_soon(snapshot):
            return  # a later snapshot of the running run comes within a poll or two
        self._read(snapshot)

    def _read(self, snapshot: Snapshot) -> None:
        if not self.pace.take(snapshot):
            return
        self.form = self.run.read(read_form)
        self.page = min(self.page, self.form.pages - 1)
        self.refresh_bindings()
        self._show()

    def _text_width(self) -> int:
        body = self.query_one("#matrix-body", VerticalScroll)
        width = body.content_region.width or self.app.size.width - 4
        return width - 2  # room for the vertical scrollbar, shown or not

    def _show(self) -> None:
        if self.form is None:
            return
        self._width = self._text_width()
        self.query_one("#matrix-text", Static).update(form_text(self.form, self._width, self.page))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            return self.form is not None and self.form.small and self.form.pages > 1
        return True

    def action_page(self, delta: int) -> None:
        if self.form is None:
            return
        page = min(max(self.page + delta, 0), self.form.pages - 1)
        if page != self.page:
            self.page = page
            self._show()

    def action_step(self) -> None:
        self.post_message(StepWanted())
