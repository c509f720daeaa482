"""The help screen: every key, built from the same registry as the bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_nn.commands import FIELD_KEYS, LAB_ACTIONS, LONG_RUN_STEPS
from tui_nn.messages import NotesWanted


def keys_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=False)
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("does")
    for entry in LAB_ACTIONS:
        table.add_row(entry.key_name, entry.help)
    table.add_row("", "")
    for key, does in FIELD_KEYS:
        table.add_row(key, does)
    return table


NOTES = (
    "Fields apply on enter or when you leave them. A refused value keeps the run and says "
    "what is allowed under the field. Data and model changes start a new run; a "
    "learning-rate change applies to the running one, and so does a new step budget "
    "(never below the steps done). Reset keeps the seed, and asks first when more than "
    f"{LONG_RUN_STEPS:,} steps would be lost. The file "
    "field takes a CSV or NPZ file instead of a synthetic set.\n\n"
    "The status line: the loss of the last minibatch, then the evaluation on the whole "
    "training and validation sets at the step it names. < and > set the pace, from full "
    "speed (the default) down to 3 steps a second, so the boundary forms before your "
    "eyes. Lines cut with ... (scenario, verdict, advice) show whole with w. "
    "The footer lists what fits the width; this screen and ctrl+p list everything.\n\n"
    "In the views: scenarios - enter runs one, c its counter-example, v both side by "
    "side with the lecture's other counter-examples, x leaves it; depth "
    "profile - 1-7 pick the source; matrix form - n or space takes a step; gradient "
    "check - r checks again. esc closes each.\n\n"
    "Press i for the lecture notes: a card for every activation and initializer."
)


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", key_display="esc"),
        Binding("i", "notes", "Lecture notes"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "tui-nn keys"
            body.border_subtitle = "i: notes · esc closes"
            yield Static(keys_table(), id="help-keys")
            yield Static(NOTES, id="help-notes", markup=False)

    def on_mount(self) -> None:
        # Focused, so up/down/pgdn scroll the list when it is taller than the screen.
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_notes(self) -> None:
        self.app.post_message(NotesWanted())  # to the app: this screen closes now
        self.dismiss(None)
