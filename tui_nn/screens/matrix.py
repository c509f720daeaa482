"""The network in matrix form: per layer z = a_prev W + b and a = f(z), with the shapes of
W, b, z and a; for small nets (at most 8 units a layer) the numbers themselves, for the
first few training samples. n or space takes one training step and shows the new numbers.

What is shown is copied between two steps (under the runner's lock) and recomputed in
float64 on those few samples; the run is never touched.
"""

from __future__ import annotations

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
from tui_nn.screens.view import View

MAX_UNITS = 8  # numbers are shown when no layer is wider than this
MAX_INPUTS = 16  # ...and the input has at most this many features
SAMPLES = 3  # training samples pushed through, for z and a


NO_NUMBERS = np.zeros(0)  # W, b, z and a of a net too large to show numbers for


@dataclass(frozen=True)
class LayerForm:
    index: int  # 1-based
    activation: str  # "linear" for the output layer
    maxout_k: int  # 0 for a dense layer
    fan_in: int
    units: int
    # The numbers, for small nets only (NO_NUMBERS otherwise):
    W: np.ndarray  # float64 copy; maxout (fan_in, units, k)
    b: np.ndarray
    z: np.ndarray  # (samples, units) or maxout's pieces (samples, units * k)
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
        layer.W.shape[1] <= MAX_UNITS for layer in net_layers
    )
    X = trainer.X_train[: SAMPLES if small else 0].astype(np.float64)
    a = X
    layers = []
    for i, layer in enumerate(net_layers):
        fan_in, units = (int(n) for n in layer.W.shape[:2])
        pieces = int(layer.W.shape[2]) if layer.W.ndim == 3 else 0
        name = "maxout" if pieces else layer.activation.name
        if not small:
            layers.append(LayerForm(i + 1, name, pieces, fan_in, units, *[NO_NUMBERS] * 4))
            continue
        W = layer.W.astype(np.float64)
        b = layer.b.astype(np.float64)
        if pieces:  # maxout: k affine pieces a unit, the max of them
            with np.errstate(all="ignore"):
                z = a @ W.reshape(fan_in, units * pieces) + b.reshape(-1)
            out = z.reshape(-1, units, pieces).max(axis=2)
        else:
            with np.errstate(all="ignore"):
                z = a @ W + b
                out = layer.activation.forward(z.copy())
        out = np.asarray(out, np.float64)
        layers.append(LayerForm(i + 1, name, pieces, fan_in, units, W, b, z, out))
        a = layers[-1].a
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
        k = (f.maxout_k,) if f.maxout_k else ()
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
        if f.maxout_k:
            text.append(
                f": z = a{f.index - 1} W + b with W as {f.fan_in} x {f.units * f.maxout_k} "
                f"({f.maxout_k} pieces a unit), a = the max of each unit's pieces\n"
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

    def __init__(self) -> None:
        super().__init__()
        self.form: MatrixForm | None = None
        self._version = -1

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="matrix-body") as body:
            body.border_title = "Matrix form"
            body.border_subtitle = "n/space: one step · esc closes"
            yield Static("", markup=False, id="matrix-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.refresh_form()
        self.set_interval(0.5, self.refresh_form)  # the run may be training meanwhile

    def refresh_form(self) -> None:
        runner: Any = self.app.runner  # type: ignore[attr-defined]
        version = runner.snapshot().version
        if version == self._version:
            return
        self._version = version
        self.form = runner.read(read_form)
        self.query_one("#matrix-text", Static).update(form_text(self.form))

    def action_step(self) -> None:
        self.app.action_step_once()  # type: ignore[attr-defined]
        self.refresh_form()
