"""The depth profile: per hidden layer, the activations' mean, std, saturated share and
histogram at initialization, with no training (CS231n's experiment). Every row's histogram
has the same x axis, labelled under the last row, as CS231n's figure has: a column is the
same range of values in every layer, so a collapse toward 0 or saturation at the ends
shows at a glance.

Sources: the lab's own architecture on unit-Gaussian input as wide as its data, or on its
training data (the run's own initial weights), or one of CS231n's 10-layer, 500-wide
presets (engine.lecture.profiles). The profile is computed on a worker thread (0.5-0.9 s for
10 x 500), never on the UI thread, and redrawn when the lab's activation or init changes
(the app's snapshots show it). The activation and init selectors here post FieldEdited, as
the lab's own do: the app applies the change (a new run) or says why not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Select, Static
from textual.worker import Worker, WorkerState

from engine import ExperimentConfig, ModelConfig, Trainer
from engine.lecture.profiles import (
    PROFILES,
    ProfileResult,
    judge_profile,
    profile_network,
    profile_summary,
    run_profile,
)
from engine.lecture.scenarios import NOT_OBSERVED, OBSERVED, Verdict
from tui_nn.commands import LabFooter
from tui_nn.core.fields import MODEL_FIELDS, FieldSpec
from tui_nn.core.runner import RunReader, Snapshot
from tui_nn.messages import FieldEdited
from tui_nn.screens.view import View
from tui_nn.widgets.config_panels import ChoiceSelect

BARS = "▁▂▃▄▅▆▇█"
SAMPLES = 1000  # unit-Gaussian samples, as in engine.lecture.profiles
# Histogram bins, one character each, so that a row fits 80 columns; odd, so that 0 is
# the middle of the middle bin on an axis symmetric about 0.
BINS = 31
NET, DATA = "net", "data"
SOURCES: dict[str, str] = {
    NET: "this net, unit-Gaussian input",
    DATA: "this net, its training data",
    **{name: f"CS231n 10x500: {p.title}" for name, p in PROFILES.items()},
}
ACTIVATION = next(s for s in MODEL_FIELDS if s.key == "model.activation")
INIT = next(s for s in MODEL_FIELDS if s.key == "model.init")
# The model selectors of the profile view, by widget id.
MODEL_SELECTS = {"depth-activation": ACTIVATION, "depth-init": INIT}


@dataclass(frozen=True)
class DepthResult:
    source: str
    title: str
    result: ProfileResult | None  # None: no hidden layer to profile
    units: list[int]
    verdict: Verdict | None = None  # presets only: what the profile claims, judged
    claim: str = ""


def histogram_bars(counts: np.ndarray) -> str:
    """Counts as one row of block characters; an empty bin is a blank."""
    top = float(counts.max()) if counts.size else 0.0
    if top <= 0:
        return " " * counts.size
    chars = []
    for c in counts.tolist():
        if c <= 0:
            chars.append(" ")
        else:
            chars.append(BARS[min(len(BARS) - 1, int(c / top * (len(BARS) - 1) + 0.5))])
    return "".join(chars)


def styled_bars(bars: str) -> Text:
    """The bars in bold, the blanks between them plain: each run of bars starts a span of
    its own, so a screenshot renderer that drops a span's leading blanks (rsvg) cannot
    shift the bars against the axis."""
    text = Text()
    for blank, run in itertools.groupby(bars, key=lambda c: c == " "):
        text.append("".join(run), style="" if blank else "bold")
    return text


def compute(source: str, config: ExperimentConfig, n_in: int) -> DepthResult:
    """The profile for one source; runs on a worker thread."""
    if source in PROFILES:
        profile = PROFILES[source]
        result = run_profile(profile.model, n_samples=SAMPLES, bins=BINS)
        return DepthResult(
            source,
            SOURCES[source],
            result,
            list(profile.model.hidden),
            judge_profile(profile, result),
            profile.claim,
        )
    model = config.model
    if not model.hidden:
        return DepthResult(source, SOURCES[source], None, [])
    if source == NET:
        result = run_profile(
            model, seed=config.training.seed, n_in=n_in, n_samples=SAMPLES, bins=BINS
        )
    else:
        result = data_profile(config)
    return DepthResult(source, SOURCES[source], result, list(model.hidden))


def data_profile(config: ExperimentConfig) -> ProfileResult:
    """The run's own initial network (same seed) on its training data, in float64."""
    trainer = Trainer(config)
    network = trainer.network.astype(np.float64)
    return profile_network(network, trainer.X_train.astype(np.float64), BINS)


def _short(value: float) -> str:
    return f"{value:.2g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.0e}"


def axis_labels(edges: np.ndarray) -> str:
    """The shared x axis under the histograms, as wide as they are: the lowest value at
    the left, the highest at the right, and 0 under its bin when it lies between."""
    bins = len(edges) - 1
    lo, hi = float(edges[0]), float(edges[-1])
    cells = [" "] * bins
    left, right = _short(lo), _short(hi)
    cells[: len(left)] = left
    cells[bins - len(right) :] = right
    if lo < 0 < hi:
        zero = int(np.searchsorted(edges, 0.0, side="right")) - 1
        if len(left) < zero < bins - len(right) - 1:
            cells[zero] = "0"
    return "".join(cells)[:bins]


def profile_table(depth: DepthResult) -> Group:
    """The summary, then one row per hidden layer (units, mean, std, saturated share and
    a histogram on the axis all rows share), the axis, and a preset's claim and verdict."""
    if depth.result is None:
        return Group(Text("No hidden layer: nothing to profile. Add one with + in the lab."))
    result = depth.result
    # Every cell left-justified: no span starts with blanks, which a screenshot renderer
    # (rsvg) drops, shifting row 10 against rows 1-9 where the numbers were right-justified.
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold", show_edge=False)
    for name in ("layer", "units", "mean", "std", "sat"):
        table.add_column(name, no_wrap=True)
    table.add_column(Text("histogram, one x axis"), no_wrap=True, min_width=BINS + 1)
    for i, (layer, sat) in enumerate(zip(result.layers, result.saturated, strict=True)):
        units = depth.units[i] if i < len(depth.units) else 0
        table.add_row(
            str(i + 1),
            str(units),
            f"{layer.mean:+.3f}" if abs(layer.mean) < 1000 else f"{layer.mean:+.2e}",
            f"{layer.std:.3g}",
            f"{sat:.0%}",
            Text(" ") + styled_bars(histogram_bars(layer.counts)),
        )
    table.add_row("axis", "", "", "", "", Text(" ") + Text(axis_labels(result.edges), style="dim"))
    parts: list[Text | Table] = [Text(profile_summary(result) + "\n"), table]
    if depth.verdict is not None:
        text = Text("\n")
        text.append("claim    ", style="italic")
        text.append(depth.claim + "\n")
        text.append("verdict  ", style="italic")
        status = depth.verdict.status
        style = {OBSERVED: "bold green", NOT_OBSERVED: "bold red"}.get(status, "bold")
        text.append(status.upper(), style=style)
        parts.append(text)
    return Group(*parts)


class DepthScreen(View):
    """The depth profile view; 1-7 pick the source, esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(i + 1), f"source({i})", "source", show=i == 0, key_display="1-7")
            for i in range(len(SOURCES))
        ),
        Binding("escape,q,d", "close", "close", key_display="esc"),
    ]

    def __init__(self, run: RunReader, source: str = NET) -> None:
        super().__init__()
        self.run = run
        self.source = source
        self.depth: DepthResult | None = None
        self._worker: Worker[DepthResult] | None = None
        self._rerun = False  # a key came while the worker ran: compute again after it
        self._config: ExperimentConfig | None = None

    def compose(self) -> ComposeResult:
        config = self.run.config
        with Vertical(id="depth-body") as body:
            body.border_title = "Depth profile at initialization (no training)"
            with Horizontal(classes="depth-row"):
                yield Label("source", classes="field-label")
                yield ChoiceSelect(
                    [(label, key) for key, label in SOURCES.items()],
                    value=self.source,
                    allow_blank=False,
                    compact=True,
                    id="depth-source",
                )
            with Horizontal(classes="depth-row", id="depth-model"):
                yield Label("activation", classes="field-label")
                yield ChoiceSelect.for_spec(ACTIVATION, config, "depth-activation")
                yield Label("init", classes="field-label")
                yield ChoiceSelect.for_spec(INIT, config, "depth-init")
            with VerticalScroll(id="depth-scroll"):
                yield Static("computing...", markup=False, id="depth-table")
        yield LabFooter()

    def on_mount(self) -> None:
        self._config = self.run.config
        self._show_model_row()
        self.recompute()

    def _show_model_row(self) -> None:
        self.query_one("#depth-model").display = self.source in (NET, DATA)

    def refresh_from(self, snapshot: Snapshot) -> None:
        # The lab's config can change under this view (its own selectors, the palette):
        # a cheap identity check per snapshot redraws the profile when it does.
        config = snapshot.config
        if config is self._config:
            return
        old, self._config = self._config, config
        for select, spec in (("#depth-activation", ACTIVATION), ("#depth-init", INIT)):
            widget = self.query_one(select, ChoiceSelect)
            if widget.value != spec.value_in(config):
                with widget.prevent(Select.Changed):
                    widget.value = spec.value_in(config)
        if self.source in (NET, DATA) and (old is None or _profile_inputs_changed(old, config)):
            self.recompute()

    def recompute(self) -> None:
        """Start a worker for the current source, or queue one after the running one."""
        self.query_one("#depth-table", Static).update(
            Text(f"computing {SOURCES[self.source]}...", style="dim")
        )
        # A thread worker cannot be stopped (exclusive=True only marks it cancelled), so
        # keys pressed while one runs queue a single rerun, for the latest source and
        # config, instead of piling up threads that compete for the GIL.
        if self._worker is not None and not self._worker.is_finished:
            self._rerun = True
            return
        config = self.run.config
        n_in = self.run.read(lambda t: int(t.dataset.n_features))
        source = self.source  # bound now: the lambda runs later, on the worker thread
        self._worker = self.run_worker(
            lambda: compute(source, config, n_in),
            thread=True,
            exclusive=True,
            group="depth",
            exit_on_error=False,  # a failure is shown in the view, not raised
            name=f"depth-{self.source}",
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if self._rerun and event.worker.is_finished:
            self._rerun = False  # this result is already stale: compute the queued one
            self.recompute()
            return
        table = self.query_one("#depth-table", Static)
        if event.state == WorkerState.SUCCESS:
            self.depth = event.worker.result
            if self.depth is not None:
                table.update(profile_table(self.depth))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            table.update(Text(f"cannot profile: {type(error).__name__}: {error}"))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        select = event.select
        if select.id == "depth-source":
            self.set_source(str(event.value))
        elif select.id in MODEL_SELECTS:
            self._apply(MODEL_SELECTS[select.id], event.value)

    def _apply(self, spec: FieldSpec, value: Any) -> None:
        """Change the lab's model (a new run), as the Model panel does; the app says why
        when it refuses, and keeps the run."""
        if value != spec.value_in(self.run.config):
            self.post_message(FieldEdited(spec, value))

    def set_source(self, source: str) -> None:
        if source == self.source and self.depth is not None:
            return
        self.source = source
        select = self.query_one("#depth-source", ChoiceSelect)
        if select.value != source:
            with select.prevent(Select.Changed):
                select.value = source
        self._show_model_row()
        self.recompute()

    def action_source(self, index: int) -> None:
        self.set_source(list(SOURCES)[index])


def _profile_inputs_changed(old: ExperimentConfig, new: ExperimentConfig) -> bool:
    """The lab's profile depends on the model, the seed and the data, nothing else."""
    model: ModelConfig = new.model
    return (
        old.model != model
        or old.training.seed != new.training.seed
        or old.data != new.data
        or old.training.dtype != new.training.dtype
    )
