"""The lab's actions in one registry: key bindings, the footer, the command palette
and the help screen are all built from `LAB_ACTIONS`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEY_NAMES: dict[str, str] = {
    "plus": "+",
    "minus": "-",
    "question_mark": "?",
    "escape": "esc",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "colon": ":",
}


@dataclass(frozen=True)
class LabAction:
    key: str  # Textual key name(s), comma separated
    action: str  # app action, e.g. "toggle_run" or "plot_tab(2)"
    footer: str  # short label for the footer ("" keeps it out of the footer)
    title: str  # command palette entry
    help: str  # one line for the palette and the help screen
    key_display: str | None = None  # how the key is written in the footer and help
    # Footer priority: where the footer is too narrow for every entry, the entries of
    # the highest rank go first (1: always there, down to 40 columns).
    rank: int = 1

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

# Footer ranks, so that 40 columns keep the keys that run the lab, 80 add the speed,
# the plots, the expand key and the scenarios, and 120 the other lecture views.
CORE, PACE, VIEW, LECTURE, EDIT, PLOT_KEYS, PALETTE = 1, 2, 3, 4, 5, 6, 7

LAB_ACTIONS: tuple[LabAction, ...] = (
    LabAction("space", "toggle_run", "run", "Start / pause", "start or pause training"),
    LabAction("n", "step_once", "step", "Step", "one training step (pauses first)"),
    LabAction(
        "r",
        "reset",
        "reset",
        "Reset",
        "restart the run: same seed, same weights (asks first on a long run)",
    ),
    *(
        LabAction(
            str(i),
            f"plot_tab({i})",
            "plot" if i == 1 else "",
            f"Plot: {name}",
            f"show the {name} plot",
            key_display="1-5" if i == 1 else None,
            rank=VIEW,
        )
        for i, name in PLOT_TABS.items()
    ),
    # One footer entry for each pair, as for + and -.
    LabAction(
        "less_than_sign",
        "slower",
        "speed",
        "Slower",
        "train slower, down to 3 steps a second, to watch the boundary form",
        "</>",
        PACE,
    ),
    LabAction(
        "greater_than_sign",
        "faster",
        "",
        "Faster",
        "train faster, up to full speed (the default)",
        ">",
        PACE,
    ),
    LabAction(
        "w",
        "expand",
        "expand",
        "Expand the cut lines",
        "show the scenario, verdict and advice lines whole, or cut again",
        rank=VIEW,
    ),
    LabAction(
        "e",
        "smoothing",
        "smooth",
        "Smoothing",
        "smooth the plot: EMA off, 0.6, 0.9, 0.99",
        rank=PLOT_KEYS,
    ),
    LabAction(
        "z",
        "zoom",
        "zoom",
        "Zoom",
        "zoom the plot: the whole run, the first steps, the last window",
        rank=PLOT_KEYS,
    ),
    LabAction(
        "v",
        "validation_points",
        "val",
        "Validation points",
        "show or hide the validation points on the decision boundary",
        rank=PLOT_KEYS,
    ),
    LabAction("plus", "add_layer", "layer", "Add a layer", "append a hidden layer", "+/-", EDIT),
    LabAction("minus", "remove_layer", "", "Remove a layer", "drop the last hidden layer", "-"),
    LabAction(
        "c",
        "toggle_config",
        "config",
        "Show / hide config",
        "toggle the config column",
        rank=EDIT,
    ),
    # The lecture's views.
    LabAction(
        "s",
        "scenarios",
        "scenarios",
        "Scenarios",
        "pick a lecture scenario: run it, judge its claim live",
        rank=VIEW,
    ),
    LabAction(
        "d",
        "depth_profile",
        "depth",
        "Depth profile",
        "per-layer activations at init (CS231n 10x500)",
        rank=LECTURE,
    ),
    LabAction(
        "g",
        "gradcheck",
        "gradcheck",
        "Gradient check",
        "backprop vs numeric gradients, per parameter",
        rank=LECTURE,
    ),
    LabAction(
        "m",
        "matrix_form",
        "matrix",
        "Matrix form",
        "W, b, z, a per layer; n steps inside",
        rank=LECTURE,
    ),
    LabAction(
        "i", "notes", "notes", "Lecture notes", "every activation and init card", rank=LECTURE
    ),
    # Inside the network.
    LabAction(
        "u",
        "inside",
        "inside",
        "Inside the network",
        "a tile per unit, dead and saturated marked; unit similarity",
        rank=LECTURE,
    ),
    LabAction(
        "D",
        "distributions",
        "distributions",
        "Distributions",
        "activations and gradients of each layer over time",
        rank=LECTURE,
    ),
    LabAction(
        "T",
        "timeline",
        "timeline",
        "Timeline",
        "what happened, when: units dying, saturating, loss spikes",
        rank=LECTURE,
    ),
    # Comparison: runs side by side.
    LabAction(
        "f",
        "fork",
        "fork",
        "Fork",
        "a copy of this run with one field changed, side by side from step 0",
        rank=LECTURE,
    ),
    LabAction(
        "C",
        "compare_view",
        "compare",
        "Compare view",
        "the comparison's runs side by side; C again: back to this run",
        rank=LECTURE,
    ),
    LabAction(
        "colon",
        "command",
        "",
        "Command line",
        "command line: compare activation=relu,tanh, compare dying, fork lr=0.1, tour",
        ":",
    ),
    LabAction(
        "t",
        "tour",
        "tour",
        "Guided tour",
        "the lecture in order, each stop a comparison with its verdicts",
        rank=LECTURE,
    ),
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
    ("tab / shift+tab", "next / previous field (the config column scrolls to it)"),
    ("enter", "apply a field, or open a choice list"),
    ("up / down", "open a choice list, move in it"),
    ("ctrl+p", "command palette: every action by name"),
    ("ctrl+q", "quit"),
)

# The paces < and > step through, fastest first; None is full speed (the default).
SPEEDS: tuple[float | None, ...] = (None, 1000.0, 300.0, 100.0, 30.0, 10.0, 3.0)
# r asks before throwing away more steps than this (a default run, 2,000, resets at once).
LONG_RUN_STEPS = 5000

# The compare view's and the tour's own keys (tui_nn.screens.compare, .tour), for the
# footer: the tour's next and back first, the plot keys last.
VIEW_RANKS: dict[str, int] = {
    "next_stop": CORE,
    "previous_stop": CORE,
    "close": PACE,
    "app.quit": PACE,
    "pin": VIEW,
    "hide": VIEW,
    "drop": VIEW,
    "command": EDIT,
    "layer": PLOT_KEYS,
}
RANKS: dict[str, int] = VIEW_RANKS | {entry.action: entry.rank for entry in LAB_ACTIONS}


def footer_width(key_display: str, description: str) -> int:
    """The cells a compact FooterKey takes: key, a space, its label, and the margin after
    it (the palette key has a bar to its left instead)."""
    return cell_len(key_display) + (1 + cell_len(description) if description else 0) + 1


def fitting(entries: list[tuple[int, int]], width: int) -> set[int]:
    """Which entries (rank, cells) fit in `width`: the best ranks first, then in order."""
    shown: set[int] = set()
    used = 0
    for index in sorted(range(len(entries)), key=lambda i: (entries[i][0], i)):
        cells = entries[index][1]
        if used + cells <= width:
            shown.add(index)
            used += cells
    return shown


class LabFooter(Footer):
    """Textual's footer, but only whole keys: where the width holds not every key, the
    lab's most needed ones (LabAction.rank) stay and the others go, the palette key
    first; keys of other screens keep their order. A screen of any width reads words."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._composed_width = -1

    def compose(self) -> ComposeResult:
        keys = [key for key in super().compose() if isinstance(key, FooterKey)]
        width = self.size.width or self.app.size.width
        self._composed_width = width
        entries = [
            (
                PALETTE if key.has_class("-command-palette") else RANKS.get(key.action, CORE),
                footer_width(key.key_display, key.description),
            )
            for key in keys
        ]
        shown = fitting(entries, width)
        yield from (key for index, key in enumerate(keys) if index in shown)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)


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
