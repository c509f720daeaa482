"""Distributions over time: every layer's activations and gradients as heat strips (x the
step, y the value on one axis shared by all layers, the shade the share of the values),
TensorBoard's distributions in the terminal, from the trainer's bounded store
(`trainer.distributions`, sampled every few steps by the engine, never by this view).

The strips are copied inside `reader.read(...)` (a few small arrays: less than a step) at
most every READ_INTERVAL while the run trains, and at once when it stopped. Wide, the
activations and the gradients side by side; below 100 columns one at a time (g).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from engine import Trainer
from tui_nn.charts import layer_name
from tui_nn.core.runner import RunReader, Snapshot
from tui_nn.screens.view import ReadPace, View
from tui_nn.widgets.heat import Distribution, DistributionStrips

READ_INTERVAL = 1.0  # seconds between reads while training (a column is 25 steps and more)
KINDS = {"activations": "activations", "gradients": "gradients (signed log axis)"}


@dataclass(frozen=True)
class Distributions:
    step: int
    kinds: dict[str, list[Distribution]]  # kind: one a layer, the output layer last


def read_distributions(trainer: Trainer) -> Distributions:
    """Runs inside `reader.read`: the store's strips are new arrays, built from its
    bounded counts (a few hundred columns a layer)."""
    n = trainer.n_layers
    kinds = {
        kind: [
            Distribution(layer_name(i, n), s.steps, s.bin_edges, s.density)
            for i, s in enumerate(trainer.distributions.strips(kind))
        ]
        for kind in KINDS
    }
    return Distributions(int(trainer.steps_done), kinds)


class DistributionsScreen(View):
    """Activations and gradients of every layer over the run."""

    DEFAULT_CSS: ClassVar[str] = """
    DistributionsScreen #dist-body { height: 1fr; border: round $accent; padding: 0 1; }
    DistributionsScreen #dist-main { height: 1fr; }
    DistributionsScreen DistributionStrips { width: 1fr; height: 1fr; }
    DistributionsScreen #dist-gradients { margin: 0 0 0 2; }
    DistributionsScreen.-narrow #dist-gradients { display: none; margin: 0; }
    DistributionsScreen.-narrow.-gradients #dist-gradients { display: block; }
    DistributionsScreen.-narrow.-gradients #dist-activations { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "kind", "activations/gradients"),
        Binding("escape,q", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self._ready = False  # on_mount has run: the widgets exist
        self.HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
        self.run = run
        self.shown: Distributions | None = None
        self.pace = ReadPace(READ_INTERVAL)
        self.reads = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dist-body") as body:
            body.border_title = "Distributions over training: one value axis for all layers"
            body.border_subtitle = "g activations/gradients · esc closes"
            with Horizontal(id="dist-main"):
                yield DistributionStrips(id="dist-activations")
                yield DistributionStrips(id="dist-gradients")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ready = True
        self._read(self.run.snapshot())

    def refresh_from(self, snapshot: Snapshot) -> None:
        if not self._ready:
            return  # pushed, not composed yet: on_mount reads the run itself
        if self.pace.too_soon(snapshot):
            return  # a later snapshot of the running run comes within a poll or two
        self._read(snapshot)

    def _read(self, snapshot: Snapshot) -> None:
        if not self.pace.take(snapshot):
            return
        self.shown = self.run.read(read_distributions)
        self.reads += 1
        for kind, title in KINDS.items():
            widget = self.query_one(f"#dist-{kind}", DistributionStrips)
            widget.show(self.shown.kinds[kind], f"{title} · step {self.shown.step}")

    def action_kind(self) -> None:
        self.toggle_class("-gradients")
