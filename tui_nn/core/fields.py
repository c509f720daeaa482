"""The config fields as the lab edits them: how a field's text parses, how its value is
shown, and when it applies. UI-free: the panels in tui_nn.widgets draw these."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import ExperimentConfig
from engine.config.validation import CHOICES  # the engine's registries: one source of truth

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
    "choice": str,
    "path": _parse_path,
    "text": str.strip,
}

FORMATTERS: dict[str, Callable[[Any], str]] = {
    "int": str,
    "float": repr,  # the shortest text that reads back as the same float
    "widths": lambda widths: ",".join(str(w) for w in widths),
    "choice": str,
    "path": str,
    "text": str,
}


def _takes_classes(config: ExperimentConfig) -> bool:
    from engine.data.datasets import DATASETS

    spec = DATASETS.get(config.data.name)
    return bool(spec and spec.takes_n_classes) and not config.data.path


def _no_file(config: ExperimentConfig) -> bool:
    return not config.data.path


def _has_file(config: ExperimentConfig) -> bool:
    return bool(config.data.path)


def _activation_in(*names: str) -> Relevance:
    return lambda config: config.model.activation in names


def _init_in(*names: str) -> Relevance:
    return lambda config: config.model.init in names


def _optimizer_in(*names: str) -> Relevance:
    return lambda config: config.optimizer.name in names


def _schedule_in(*names: str) -> Relevance:
    return lambda config: config.optimizer.schedule in names


DATA_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("data", "name", "dataset", "choice", CHOICES["data.name"], relevant=_no_file),
    FieldSpec("data", "n_classes", "classes", "int", relevant=_takes_classes),
    FieldSpec("data", "noise", "noise", "float", relevant=_no_file),
    FieldSpec("data", "n_samples", "samples", "int", relevant=_no_file),
    FieldSpec("data", "train_fraction", "train frac", "float"),
    # A CSV or NPZ file instead of a synthetic set; empty: the dataset above.
    FieldSpec("data", "path", "file", "path"),
    FieldSpec("data", "target", "target col", "text", relevant=_has_file),
)

MODEL_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("model", "hidden", "hidden", "widths"),
    FieldSpec("model", "activation", "activation", "choice", CHOICES["model.activation"]),
    FieldSpec("model", "leaky_slope", "slope", "float", relevant=_activation_in("leaky_relu")),
    FieldSpec("model", "elu_alpha", "alpha", "float", relevant=_activation_in("elu")),
    FieldSpec("model", "maxout_k", "k", "int", relevant=_activation_in("maxout")),
    FieldSpec("model", "init", "init", "choice", CHOICES["model.init"]),
    FieldSpec(
        "model", "init_scale", "scale", "float", relevant=_init_in("normal", "uniform", "constant")
    ),
)

OPTIMIZER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("optimizer", "name", "optimizer", "choice", CHOICES["optimizer.name"]),
    FieldSpec("optimizer", "lr", "lr", "float"),
    FieldSpec(
        "optimizer", "momentum", "momentum", "float", relevant=_optimizer_in("momentum", "nesterov")
    ),
    FieldSpec("training", "batch_size", "batch", "int"),
    FieldSpec("optimizer", "weight_decay", "L2", "float"),
    FieldSpec("optimizer", "schedule", "schedule", "choice", CHOICES["optimizer.schedule"]),
    FieldSpec("optimizer", "step_size", "every", "int", relevant=_schedule_in("step")),
    FieldSpec("optimizer", "gamma", "gamma", "float", relevant=_schedule_in("step")),
    FieldSpec("training", "seed", "seed", "int"),
    FieldSpec("training", "steps", "steps", "int"),
)

ALL_FIELDS: tuple[FieldSpec, ...] = DATA_FIELDS + MODEL_FIELDS + OPTIMIZER_FIELDS
