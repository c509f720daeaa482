"""The lab's actions in one registry: key bindings, the footer, the command palette
and the help screen are all built from `LAB_ACTIONS`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

KEY_NAMES: dict[str, str] = {"plus": "+", "minus": "-", "question_mark": "?", "escape": "esc"}


@dataclass(frozen=True)
class LabAction:
    key: str  # Textual key name(s), comma separated
    action: str  # app action, e.g. "toggle_run" or "plot_tab(2)"
    footer: str  # short label for the footer ("" keeps it out of the footer)
    title: str  # command palette entry
    help: str  # one line for the palette and the help screen
    key_display: str | None = None  # how the key is written in the footer and help

    @property
    def key_name(self) -> str:
        """This very key, as a person reads it: "+" for "plus"."""
        return KEY_NAMES.get(self.key, self.key)

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.footer or self.title,
            show=bool(self.footer),
            key_display=self.key_display,
        )


PLOT_TABS: dict[int, str] = {
    1: "loss",
    2: "accuracy",
    3: "dead / saturated units",
    4: "gradient norm",
    5: "update / weight ratio",
}

LAB_ACTIONS: tuple[LabAction, ...] = (
    LabAction("space", "toggle_run", "run", "Start / pause", "start or pause training"),
    LabAction("n", "step_once", "step", "Step", "one training step (pauses first)"),
    LabAction("r", "reset", "reset", "Reset", "restart the run: same seed, same weights"),
    *(
        LabAction(
            str(i),
            f"plot_tab({i})",
            "plot" if i == 1 else "",
            f"Plot: {name}",
            f"show the {name} plot",
            key_display="1-5" if i == 1 else None,
        )
        for i, name in PLOT_TABS.items()
    ),
    # One footer entry for the pair: the footer has to fit 80 columns.
    LabAction("plus", "add_layer", "layer", "Add a layer", "append a hidden layer", "+/-"),
    LabAction("minus", "remove_layer", "", "Remove a layer", "drop the last hidden layer", "-"),
    LabAction("c", "toggle_config", "config", "Show / hide config", "toggle the config column"),
    # The lecture's views: in the help screen and the palette (the footer fits 80 columns).
    LabAction(
        "s", "scenarios", "", "Scenarios", "pick a lecture scenario: run it, judge its claim live"
    ),
    LabAction(
        "d", "depth_profile", "", "Depth profile", "per-layer activations at init (CS231n 10x500)"
    ),
    LabAction(
        "g", "gradcheck", "", "Gradient check", "backprop vs numeric gradients, per parameter"
    ),
    LabAction("m", "matrix_form", "", "Matrix form", "W, b, z, a per layer; n steps inside"),
    LabAction("i", "notes", "", "Lecture notes", "every activation and init card"),
    # Experiments on disk.
    LabAction("ctrl+s", "save_config", "", "Save experiment", "save the config to a TOML file"),
    LabAction(
        "ctrl+o", "open_config", "", "Open experiment", "open a TOML file: a new run from it"
    ),
    LabAction("S", "save_run", "", "Save run", "save the run as a run directory"),
    LabAction("O", "open_run", "", "Open run", "open a run directory, paused, to train on"),
    LabAction("escape", "leave_field", "", "Leave field", "leave a field so the keys act", "esc"),
    LabAction("question_mark", "help", "help", "Help", "list every key", "?"),
    LabAction("q", "quit", "quit", "Quit", "stop training and quit"),
)

# Keys handled by Textual itself, listed on the help screen next to the lab's own.
FIELD_KEYS: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "next / previous field"),
    ("enter", "apply a field, or open a choice list"),
    ("up / down", "open a choice list, move in it"),
    ("ctrl+p", "command palette: every action by name"),
    ("ctrl+q", "quit"),
)


class LabCommands(Provider):
    """Every lab action by name in the command palette (ctrl+p)."""

    def _entries(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        """Per action: the text shown (title and key), what runs it, its help."""
        for entry in LAB_ACTIONS:
            run = partial(self.app.run_action, entry.action)
            yield f"{entry.title} ({entry.key_name})", run, entry.help

    async def discover(self) -> Hits:
        for text, run, help in self._entries():
            yield DiscoveryHit(text, run, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, run, help in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, help=help)
