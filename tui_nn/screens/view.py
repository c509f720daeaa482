"""The base of the lab's full-screen views (scenarios, depth profile, gradient check,
matrix form, notes).

A modal screen, so only the view's own keys act while it is open (the lab's space or n
do not reach past it) and the footer lists just those; opaque, so it reads as a page.
"""

from __future__ import annotations

from typing import ClassVar

from textual.screen import ModalScreen


class View(ModalScreen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    View {
        background: $background;
    }
    """

    def action_close(self) -> None:
        self.dismiss(None)
