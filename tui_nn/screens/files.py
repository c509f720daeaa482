"""Small modals: one asks for a path and does one thing with it (save or open an
experiment file, save or open a run directory), one asks before something is lost.

The path action runs when enter is pressed. An error (a missing file, bad TOML, an
unknown key, a broken run directory) is shown in the modal, which stays open with the
path to fix; nothing in the lab changes until the action succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui_nn.core.files import resolve

# Does the thing with the resolved path; returns what to tell the user, or raises
# an exception whose text is shown in the modal.
PathAction = Callable[[Path], str]


class PathModal(ModalScreen[str | None]):
    """Title, what the path is for, a path field, and the last error under it.

    Dismisses with the action's message on success, None on esc. With `confirm_existing`
    an existing path needs a second enter (overwrite)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        prompt: str,
        default: str,
        action: PathAction,
        confirm_existing: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.default = default
        self.action_fn = action
        self.confirm_existing = confirm_existing
        self._confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="path-body") as body:
            body.border_title = self.title_text
            body.border_subtitle = "enter: ok · esc: cancel"
            yield Static(self.prompt, markup=False, id="path-prompt")
            yield Input(self.default, compact=True, id="path-input")
            yield Static("", markup=False, id="path-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def error(self) -> str:
        return str(self.query_one("#path-error", Static).content)

    def show_error(self, text: str) -> None:
        widget = self.query_one("#path-error", Static)
        widget.update(text)
        widget.set_class(bool(text), "-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.show_error("Type a path first.")
            return
        path = resolve(text)
        if self.confirm_existing and path.exists() and self._confirmed != path:
            self._confirmed = path
            self.show_error(f"{path} exists: enter again to overwrite it, or change the path.")
            return
        try:
            message = self.action_fn(path)
        except OSError as error:
            what = error.strerror or type(error).__name__
            self.show_error(f"{error.filename or path}: {what}")
            return
        except Exception as error:  # ConfigError, RunError: their text says what is wrong
            self.show_error(str(error))
            return
        self.dismiss(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A question with a yes and a no: dismisses True on enter, y or r (the reset key
    pressed again), False on esc or n."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y,r", "confirm", "yes"),
        Binding("escape,n", "cancel", "no"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body") as body:
            body.border_title = self.title_text
            body.border_subtitle = "enter: yes · esc: no"
            yield Static(self.question, markup=False, id="confirm-question")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
