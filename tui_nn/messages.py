"""Messages the widgets post to the app. Commands flow up as messages; run data
flows down as snapshots the app polls, never as a message per training step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tui_nn.core.fields import FieldSpec


class FieldEdited(Message):
    """A config field was submitted: the app validates it and applies it, or the
    panel shows the engine's ConfigError text next to the field."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__()
        self.spec = spec
        self.value = value  # parsed when it parses; the raw text otherwise, so the
        # engine's validation names what is allowed
