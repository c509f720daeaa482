"""The gradient check: backprop's gradients against centred differences, one row per
parameter, on a float64 copy of the lab's network as it is now.

The copy is taken between two training steps; the check itself runs on a worker thread.
Rows are coloured by CS231n's thresholds, and the verdict is written out, so the meaning
does not rest on colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from engine import Trainer
from engine.nn.gradcheck import GOOD, KINK_OK, WRONG, CheckRow, gradcheck
from tui_nn.commands import LabFooter
from tui_nn.core.runner import RunReader
from tui_nn.screens.view import View

SAMPLES = 16  # training samples in the checked batch, as `tui-nn gradcheck`
CHECKS = 2000  # numeric derivatives in all (two forwards each), shared among the parameters
WORK = 4e8  # ...and at most this many parameter x sample products of forward work in all
MIN_PER_PARAM = 5  # (about 1.5 s for a 10 x 500 net, which gets this many a parameter)

VERDICT_STYLES: dict[str, str] = {
    "good": "bold green",
    "ok (kinks)": "bold cyan",
    "suspect": "bold yellow",
    "wrong": "bold red",
}

LEGEND = (
    f"relative error |a-n| / max(|a|+|n|, 1e-8), float64, h = 1e-5: below {GOOD:g} good; "
    f"ReLU and maxout kinks excuse up to {KINK_OK:g}; above {WRONG:g} wrong; "
    "in between suspect."
)


@dataclass(frozen=True)
class CheckInput:
    """What the check needs, copied from the run between two steps."""

    network: Any  # engine MLP, float64 copy
    X: np.ndarray
    y: np.ndarray
    loss: Any
    step: int


def copy_for_check(trainer: Trainer) -> CheckInput:
    """Runs under the runner's lock: a float64 copy of the network and a small batch."""
    n = min(SAMPLES, len(trainer.X_train))
    return CheckInput(
        trainer.network.astype(np.float64),
        trainer.X_train[:n].copy(),
        trainer.y_train[:n].copy(),
        trainer.loss,
        int(trainer.steps_done),
    )


def per_param(network: Any, samples: int) -> int:
    """How many entries to check in each parameter, so the whole check stays quick: at
    most CHECKS in all, fewer for a big net (each costs two forwards of the batch), and at
    least MIN_PER_PARAM each."""
    tensors = max(len(network.parameters()), 1)
    affordable = WORK / (2 * max(network.n_parameters, 1) * max(samples, 1))
    return max(MIN_PER_PARAM, int(min(CHECKS, affordable) // tensors))


def run_check(data: CheckInput) -> list[CheckRow]:
    most = per_param(data.network, len(data.X))
    return gradcheck(data.network, data.X, data.y, data.loss, max_per_param=most)


def check_table(rows: list[CheckRow]) -> Table:
    table = Table(box=None, padding=(0, 2, 0, 0), expand=False, header_style="bold")
    table.add_column("parameter", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("checked", justify="right")
    table.add_column("max rel err", justify="right")
    table.add_column("mean rel err", justify="right")
    table.add_column("verdict", no_wrap=True)
    for row in rows:
        style = VERDICT_STYLES.get(row.verdict, "")
        table.add_row(
            row.name,
            "x".join(map(str, row.shape)),
            str(row.checked),
            f"{row.max_error:.2e}",
            f"{row.mean_error:.2e}",
            Text(row.verdict, style=style),
        )
    return table


def check_summary(rows: list[CheckRow], step: int) -> Text:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    bad = counts.get("wrong", 0) + counts.get("suspect", 0)
    text = Text(f"at step {step}, {SAMPLES} samples: {parts}. ")
    if bad:
        text.append("Backprop disagrees with the numbers: look at the rows marked.", style="bold")
    else:
        text.append("Backprop agrees with the numeric gradient.")
    return text


class GradcheckScreen(View):
    """The table per parameter; r checks again on the weights as they are then."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "check again"),
        Binding("escape,q,g", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader) -> None:
        super().__init__()
        self.run = run
        self.rows: list[CheckRow] | None = None
        self._worker: Worker[list[CheckRow]] | None = None
        self._step = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="grad-body") as body:
            body.border_title = "Gradient check"
            yield Static("", markup=False, id="grad-summary")
            yield Static("", id="grad-table")
            yield Static(LEGEND, markup=False, id="grad-legend")
        yield LabFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.action_recheck()

    def action_recheck(self) -> None:
        # A thread worker cannot be stopped (exclusive=True only marks it cancelled): a
        # check already running is let finish, and r meanwhile is ignored, so repeated
        # presses cannot pile up checks that compete for the GIL and delay quitting.
        if self._worker is not None and not self._worker.is_finished:
            self.notify("A check is running: r again once it is done.", markup=False)
            return
        data = self.run.read(copy_for_check)
        self._step = data.step
        self.query_one("#grad-summary", Static).update(
            Text(f"checking the network at step {data.step}...", style="dim")
        )
        self._worker = self.run_worker(
            lambda: run_check(data),
            thread=True,
            exclusive=True,
            group="gradcheck",
            exit_on_error=False,  # a failure is shown in the view, not raised
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        summary = self.query_one("#grad-summary", Static)
        if event.state == WorkerState.SUCCESS:
            self.rows = event.worker.result or []
            summary.update(check_summary(self.rows, self._step))
            self.query_one("#grad-table", Static).update(check_table(self.rows))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            summary.update(Text(f"cannot check: {type(error).__name__}: {error}"))
