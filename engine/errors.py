"""The errors every layer of the engine may raise: kept here so that no layer has to import
another one just to name a problem."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config value is not allowed; the message names the field and what is allowed."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message
