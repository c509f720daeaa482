"""Messages the widgets and views post to the app. Commands flow up as messages; run data
flows down as snapshots the app polls, never as a message per training step.

A view reads the run through the `RunReader` the app hands it (tui_nn.core.runner) and
asks for a change with one of these; it never calls the app or the runner itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from engine.config import ExperimentConfig
    from engine.lecture.scenarios import Scenario
    from tui_nn.core.fields import FieldSpec


class FieldEdited(Message):
    """A config field was submitted: the app validates it and applies it, or shows the
    engine's ConfigError text next to the field (and as a notification when a view
    covers the lab's panels)."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__()
        self.spec = spec
        self.value = value  # parsed when it parses; the raw text otherwise, so the
        # engine's validation names what is allowed


class ScenarioStarted(Message):
    """Run the scenario's preset (or its counter-example) from step 0."""

    def __init__(self, scenario: Scenario, counterexample: bool = False) -> None:
        super().__init__()
        self.scenario = scenario
        self.counterexample = counterexample


class ScenarioLeft(Message):
    """Drop the scenario and its verdict; keep the run."""


class StepWanted(Message):
    """Take one training step, as n does in the lab."""


class NotesWanted(Message):
    """Open the lecture notes, as i does in the lab."""


class CommandWanted(Message):
    """Open the `:` command line with `text` typed in (e.g. "fork "); `base` is the config
    a fork starts from (the compare view's selected run), None for the lab's run."""

    def __init__(self, text: str = "", base: ExperimentConfig | None = None) -> None:
        super().__init__()
        self.text = text
        self.base = base


class ComparisonWanted(Message):
    """Run a lecture comparison side by side (engine.lecture.scenarios.comparison_of: a
    comparison's or a scenario's name), on the compare view."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
