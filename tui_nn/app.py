"""The lab: config panels on the left, plots and the decision boundary on the right,
the status line and the keys at the bottom.

The app never touches the engine while it trains: a Runner steps the trainer on
its own thread and the app polls `runner.snapshot()` at `fps` (default 5 Hz).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from engine import ConfigError, ExperimentConfig
from tui_nn.commands import LAB_ACTIONS, LabCommands
from tui_nn.messages import FieldEdited
from tui_nn.runner import Runner, Snapshot
from tui_nn.screens.help import HelpScreen
from tui_nn.widgets.boundary import DecisionBoundary
from tui_nn.widgets.config_panels import (
    DATA_FIELDS,
    MODEL_FIELDS,
    OPTIMIZER_FIELDS,
    ConfigPanel,
    Field,
    FieldSpec,
    ModelPanel,
)
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine

HIDDEN = next(spec for spec in MODEL_FIELDS if spec.key == "model.hidden")
NEW_LAYER_WIDTH = 16  # the width of an added layer when there is none to copy
MIN_FPS, MAX_FPS = 0.5, 60.0

# What space says instead of starting, for the states a run cannot go on from.
CANNOT_START: dict[str, str] = {
    "diverged": "The run diverged: r resets it (same seed), or change the config.",
    "done": "The run reached its step budget: r resets, or raise steps in Optimizer.",
}


class LabApp(App[None]):
    CSS_PATH = "lab.tcss"
    TITLE = "tui-nn"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, LabCommands}
    BINDINGS: ClassVar[list[BindingType]] = [entry.binding() for entry in LAB_ACTIONS]
    # No field has focus at start, so space starts training instead of opening a list.
    AUTO_FOCUS = None
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, config: ExperimentConfig | None = None, fps: float = 5.0) -> None:
        super().__init__()
        self.runner = Runner(config)
        self.fps = min(max(float(fps), MIN_FPS), MAX_FPS)
        self._shown_version = -1
        self._shown_config: ExperimentConfig | None = None
        self._shown_error: str | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        config = self.runner.config
        with Horizontal(id="main"):
            with VerticalScroll(id="config", can_focus=False):
                yield ConfigPanel("Data", DATA_FIELDS, config, id="data-panel")
                yield ModelPanel("Model", MODEL_FIELDS, config, id="model-panel")
                yield ConfigPanel("Optimizer", OPTIMIZER_FIELDS, config, id="optimizer-panel")
            with Vertical(id="view"):
                yield PlotsPanel(id="plots")
                yield DecisionBoundary(id="boundary")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Held, not queried per poll: a query looks at the active screen, which is
        # the help screen or the palette while one is open.
        self._status = self.query_one(StatusLine)
        self._plots = self.query_one(PlotsPanel)
        self._boundary = self.query_one(DecisionBoundary)
        self._panels = list(self.query(ConfigPanel))
        self._model_panel = self.query_one(ModelPanel)
        self.set_interval(1.0 / self.fps, self.poll)
        self.poll()

    def on_unmount(self) -> None:
        self.runner.close()

    @property
    def lab_screen(self) -> Screen[Any]:
        """The lab's own screen, under the help screen or the palette when one is open."""
        return self.screen_stack[0]

    # ---------------------------------------------------------------- polling

    def poll(self) -> None:
        """Show the runner's latest snapshot; cheap when nothing changed."""
        if not self.is_running or self._exit:
            return  # shutting down: the widgets are going away
        snap = self.runner.snapshot()
        # The boundary throttles itself (twice a second), so it is offered every
        # poll: a grid it held back is shown even after the run has stopped.
        self._boundary.refresh_from(snap)
        if snap.version == self._shown_version:
            return
        self._shown_version = snap.version
        self._status.refresh_from(snap)
        self._plots.refresh_from(snap)
        if snap.config is not self._shown_config:
            self._shown_config = snap.config
            for panel in self._panels:
                panel.sync(snap.config)
        self._model_panel.show_loss(snap.loss_name, snap.task)
        self._announce(snap)

    def _announce(self, snap: Snapshot) -> None:
        """A notification once per new worker error or divergence."""
        if snap.error and snap.error != self._shown_error:
            severity = "warning" if snap.state == "diverged" else "error"
            self.notify(snap.error, title=snap.state, severity=severity, markup=False)
        self._shown_error = snap.error

    # ----------------------------------------------------------------- config

    def on_field_edited(self, event: FieldEdited) -> None:
        self.apply(event.spec, event.value)

    def apply(self, spec: FieldSpec, value: Any) -> bool:
        """Validate one field's new value and hand it to the runner; on a refusal show
        the engine's reason next to the field and keep the run as it is."""
        field = self.lab_screen.query_one(f"#field-{spec.widget_id}", Field)
        try:
            config = self.runner.config.with_changes(**{spec.section: {spec.name: value}})
            self.runner.set_config(config)
        except ConfigError as exc:
            field.show_error(str(exc))
            return False
        field.show_error(None)
        self.poll()
        return True

    # ---------------------------------------------------------------- actions

    def _can_go_on(self) -> bool:
        """False, with a hint, when the run is diverged or done."""
        hint = CANNOT_START.get(self.runner.state)
        if hint:
            self.notify(hint, severity="warning")
        return hint is None

    def action_toggle_run(self) -> None:
        if self._can_go_on():
            self.runner.toggle()
            self.poll()

    def action_step_once(self) -> None:
        if self._can_go_on():
            self.runner.step()
            self.poll()

    def action_reset(self) -> None:
        try:
            self.runner.reset()
        except ConfigError as exc:  # e.g. the data file went away: keep the run
            self.notify(str(exc), title="reset", severity="error", markup=False)
        self.poll()

    def action_plot_tab(self, number: int) -> None:
        self._plots.show_tab(number)

    def action_add_layer(self) -> None:
        hidden = list(self.runner.config.model.hidden)
        self.apply(HIDDEN, [*hidden, hidden[-1] if hidden else NEW_LAYER_WIDTH])

    def action_remove_layer(self) -> None:
        hidden = list(self.runner.config.model.hidden)
        if hidden:
            self.apply(HIDDEN, hidden[:-1])

    def action_toggle_config(self) -> None:
        self.lab_screen.toggle_class("-no-config")

    def action_leave_field(self) -> None:
        self.lab_screen.set_focus(None)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        # Stop the worker first: it finishes at most the step it is in, then joins.
        self.runner.close()
        self.exit()
