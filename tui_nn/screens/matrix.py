"""The network in matrix form: per layer z = a_prev W + b and a = f(z), with the shapes of
W, b, z and a; for small nets (at most 8 units a layer) the numbers themselves, for the
first few training samples. n or space asks the app for one training step; the app's next
snapshot shows the new numbers.

What is shown is copied between two steps (under the runner's lock) and recomputed in
float64 on those few samples; the run is never touched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from engine import Trainer
from tui_nn.core.runner import RunReader, Snapshot
from tui_nn.messages import StepWanted
from tui_nn.screens.view import View

MAX_UNITS = 8  # numbers are shown when no layer is wider than this
MAX_INPUTS = 16  # ...and the input has at most this many features
SAMPLES = 3  # training samples pushed through, for z and a
# While the run trains, the form is read at most this often (each read copies the weights
# under the runner's lock); a paused run's new step shows at once.
READ_INTERVAL = 0.5  # seconds


NO_NUMBERS = np.zeros(0)  # W, b, z and a of a net too large to show numbers for


@dataclass(frozen=True)
class LayerForm:
    index: int  # 1-based
    activation: str  # the config's for a hidden layer; the output layer's is linear
    pieces: int  # affine pieces a unit: 1 for a dense layer, k for maxout
    fan_in: int
    units: int
    # The numbers, for small nets only (NO_NUMBERS otherwise):
    W: np.ndarray  # float64 copy; (fan_in, units), or (fan_in, units, k) with k pieces
    b: np.ndarray
    z: np.ndarray  # (samples, units * pieces): every piece of every unit
    a: np.ndarray  # (samples, units)


@dataclass(frozen=True)
class MatrixForm:
    step: int
    loss: float | None  # the last step's batch loss
    batch: int
    X: np.ndarray  # (samples, features); no samples unless small
    y: np.ndarray
    layers: list[LayerForm]
    output: str  # what the output layer feeds: the loss name
    small: bool  # numbers are shown: no layer wider than MAX_UNITS, at most MAX_INPUTS


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
        W = layer.W.astype(np.float64)
        b = layer.b.astype(np.float64)
        with np.errstate(all="ignore"):
            # Every piece of every unit, then each unit's largest piece (a dense layer has
            # one: z itself), then the activation (the identity after maxout's max).
            z = a @ W.reshape(fan_in, units * pieces) + b.reshape(-1)
            best = z.reshape(-1, units, pieces).max(axis=2)
            out = np.asarray(layer.activation.forward(best), np.float64)
        layers.append(LayerForm(i + 1, name, pieces, fan_in, units, W, b, z, out))
        a = out
    last = trainer.history.last() or {}
    return MatrixForm(
        step=int(trainer.steps_done),
        loss=last.get("loss"),
        batch=int(trainer.config.training.batch_size),
        X=X,
        y=np.asarray(trainer.y_train[: len(X)]).copy(),
        layers=layers,
        output=str(trainer.loss.name),
        small=small,
    )


def _num(value: float) -> str:
    return f"{value:+.3f}" if abs(value) < 1000 else f"{value:+.1e}"


def matrix_lines(M: np.ndarray) -> list[str]:
    """A 1-D or 2-D array as bracketed rows of fixed-width numbers."""
    rows = M.reshape(1, -1) if M.ndim == 1 else M.reshape(M.shape[0], -1)
    return ["[ " + " ".join(_num(float(v)) for v in row) + " ]" for row in rows]


def block(title: str, M: np.ndarray) -> list[str]:
    return [title, *matrix_lines(M)]


def side_by_side(blocks: list[list[str]], gap: int = 3, limit: int = 74) -> list[str]:
    """Blocks next to each other, or one under the other when that would pass `limit`
    columns (so 80 columns never wrap a matrix row)."""
    widths = [max(len(line) for line in b) for b in blocks]
    if sum(widths) + gap * (len(blocks) - 1) > limit:
        return [line for b in blocks for line in b]
    height = max(len(b) for b in blocks)
    lines = []
    for r in range(height):
        cells = [(b[r] if r < len(b) else "").ljust(w) for b, w in zip(blocks, widths, strict=True)]
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def shape(*dims: int) -> str:
    return " x ".join(map(str, dims))


def shapes_table(form: MatrixForm) -> Table:
    """Per layer: f, and the shapes of W, b, z and a for one training batch."""
    table = Table(box=None, padding=(0, 2, 0, 0), expand=False, header_style="bold")
    for column in ("layer", "f", "W", "b", "z", "a"):
        table.add_column(column, no_wrap=True)
    table.add_row("input", "", "", "", "", shape(form.batch, form.X.shape[1]))
    for f in form.layers:
        k = (f.pieces,) if f.pieces > 1 else ()
        role = "linear (logits)" if f.index == len(form.layers) else f.activation
        table.add_row(
            str(f.index),
            role,
            shape(f.fan_in, f.units, *k),
            shape(f.units, *k),
            shape(form.batch, f.units, *k),
            shape(form.batch, f.units),
        )
    return table


def form_text(form: MatrixForm) -> Group:
    loss = f"{form.loss:.4g}" if form.loss is not None else "-"
    head = Text(f"step {form.step}  batch loss {loss}", style="bold")
    head.append(
        "\na0 = x, a batch of inputs;  z_l = a_(l-1) W_l + b_l;  a_l = f(z_l);  "
        f"the last z is the logits, fed to {form.output}\n\n",
        style="not bold",
    )
    head.append(f"shapes for a training batch of {form.batch}", style="italic")
    parts: list[Any] = [head, shapes_table(form)]
    text = Text()
    parts.append(text)
    if not form.small:
        text.append(
            f"\nNumbers are shown for nets of at most {MAX_UNITS} units a layer and "
            f"{MAX_INPUTS} inputs: try hidden 4,4 in the Model panel.",
            style="dim",
        )
        return Group(*parts)
    n = len(form.X)
    text.append(f"\nthe numbers, for the first {n} training samples (one a row)\n", style="italic")
    if form.y.ndim == 1 and form.y.dtype.kind in "iu":
        labels = ["y", *(f"class {v}" for v in form.y.tolist())]
    else:
        labels = block("y", form.y.reshape(n, -1))
    text.append("\n".join(side_by_side([block("a0 = x", form.X), labels])) + "\n")
    for f in form.layers:
        text.append(f"\nlayer {f.index}", style="bold")
        if f.pieces > 1:
            text.append(
                f": z = a{f.index - 1} W + b with W as {f.fan_in} x {f.units * f.pieces} "
                f"({f.pieces} pieces a unit), a = the max of each unit's pieces\n"
            )
            W, b = f.W.reshape(f.fan_in, -1), f.b.reshape(-1)
        else:
            what = "linear: the logits" if f.index == len(form.layers) else f.activation
            text.append(f": z{f.index} = a{f.index - 1} W{f.index} + b{f.index}, {what}\n")
            W, b = f.W, f.b
        lines = side_by_side([block(f"W{f.index}", W), block(f"b{f.index}", b)])
        text.append("\n".join(lines) + "\n")
        lines = side_by_side([block(f"z{f.index}", f.z), block(f"a{f.index}", f.a)])
        text.append("\n".join(lines) + "\n")
    return Group(*parts)


class MatrixScreen(View):
    """Shapes always, numbers for small nets; n or space takes one training step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,space", "step", "one step", key_display="n"),
        Binding("escape,q,m", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self.run = run
        self.form: MatrixForm | None = None
        self._version = -1
        self._read_at = -READ_INTERVAL

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="matrix-body") as body:
            body.border_title = "Matrix form"
            body.border_subtitle = "n/space: one step · esc closes"
            yield Static("", markup=False, id="matrix-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self._read(self.run.snapshot())

    def refresh_from(self, snapshot: Snapshot) -> None:
        if snapshot.state == "running" and time.monotonic() - self._read_at < READ_INTERVAL:
            return  # a later snapshot of the running run comes within a poll or two
        self._read(snapshot)

    def _read(self, snapshot: Snapshot) -> None:
        if snapshot.version == self._version:
            return
        self._version = snapshot.version
        self._read_at = time.monotonic()
        self.form = self.run.read(read_form)
        self.query_one("#matrix-text", Static).update(form_text(self.form))

    def action_step(self) -> None:
        self.post_message(StepWanted())
