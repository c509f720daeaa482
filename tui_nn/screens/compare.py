"""The compare view: the runs of a comparison side by side, and the `:` command line.

Every plot tab overlays the runs (a colour a run, the legend names its differing values),
the decision boundaries are small multiples (one a run), and the table lists only what
differs between the runs with how each is doing. up/down select a run; p pins it (drawn
over the others, kept by x), h hides it (it keeps training), x drops it, f forks it (a
copy with one field changed, from step 0); C or esc goes back to the single-run view,
which is as it was. The comparison trains on in its own thread meanwhile. A sweep
directory's members (tui-nn --open DIR) show a page of up to 8 at a time: ] and [ turn
the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui_nn.commands import LabFooter
from tui_nn.core.compare import CompareRunner, CompareSnapshot
from tui_nn.core.sweeps import SweepRunner
from tui_nn.messages import CommandWanted
from tui_nn.screens.view import View
from tui_nn.widgets.compare import BoundaryGrid, CompareTable, detail
from tui_nn.widgets.compare_plots import ComparePlots

POLL = 0.5  # seconds between looks at the snapshot: the plots redraw at 2 Hz, the boundaries
# at the runner's look rate (compare.LOOK_INTERVAL)

# The keys of the compare view; the lab's own (space, n, 1-5, e, z) mean the same here.
COMPARE_KEYS: tuple[tuple[str, str, str, str], ...] = (
    # key, action, footer label ("" keeps it out of the footer), help
    ("space", "toggle_run", "run", "start or pause every run"),
    ("n", "step_once", "step", "one step of every run (pauses first)"),
    ("1,2,3,4,5", "plot_tab_key", "", "the plots, each overlaying the runs"),
    ("up,k", "select(-1)", "", "select the run above"),
    ("down,j", "select(1)", "", "select the run below"),
    ("p", "pin", "pin", "pin the selected run: drawn over the others, kept by x"),
    ("h", "hide", "hide", "hide or show the selected run (it keeps training)"),
    ("x", "drop", "drop", "stop the selected run and take it out"),
    ("f", "fork", "fork", "fork the selected run: one field changed, from step 0"),
    ("colon", "command", ":cmd", "the command line: fork, compare, tour"),
    ("right_square_bracket", "page(1)", "page", "a sweep's next page of members (8 a page)"),
    ("left_square_bracket", "page(-1)", "", "a sweep's page of members before"),
    ("l", "layer", "layer", "the layer the gradient and update plots show"),
    ("e", "smoothing", "smooth", "smooth the plots: EMA off, 0.6, 0.9, 0.99"),
    ("z", "zoom", "zoom", "zoom: the whole run, the first steps, the last window"),
    ("C,escape", "close", "single", "back to the single-run view (the runs go on)"),
    ("q", "app.quit", "quit", "quit"),
)


def compare_bindings() -> list[BindingType]:
    bindings: list[BindingType] = []
    for key, action, footer, text in COMPARE_KEYS:
        if action == "plot_tab_key":
            for n in key.split(","):
                bindings.append(Binding(n, f"plot_tab({n})", "plot", show=n == "1"))
            continue
        display = {
            "colon": ":",
            "C,escape": "C",
            "right_square_bracket": "]",
            "left_square_bracket": "[",
        }.get(key)
        bindings.append(
            Binding(key, action, footer or text, show=bool(footer), key_display=display)
        )
    return bindings


def status_line(snap: CompareSnapshot) -> str:
    shown = len(snap.shown)
    hidden = f", {len(snap.runs) - shown} hidden" if shown < len(snap.runs) else ""
    return (
        f"COMPARE {snap.state.upper()}  step {snap.step:,}  {len(snap.runs)} runs{hidden}"
        f"  {snap.title}"
    )


class CompareScreen(View):
    """The comparison a CompareRunner trains; it polls the runner's snapshot itself."""

    BINDINGS: ClassVar[list[BindingType]] = compare_bindings()

    def __init__(self, runner: CompareRunner, poll: float = POLL, plot: int = 1) -> None:
        """`plot`: the tab shown first (a lecture comparison's)."""
        super().__init__()
        self.runner = runner
        self.first_plot = plot
        self.poll_every = poll
        self.selected: int | None = None
        self._shown_version = -1

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-top"):
            yield ComparePlots(id="compare-plots", min_interval=0.0)  # the poll's rate
            yield BoundaryGrid(id="compare-boundaries")
        with Vertical(id="compare-bottom"):
            yield CompareTable(id="compare-table")
            yield Static("", id="compare-detail")
            yield Static("", id="compare-status")
        yield LabFooter()

    def on_mount(self) -> None:
        self.plots.show_tab(self.first_plot)
        self.set_interval(self.poll_every, self.poll)
        self.poll()

    @property
    def plots(self) -> ComparePlots:
        return self.query_one(ComparePlots)

    def poll(self) -> None:
        """Show the comparison's latest snapshot; cheap when nothing changed."""
        if not self.is_mounted:
            return
        snap = self.runner.snapshot()
        boundaries = self.query_one(BoundaryGrid)
        if snap.version == self._shown_version:
            boundaries.refresh_from(snap, self.selected)  # they throttle themselves
            return
        self._shown_version = snap.version
        indices = [r.index for r in snap.runs]
        if self.selected not in indices:
            self.selected = indices[0] if indices else None
        self.plots.refresh_from(snap)
        boundaries.refresh_from(snap, self.selected)
        self.query_one(CompareTable).show(snap, self.selected)
        # Lines of a fixed height: no new layout of the screen (it costs a frame).
        self.query_one("#compare-detail", Static).update(detail(snap, self.selected), layout=False)
        self.query_one("#compare-status", Static).update(status_line(snap), layout=False)

    def _redraw(self) -> None:
        self._shown_version = -1
        self.poll()

    def use(self, runner: CompareRunner) -> None:
        """Show another comparison (the tour's next stop); the caller closes the old one."""
        self.runner = runner
        self.selected = None
        self._redraw()

    # ---------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The page keys are a sweep's (tui-nn --open DIR) with more than one page."""
        if action == "page":
            runner = self.runner
            return isinstance(runner, SweepRunner) and runner.pages > 1
        return super().check_action(action, parameters)

    def action_page(self, by: int) -> None:
        runner = self.runner
        if isinstance(runner, SweepRunner) and runner.turn(by):
            self.selected = None
            self._redraw()

    def action_toggle_run(self) -> None:
        self.runner.toggle()
        self.poll()

    def action_step_once(self) -> None:
        self.runner.step()
        self.poll()

    def action_plot_tab(self, number: int) -> None:
        self.plots.show_tab(number)

    def action_smoothing(self) -> None:
        self.plots.cycle_smoothing()

    def action_zoom(self) -> None:
        self.plots.cycle_zoom()

    def action_layer(self) -> None:
        self.plots.cycle_layer()

    def action_select(self, by: int) -> None:
        indices = [r.index for r in self.runner.snapshot().runs]
        if not indices:
            return
        at = indices.index(self.selected) if self.selected in indices else 0
        self.selected = indices[(at + by) % len(indices)]
        self._redraw()

    def _selected_run(self) -> int | None:
        if self.selected is None:
            self.notify("No run selected.", severity="warning")
        return self.selected

    def action_pin(self) -> None:
        index = self._selected_run()
        if index is not None:
            run = next(r for r in self.runner.snapshot().runs if r.index == index)
            self.runner.set_pinned(index, not run.pinned)
            self._redraw()

    def action_hide(self) -> None:
        index = self._selected_run()
        if index is not None:
            run = next(r for r in self.runner.snapshot().runs if r.index == index)
            self.runner.set_hidden(index, not run.hidden)
            self._redraw()

    def action_drop(self) -> None:
        index = self._selected_run()
        if index is None:
            return
        if len(self.runner.snapshot().runs) <= 1:
            self.notify("The last run stays: C goes back to the single-run view.")
            return
        try:
            self.runner.drop(index)
        except ValueError as exc:  # pinned
            self.notify(str(exc), severity="warning", markup=False)
        self._redraw()

    def action_fork(self) -> None:
        snap = self.runner.snapshot()
        run = next((r for r in snap.runs if r.index == self.selected), None)
        self.app.post_message(CommandWanted("fork ", run.config if run else None))

    def action_command(self) -> None:
        self.app.post_message(CommandWanted(""))


# What the command line does with a line: a message for the user, or an exception
# whose text is shown under the line (the line stays open to fix it).
CommandAction = Callable[[str], str]


class CommandLine(ModalScreen[str | None]):
    """The `:` command line at the bottom of the screen; esc closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    HELP = (
        "fork FIELD=VALUE · compare FIELD=V1,V2,... · compare NAME (a lecture comparison) "
        "· tour  (widths: hidden=16;16,16)"
    )

    def __init__(self, run: CommandAction, text: str = "") -> None:
        super().__init__()
        self.run = run
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="command-body"):
            yield Static(self.HELP, markup=False, id="command-help")
            yield Static("", markup=False, id="command-error")
            with Horizontal(id="command-row"):
                yield Static(":", id="command-colon")
                yield Input(self.text, compact=True, id="command-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def error(self) -> str:
        return str(self.query_one("#command-error", Static).content)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.dismiss(None)
            return
        try:
            message = self.run(text)
        except Exception as error:  # ConfigError and the like: their text says what
            widget = self.query_one("#command-error", Static)
            widget.update(str(error))
            widget.add_class("-shown")
            return
        self.dismiss(message)

    def action_cancel(self) -> None:
        self.dismiss(None)
