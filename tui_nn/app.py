"""The lab: config panels on the left, plots and the decision boundary on the right,
the readouts (scenario verdict, advice, status) and the keys at the bottom.

The app never touches the engine while it trains: a Runner steps the trainer on
its own thread and the app polls `runner.snapshot()` at `fps` (default 5 Hz), handing
each new snapshot to the widgets and to the views on the screen stack. Widgets and views
ask for changes with messages (tui_nn.messages), handled here.
"""

from __future__ import annotations

import gc
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen

from engine import ConfigError, ExperimentConfig
from engine.lecture.scenarios import Comparison, Scenario, comparison_of
from engine.store.runs import LoadedRun
from engine.store.toml import save_config
from tui_nn.commands import LAB_ACTIONS, LONG_RUN_STEPS, SPEEDS, LabCommands, LabFooter
from tui_nn.core.compare import (
    MAX_RUNS,
    CompareRunner,
    Entry,
    describe,
    entries_from,
    fork_config,
    parse_assignment,
)
from tui_nn.core.fields import DATA_FIELDS, MODEL_FIELDS, OPTIMIZER_FIELDS, FieldSpec
from tui_nn.core.files import open_experiment, open_run
from tui_nn.core.runner import Runner, Snapshot
from tui_nn.core.sweeps import SweepRunner
from tui_nn.messages import (
    CommandWanted,
    ComparisonWanted,
    FieldEdited,
    NotesWanted,
    ScenarioLeft,
    ScenarioStarted,
    StepWanted,
)
from tui_nn.screens.compare import CommandLine, CompareScreen
from tui_nn.screens.depth import DepthScreen
from tui_nn.screens.distributions import DistributionsScreen
from tui_nn.screens.files import ConfirmModal, PathModal
from tui_nn.screens.gradcheck import GradcheckScreen
from tui_nn.screens.help import HelpScreen
from tui_nn.screens.inside import InsideScreen
from tui_nn.screens.matrix import MatrixScreen
from tui_nn.screens.notes import NotesScreen
from tui_nn.screens.scenarios import ScenarioScreen
from tui_nn.screens.timeline import TimelineScreen
from tui_nn.screens.tour import TourScreen
from tui_nn.screens.view import View
from tui_nn.widgets.boundary import DecisionBoundary
from tui_nn.widgets.config_panels import ConfigColumn, ConfigPanel, Field, ModelPanel
from tui_nn.widgets.observations import AdviceLine, ScenarioLine
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine

if TYPE_CHECKING:
    from engine.sweep import Sweep

HIDDEN = next(spec for spec in MODEL_FIELDS if spec.key == "model.hidden")
NEW_LAYER_WIDTH = 16  # the width of an added layer when there is none to copy
MIN_FPS, MAX_FPS = 0.5, 60.0
EXPERIMENT_FILE = "experiment.toml"  # the save/open dialogs' first suggestion
RUNS_FOLDER = "runs"  # where a saved run directory goes, as `tui-nn train`

# What space says instead of starting, for the states a run cannot go on from.
CANNOT_START: dict[str, str] = {
    "diverged": "The run diverged: r resets it (same seed), or change the config.",
    "done": "The run reached its step budget: r resets, or raise steps in Optimizer.",
}


def speed_index(speed: float | None) -> int:
    """Where `speed` is on SPEEDS; a pace set elsewhere counts as the nearest one."""
    if speed is None or speed in SPEEDS:
        return SPEEDS.index(speed)
    limits = [(i, s) for i, s in enumerate(SPEEDS) if s is not None]
    return min(limits, key=lambda item: abs(math.log(item[1] / speed)))[0]


class Readouts(Vertical):
    """The lines under the view: scenario, advice, status. Notifications stay above them,
    so a toast never covers the status line, whatever height the lines take."""

    def on_resize(self, event: events.Resize) -> None:
        try:
            rack = self.screen.query_one("#textual-toastrack")  # Textual's notifications
        except NoMatches:
            return
        rack.styles.margin = (0, 0, self.outer_size.height + 1, 0)  # + 1: the footer


class LabApp(App[None]):
    CSS_PATH = "lab.tcss"
    TITLE = "tui-nn"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, LabCommands}
    BINDINGS: ClassVar[list[BindingType]] = [entry.binding() for entry in LAB_ACTIONS]
    # No field has focus at start, so space starts training instead of opening a list.
    AUTO_FOCUS = None

    def __init__(
        self,
        config: ExperimentConfig | None = None,
        fps: float = 5.0,
        *,
        scenario: Scenario | None = None,
        run: LoadedRun | None = None,
        tour: int | None = None,
        sweep: Sweep | None = None,
    ) -> None:
        """`scenario`: start it on mount (tui-nn --scenario); `run`: a loaded run directory
        to adopt, paused (tui-nn --open); `tour`: open the guided tour at this stop
        (tui-nn tour); `sweep`: a sweep directory to show side by side (tui-nn --open)."""
        super().__init__()
        # Textual reads it from the instance; lab.tcss styles the three widths.
        self.HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (60, "-narrow"), (100, "-wide")]
        self.VERTICAL_BREAKPOINTS = [(0, "-short"), (20, "-tall")]
        self.runner = Runner(config)
        self.fps = min(max(float(fps), MIN_FPS), MAX_FPS)
        self._shown_version = -1
        self._lab_behind = False  # a view hid the lab while the run changed
        self._shown_config: ExperimentConfig | None = None
        self._shown_error: str | None = None
        self._start_scenario = scenario
        self._start_run = run
        self._start_tour = tour
        self._start_sweep = sweep
        self.comparison: CompareRunner | None = None  # the runs side by side, once asked
        self._last_run_dir: Path | None = run.path if run is not None else None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        config = self.runner.config
        # A grid (lab.tcss): wide, the config column beside the plots over the boundary;
        # narrow, the config over the boundary beside the plots at full height.
        with Container(id="main"):
            yield ConfigColumn(
                ConfigPanel("Data", DATA_FIELDS, config, id="data-panel"),
                ModelPanel("Model", MODEL_FIELDS, config, id="model-panel"),
                ConfigPanel("Optimizer", OPTIMIZER_FIELDS, config, id="optimizer-panel"),
                id="config",
            )
            yield PlotsPanel(id="plots")
            yield DecisionBoundary(id="boundary")
        with Readouts(id="readouts"):
            yield ScenarioLine(id="verdict")
            yield AdviceLine(id="advice")
            yield StatusLine(id="status")
        yield LabFooter()

    def on_mount(self) -> None:
        # Held, not queried per poll: a query looks at the active screen, which is
        # the help screen or the palette while one is open.
        self._status = self.query_one(StatusLine)
        self._plots = self.query_one(PlotsPanel)
        self._boundary = self.query_one(DecisionBoundary)
        self._panels = list(self.query(ConfigPanel))
        self._model_panel = self.query_one(ModelPanel)
        self._config = self.query_one(ConfigColumn)
        self._verdict = self.query_one(ScenarioLine)
        self._advice = self.query_one(AdviceLine)
        if self._start_run is not None:
            self.adopt_run(self._start_run)
        if self._start_scenario is not None:
            self.start_scenario(self._start_scenario)
        if self._start_tour is not None:
            self.push_screen(TourScreen(self._start_tour))
        if self._start_sweep is not None:
            self.open_sweep(self._start_sweep)
        self.set_interval(1.0 / self.fps, self.poll)
        self.poll()
        if not self.is_headless:
            # The objects of start-up (about 115k) live as long as the lab: a full garbage
            # collection walked them all on the UI thread, 60-90 ms a key could wait for.
            # (Not under tests' headless apps: frozen cycles would outlive each app.)
            self.call_after_refresh(gc.freeze)

    def on_unmount(self) -> None:
        self.runner.close()
        if self.comparison is not None:
            self.comparison.close()

    @property
    def lab_screen(self) -> Screen[Any]:
        """The lab's own screen, under the help screen or the palette when one is open."""
        return self.screen_stack[0]

    # ---------------------------------------------------------------- polling

    def poll(self) -> None:
        """Show the runner's latest snapshot; cheap when nothing changed. A view (opaque,
        full-screen) hides the lab: its widgets wait, since each redraw under a view
        re-renders the view too, and catch up at the first poll after it closes."""
        if not self.is_running or self._exit:
            return  # shutting down: the widgets are going away
        snap = self.runner.snapshot()
        views = [s for s in self.screen_stack if isinstance(s, View)]
        if not views:
            # The boundary throttles itself (twice a second), so it is offered every
            # poll: a grid it held back is shown even after the run has stopped.
            self._boundary.refresh_from(snap)
            if snap.version != self._shown_version or self._lab_behind:
                self._lab_behind = False
                self._refresh_lab(snap)
        elif snap.version != self._shown_version:
            self._lab_behind = True
        if snap.version == self._shown_version:
            return
        self._shown_version = snap.version
        for view in views:
            if view.is_mounted:  # one pushed a moment ago composes first
                view.refresh_from(snap)
        self._announce(snap)

    def _refresh_lab(self, snap: Snapshot) -> None:
        self._status.refresh_from(snap)
        self._verdict.refresh_from(snap)
        self._advice.refresh_from(snap)
        self._plots.refresh_from(snap)
        if snap.config is not self._shown_config:
            self._shown_config = snap.config
            for panel in self._panels:
                panel.sync(snap.config)
        self._model_panel.show_loss(snap.loss_name, snap.task)
        self._model_panel.show_parameters(snap.n_parameters)

    def _announce(self, snap: Snapshot) -> None:
        """A notification once per new worker error or divergence."""
        if snap.error and snap.error != self._shown_error:
            severity: SeverityLevel = "warning" if snap.state == "diverged" else "error"
            self.notify(snap.error, title=snap.state, severity=severity, markup=False)
        self._shown_error = snap.error

    # ----------------------------------------------------------------- config

    def on_field_edited(self, event: FieldEdited) -> None:
        self.apply(event.spec, event.value)

    def apply(self, spec: FieldSpec, value: Any) -> bool:
        """Validate one field's new value and hand it to the runner; on a refusal show
        the engine's reason next to the field (and as a notification when a view covers
        the field) and keep the run as it is."""
        field = self.lab_screen.query_one(f"#field-{spec.widget_id}", Field)
        try:
            config = self.runner.config.with_changes(**{spec.section: {spec.name: value}})
            self.runner.set_config(config)
        except ConfigError as exc:
            field.show_error(str(exc))
            if self.screen is not self.lab_screen:
                self.notify(str(exc), title="refused", severity="error", markup=False)
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
        """Reset at once, or after a yes when the run is long (it would be lost)."""
        steps = self.runner.snapshot().step
        if steps <= LONG_RUN_STEPS:
            self._reset(True)
        elif not isinstance(self.screen, ConfirmModal):
            question = (
                f"{steps:,} steps are done. A reset starts over at step 0 with the same "
                "seed, and this run is lost. r or enter resets; esc keeps the run."
            )
            self.push_screen(ConfirmModal("Reset the run?", question), self._reset)

    def _reset(self, yes: bool | None) -> None:
        if not yes:
            return
        try:
            self.runner.reset()
        except ConfigError as exc:  # e.g. the data file went away: keep the run
            self.notify(str(exc), title="reset", severity="error", markup=False)
        self.poll()

    def action_slower(self) -> None:
        self._change_speed(+1)

    def action_faster(self) -> None:
        self._change_speed(-1)

    def _change_speed(self, by: int) -> None:
        at = speed_index(self.runner.snapshot().speed) + by
        self.runner.set_speed(SPEEDS[min(max(at, 0), len(SPEEDS) - 1)])
        self.poll()

    def action_plot_tab(self, number: int) -> None:
        self._plots.show_tab(number)

    def action_smoothing(self) -> None:
        self._plots.cycle_smoothing()

    def action_zoom(self) -> None:
        self._plots.cycle_zoom()

    def action_validation_points(self) -> None:
        self._boundary.toggle_validation()

    def action_expand(self) -> None:
        self.lab_screen.toggle_class("-expanded")

    def action_add_layer(self) -> None:
        hidden = list(self.runner.config.model.hidden)
        self.apply(HIDDEN, [*hidden, hidden[-1] if hidden else NEW_LAYER_WIDTH])

    def action_remove_layer(self) -> None:
        hidden = list(self.runner.config.model.hidden)
        if hidden:
            self.apply(HIDDEN, hidden[:-1])

    def action_toggle_config(self) -> None:
        self._show_config(not self._config.display)

    def _show_config(self, show: bool) -> None:
        # Two classes, as the default differs: shown, but hidden below 60 columns.
        self.lab_screen.set_class(show, "-config-shown")
        self.lab_screen.set_class(not show, "-config-hidden")

    def action_leave_field(self) -> None:
        self.lab_screen.set_focus(None)

    def action_focus_next(self) -> None:
        self._focus_step(+1)

    def action_focus_previous(self) -> None:
        self._focus_step(-1)

    def _focus_step(self, by: int) -> None:
        """tab / shift+tab: in the lab, through every field of every panel (a narrow
        column shows one panel at a time), showing a hidden config column first."""
        if self.screen is not self.lab_screen:
            if by > 0:
                super().action_focus_next()
            else:
                super().action_focus_previous()
            return
        if not self._config.display:
            self._show_config(True)
        target = self._config.step(self.focused, by)
        if target is not None:
            target.focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ----------------------------------------------------------- lecture views

    def _open_view(self, screen: Screen[Any]) -> None:
        """Push a view over the lab, unless one of its kind is on top already."""
        if type(self.screen) is not type(screen):
            self.push_screen(screen)

    def action_scenarios(self) -> None:
        current = self.runner.scenario
        self._open_view(ScenarioScreen(current.name if current else None))

    def action_depth_profile(self) -> None:
        self._open_view(DepthScreen(self.runner))

    def action_gradcheck(self) -> None:
        self._open_view(GradcheckScreen(self.runner))

    def action_matrix_form(self) -> None:
        self._open_view(MatrixScreen(self.runner))

    def action_inside(self) -> None:
        self._open_view(InsideScreen(self.runner))

    def action_distributions(self) -> None:
        self._open_view(DistributionsScreen(self.runner))

    def action_timeline(self) -> None:
        self._open_view(TimelineScreen(self.runner))

    def action_notes(self) -> None:
        model = self.runner.config.model
        # One neuron (no hidden layer) has no hidden activation to mark as in use.
        self._open_view(NotesScreen(model.activation if model.hidden else "", model.init))

    def start_scenario(self, scenario: Scenario, counterexample: bool = False) -> None:
        """Load the scenario's preset (or its counter-example) and run it, on the plot
        that shows its claim."""
        try:
            self.runner.start_scenario(scenario, counterexample)
        except ConfigError as exc:
            self.notify(str(exc), title="scenario", severity="error", markup=False)
        else:
            self._plots.show_tab(scenario.plot)
        self.poll()

    def leave_scenario(self) -> None:
        self.runner.leave_scenario()
        self.poll()

    def on_scenario_started(self, event: ScenarioStarted) -> None:
        self.start_scenario(event.scenario, event.counterexample)

    def on_scenario_left(self, event: ScenarioLeft) -> None:
        self.leave_scenario()

    def on_step_wanted(self, event: StepWanted) -> None:
        self.action_step_once()

    def on_notes_wanted(self, event: NotesWanted) -> None:
        self.action_notes()

    # ------------------------------------------------------------- comparison

    def action_fork(self) -> None:
        self.on_command_wanted(CommandWanted("fork "))

    def action_command(self) -> None:
        self.on_command_wanted(CommandWanted(""))

    def on_command_wanted(self, event: CommandWanted) -> None:
        if isinstance(self.screen, CommandLine):
            return
        base = event.base

        def run(text: str) -> str:
            return self.run_command(text, base)

        self.push_screen(CommandLine(run, event.text), self._said)

    def run_command(self, text: str, base: ExperimentConfig | None = None) -> str:
        """Do one command line: `fork FIELD=VALUE`, `compare FIELD=V1,V2,...`, `compare
        NAME` (a lecture comparison or scenario), `tour`, or a bare `FIELD=VALUE[,...]`
        (a fork, or a comparison of several values). Returns what to tell the user;
        raises ConfigError (naming the field) with nothing changed."""
        verb, _, rest = text.strip().partition(" ")
        if "=" in verb:  # a bare assignment
            verb, rest = "", text.strip()
        if verb == "tour":
            self.call_later(self.action_tour)
            return "The guided tour"
        if verb in ("", "fork") and rest:
            assignment = parse_assignment(rest)
            if verb == "fork" or len(assignment.values) == 1:
                return self.fork(rest, base)
            return self.compare(rest)
        if verb == "compare" and rest:
            return self.compare(rest)
        raise ConfigError("command", f"unknown command {text.strip()!r}; try {CommandLine.HELP}")

    def fork(self, text: str, base: ExperimentConfig | None = None) -> str:
        """A copy of the run with one field changed, from step 0 with the same seeds. From
        the compare view (`base`: its selected run) it joins the comparison; from the lab
        it starts one: the lab's run (from step 0) beside its fork."""
        config = fork_config(base or self.runner.config, text)
        under = [s for s in self.screen_stack if not isinstance(s, CommandLine)][-1]
        on_compare = isinstance(under, CompareScreen) and not isinstance(under, TourScreen)
        if on_compare and self.comparison is not None:
            self.comparison.add(Entry(config))
            self.comparison.start()
            return f"Forked: {text.strip()}, from step 0"
        entries = [Entry(self.runner.config), Entry(config)]
        self.start_comparison(entries, f"fork: {text.strip()}")
        return f"Forked the run: {text.strip()}, both from step 0"

    def compare(self, text: str) -> str:
        """Runs from the lab's config, one a value (`activation=relu,tanh`), or a lecture
        comparison by name (`dying`, `init`, a scenario's name)."""
        if "=" not in text:
            try:
                comparison = comparison_of(text.strip())
            except KeyError as exc:
                raise ConfigError("compare", str(exc.args[0])) from None
            self.start_lecture_comparison(comparison)
            return f"Comparing: {comparison.title}"
        assignment = parse_assignment(text)
        self.start_comparison(entries_from(self.runner.config, assignment), describe(assignment))
        return f"Comparing {len(assignment.values)} runs: {describe(assignment)}"

    def on_comparison_wanted(self, event: ComparisonWanted) -> None:
        try:
            self.start_lecture_comparison(comparison_of(event.name))
        except (KeyError, ConfigError) as exc:
            self.notify(str(exc), title="compare", severity="error", markup=False)

    def start_lecture_comparison(self, comparison: Comparison) -> None:
        entries = [Entry(r.config, r.scenario, r.label, r.claim) for r in comparison.runs]
        self.start_comparison(entries, comparison.title, comparison.plot)

    def start_comparison(self, entries: list[Entry], title: str, plot: int | None = None) -> None:
        """Replace any comparison by these runs, started at once, on the compare view. The
        lab's run pauses (the two would share the cores); it is kept as it was."""
        if len(entries) > MAX_RUNS:
            raise ConfigError("compare", f"{len(entries)} runs: at most {MAX_RUNS} compare")
        runner = CompareRunner(entries, title)  # ConfigError here keeps the old one
        # Shown once the command line that asked for it has closed.
        self.call_later(self._show_comparison, runner, plot)

    def _show_comparison(self, runner: CompareRunner, plot: int | None) -> None:
        old, self.comparison = self.comparison, runner
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if old is not None:
            old.close()
        if self.runner.state == "running":
            self.runner.pause()
        runner.start()
        self.push_screen(CompareScreen(runner, plot=plot or 1))
        self.poll()

    def open_sweep(self, sweep: Sweep) -> None:
        """A sweep directory's members side by side, a page of up to MAX_RUNS at a time
        (] and [ turn the pages), each where its run stopped, paused."""
        runner = SweepRunner(sweep)
        old, self.comparison = self.comparison, runner
        if old is not None:
            old.close()
        self.push_screen(CompareScreen(runner))

    def action_compare_view(self) -> None:
        if self.comparison is None:
            self.notify(
                "No comparison yet: f forks this run, or :compare activation=relu,tanh",
                markup=False,
            )
            return
        if not isinstance(self.screen, CompareScreen):
            self.push_screen(CompareScreen(self.comparison))

    def action_tour(self) -> None:
        if not isinstance(self.screen, TourScreen):
            if self.runner.state == "running":
                self.runner.pause()
            if self.comparison is not None:
                self.comparison.pause()
            self.push_screen(TourScreen())

    # ------------------------------------------------------- experiments on disk

    def _ask_path(self, title: str, prompt: str, default: str, action: Any, **kw: Any) -> None:
        if isinstance(self.screen, PathModal):
            return
        self.push_screen(PathModal(title, prompt, default, action, **kw), self._said)

    def _said(self, message: str | None) -> None:
        if message:
            self.notify(message, markup=False)
        self.poll()

    def action_save_config(self) -> None:
        def save(path: Path) -> str:
            save_config(self.runner.config, path)
            return f"Saved the experiment to {path}"

        self._ask_path(
            "Save experiment",
            "The current config goes to this TOML file:",
            EXPERIMENT_FILE,
            save,
            confirm_existing=True,
        )

    def action_open_config(self) -> None:
        def load(path: Path) -> str:
            # Both raise ConfigError (missing file, bad TOML, unknown key, bad data file)
            # before anything changes: the modal shows it and the run is kept.
            self.runner.load(open_experiment(path))
            return f"Opened {path}: a new run"

        self._ask_path(
            "Open experiment", "A TOML experiment file; a new run starts from it:",
            EXPERIMENT_FILE, load,
        )  # fmt: skip

    def action_save_run(self) -> None:
        def save(path: Path) -> str:
            # Writing the metrics of a long run takes a while: a thread does it, so
            # neither the UI nor training waits; it notifies when done or on error.
            self.run_worker(
                lambda: self._save_run(path), thread=True, group="save-run", exit_on_error=False
            )
            return f"Saving the run under {path}..."

        self._ask_path(
            "Save run",
            "A new run directory (config, weights, metrics) goes under this folder:",
            RUNS_FOLDER,
            save,
        )

    def _save_run(self, root: Path) -> None:
        """On a worker thread: save the run, then tell the UI thread."""
        try:
            run_dir = self.runner.save(root)
        except OSError as error:
            what = error.strerror or type(error).__name__
            self.call_from_thread(self._save_failed, f"{error.filename or root}: {what}")
        except Exception as error:  # RunError, CheckpointError: their text says what is wrong
            self.call_from_thread(self._save_failed, str(error))
        else:
            self.call_from_thread(self._saved_run, run_dir)

    def _saved_run(self, run_dir: Path) -> None:
        self._last_run_dir = run_dir
        self.notify(f"Saved the run to {run_dir}", markup=False)

    def _save_failed(self, message: str) -> None:
        self.notify(message, title="cannot save the run", severity="error", markup=False)

    def action_open_run(self) -> None:
        def load(path: Path) -> str:
            return self.adopt_run(open_run(path))

        default = str(self._last_run_dir) if self._last_run_dir else RUNS_FOLDER + "/"
        self._ask_path("Open run", "A run directory (tui-nn train or S saved it):", default, load)

    def adopt_run(self, run: LoadedRun) -> str:
        """Show a loaded run directory: its trainer, paused where it stopped (or a new
        run from its config when it has no weights yet)."""
        self._last_run_dir = run.path
        if run.trainer is None:
            self.runner.load(run.config)
            message = f"{run.path} holds no weights yet: a new run from its config"
        else:
            self.runner.adopt(run.trainer)
            state = self.runner.state
            message = f"Opened {run.path} at step {run.trainer.steps_done} ({state})"
        self.poll()
        return message

    async def action_quit(self) -> None:
        # Tell the worker to stop, without joining it here on the event loop: it finishes
        # at most the step it is in while the app shuts down; on_unmount joins it.
        self.runner.stop()
        self.exit()
