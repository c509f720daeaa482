"""Every lecture notes card (engine.lecture.notes.all_cards): activations, then initializers.

Reachable with i from the lab, from the help screen, and from the command palette.
Cards are plain text (intervals like [0, inf) are literal), shown without markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.lecture.notes import all_cards
from tui_nn.commands import LabFooter
from tui_nn.screens.view import View
from tui_nn.widgets.notes import card_text

SECTIONS: dict[str, str] = {
    "activation": "Activations",
    "init": "Weight initialization",
}


class NotesScreen(View):
    """A scrolling list of cards; the cards for the lab's choices are marked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "close", "close", key_display="esc"),
    ]

    def __init__(self, activation: str = "", init: str = "") -> None:
        super().__init__()
        self.current = {f"activation:{activation}", f"init:{init}"}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="notes-body") as body:
            body.border_title = "Lecture notes"
            section = ""
            for key, card in all_cards().items():
                kind = key.split(":", 1)[0]
                if kind != section:
                    section = kind
                    yield Static(
                        Text(SECTIONS.get(kind, kind), style="bold underline"),
                        classes="notes-section",
                    )
                text = card_text(card)
                classes = "notes-card"
                if key in self.current:
                    text.append("\n(in use in the lab)", style="italic")
                    classes += " -current"
                yield Static(text, classes=classes)
        yield LabFooter()

    def on_mount(self) -> None:
        body = self.query_one(VerticalScroll)
        body.focus()
        current = self.query(".notes-card.-current")
        if current:  # open at the card of the lab's activation
            first = current.first()
            self.call_after_refresh(body.scroll_to_widget, first, animate=False, top=True)
