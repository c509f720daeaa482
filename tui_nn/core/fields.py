"""The config fields as the lab edits them: how a field's text parses and its value shows.
Which fields, their labels, panels, choices and relevance come from the schema
(engine.config.FIELDS). UI-free: the panels in tui_nn.widgets draw these."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import ExperimentConfig
from engine.config import FIELDS, Setting
from engine.config.schema import names_from_text

Relevance = Callable[[ExperimentConfig], bool]


def _always(_config: ExperimentConfig) -> bool:
    return True


@dataclass(frozen=True)
class FieldSpec:
    section: str  # config section: data, model, optimizer or training
    name: str  # field of that section
    label: str
    kind: str  # a key of PARSERS
    choices: Callable[[], list[str]] | None = None  # a Select when given
    relevant: Relevance = _always  # hidden when it does not apply to the config

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def widget_id(self) -> str:
        return f"{self.section}-{self.name}"

    def value_in(self, config: ExperimentConfig) -> Any:
        return getattr(getattr(config, self.section), self.name)

    def parse(self, text: str) -> Any:
        return PARSERS[self.kind](text)

    def format(self, value: Any) -> str:
        return FORMATTERS[self.kind](value)


# ------------------------------------------------------------------ parsing
# A parser returns the typed value, or the raw text when it does not parse: the
# engine then refuses it with a message that names what is allowed.


def _parse_int(text: str) -> Any:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _parse_float(text: str) -> Any:
    try:
        return float(text.strip())
    except ValueError:
        return text


def _parse_path(text: str) -> str:
    """A file path as typed: ~ expanded, made absolute (so a saved config finds it from
    any folder); empty text means no file (the named synthetic set)."""
    text = text.strip()
    return os.path.abspath(os.path.expanduser(text)) if text else ""


def _parse_widths(text: str) -> Any:
    """'16,16' or '16 16' -> [16, 16]; empty -> [] (no hidden layer: one neuron)."""
    tokens = [t for t in text.replace(",", " ").split() if t]
    try:
        return [int(t) for t in tokens]
    except ValueError:
        return text


PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _parse_int,
    "float": _parse_float,
    "widths": _parse_widths,
    "names": names_from_text,
    "choice": str,
    "path": _parse_path,
    "text": str.strip,
}

FORMATTERS: dict[str, Callable[[Any], str]] = {
    "int": str,
    "float": repr,  # the shortest text that reads back as the same float
    "widths": lambda widths: ",".join(str(w) for w in widths),
    "names": ",".join,
    "choice": str,
    "path": str,
    "text": str,
}


def spec_of(field: Setting) -> FieldSpec:
    """The lab's view of a schema field."""
    return FieldSpec(
        field.section,
        field.name,
        field.label or field.name,
        field.kind,
        field.choices,
        relevant=field.when,
    )


def panel_fields(panel: str) -> tuple[FieldSpec, ...]:
    """The fields the schema puts in a panel, in the schema's order."""
    return tuple(spec_of(f) for f in FIELDS.values() if f.label and f.panel == panel)


DATA_FIELDS = panel_fields("data")
MODEL_FIELDS = panel_fields("model")
OPTIMIZER_FIELDS = panel_fields("optimizer")
ALL_FIELDS: tuple[FieldSpec, ...] = DATA_FIELDS + MODEL_FIELDS + OPTIMIZER_FIELDS
