"""The scenario picker: the lecture's claims, each a preset run the lab judges live.

enter runs the highlighted scenario's preset, c its counter-example (one setting changed,
so the judge should say "not observed"), v both side by side on the compare view (with
every counter-example the lecture names), x leaves the scenario and keeps the run. Each
scenario says which plot shows its claim and what to look at there.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine import ExperimentConfig
from engine.config import FIELDS
from engine.lecture.scenarios import PLOT_TABS, SCENARIOS, Scenario, comparison_of
from tui_nn.commands import LabFooter
from tui_nn.messages import ComparisonWanted, ScenarioLeft, ScenarioStarted
from tui_nn.screens.view import View

PIECES = FIELDS["model.maxout_k"]
SCALE = FIELDS["model.init_scale"]


def preset_rows(config: ExperimentConfig) -> list[tuple[str, str]]:
    """The preset as labelled rows: data, model, training."""
    d, m, o, t = config.data, config.model, config.optimizer, config.training
    if m.hidden:
        model = f"hidden {','.join(map(str, m.hidden))}, {m.activation}"
        if PIECES.when(config):  # where the schema says k applies (maxout)
            model += f" (k = {m.maxout_k})"
    else:
        model = "no hidden layer: one neuron"
    model += f", {m.init} init"
    if SCALE.when(config):  # an init drawn at init_scale (normal, uniform, constant)
        model += f" (scale {m.init_scale:g})"
    if m.loss != "auto":
        model += f", {m.loss}"
    return [
        ("data", f"{d.name}, {d.n_samples} samples"),
        ("model", model),
        ("training", f"{o.name} lr {o.lr:g}, {t.steps} steps, seed {t.seed}"),
    ]


def details(scenario: Scenario) -> Group:
    judged = "holds to the last step" if scenario.kind == "persists" else "shows at some step"
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(style="italic", no_wrap=True)
    grid.add_column()
    for label, value in preset_rows(scenario.config):
        grid.add_row(label, value)
    grid.add_row("judged", f"observed when the claim {judged}")
    if scenario.counterexample:
        grid.add_row("c runs", f"{scenario.counterexample}: the judge should say not observed")
    runs = ", ".join(run.label for run in comparison_of(scenario.name).runs)
    grid.add_row("v runs", f"side by side: {runs}")
    look = Text(f"look at (plot {scenario.plot}, {PLOT_TABS[scenario.plot - 1]}): ", "italic")
    look.append(scenario.look_at, style="not italic")
    return Group(
        Text(scenario.title, style="bold"),
        Text(""),
        Text(scenario.claim),
        Text(""),
        look,
        Text(""),
        grid,
    )


class ScenarioScreen(View):
    """A list of scenarios beside the highlighted one's claim and preset."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "run it", priority=True),
        Binding("v", "side_by_side", "side by side"),
        Binding("c", "counter", "counter-example"),
        Binding("x", "leave", "leave scenario"),
        Binding("escape,q,s", "close", "close", key_display="esc"),
    ]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Horizontal(id="scenario-body"):
            options = OptionList(
                *(Option(s.title, id=name) for name, s in SCENARIOS.items()), id="scenario-list"
            )
            options.border_title = "Lecture scenarios"
            yield options
            with VerticalScroll(id="scenario-side"):  # a long claim scrolls at 80x24
                yield Static("", markup=False, id="scenario-details")
                yield Static("", markup=False, id="scenario-current")
        yield LabFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = list(SCENARIOS)
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()
        current = self.query_one("#scenario-current", Static)
        if self.current:
            current.update(f"on now: {self.current} (x leaves it, keeping the run)")
        self._show()

    @property
    def highlighted(self) -> Scenario:
        options = self.query_one(OptionList)
        option = options.get_option_at_index(options.highlighted or 0)
        return SCENARIOS[str(option.id)]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # enter is bound with priority; a click lands here
        self.action_run()

    def _show(self) -> None:
        self.query_one("#scenario-details", Static).update(details(self.highlighted))

    def action_run(self) -> None:
        self._start(counterexample=False)

    def action_counter(self) -> None:
        self._start(counterexample=True)

    # Posted to the app, not to this screen: it is dismissed at once, and a message
    # left in a closed screen's queue would never bubble up.
    def _start(self, counterexample: bool) -> None:
        self.app.post_message(ScenarioStarted(self.highlighted, counterexample))
        self.dismiss()

    def action_side_by_side(self) -> None:
        self.app.post_message(ComparisonWanted(self.highlighted.name))
        self.dismiss()

    def action_leave(self) -> None:
        self.app.post_message(ScenarioLeft())
        self.dismiss()
