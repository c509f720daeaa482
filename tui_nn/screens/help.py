"""The help screen: every key, built from the same registry as the bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_nn.commands import FIELD_KEYS, LAB_ACTIONS


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
    "Fields apply on enter or when you leave them. A refused value keeps the run\n"
    "and says what is allowed under the field. Data and model changes start a new\n"
    "run; a learning-rate change applies to the running one. Reset keeps the seed."
)


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", key_display="esc")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "tui-nn keys"
            body.border_subtitle = "esc closes"
            yield Static(keys_table(), id="help-keys")
            yield Static(NOTES, id="help-notes", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
