"""The Data, Model and Optimizer panels.

Each panel is a table of `FieldSpec`s: a field names its config section and key,
how its text parses, and when it is relevant (the leaky slope only for leaky
ReLU, ...). A submitted field posts `FieldEdited`; the app validates it with
`config.with_changes(...)` and shows the engine's ConfigError text next to the
field when it is refused, so the message always says what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from engine import ExperimentConfig
from engine.validation import CHOICES  # the engine's registries: one source of truth
from tui_nn.messages import FieldEdited
from tui_nn.widgets.notes import NoteCard

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
    from engine.datasets import DATASETS

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

# ------------------------------------------------------------------ widgets


class ChoiceSelect(Select[str], inherit_bindings=False):
    """A Select that leaves space to the app (start/pause); enter and arrows open it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,down,up", "show_overlay", "Show menu", show=False)
    ]

    @classmethod
    def for_spec(cls, spec: FieldSpec, config: ExperimentConfig, id: str) -> ChoiceSelect:
        """The spec's choices, showing the config's value (blank when not among them)."""
        assert spec.choices is not None
        names, value = spec.choices(), spec.value_in(config)
        return cls(
            [(n, n) for n in names],
            value=value if value in names else Select.NULL,
            allow_blank=value not in names,
            compact=True,
            id=id,
        )


class Field(Vertical):
    """One labelled control, and the message shown under it when a value is refused.

    Posts FieldEdited when its control is submitted (enter), left (tab, esc) or, for
    a choice, changed; a value equal to the applied one posts nothing.
    """

    def __init__(self, spec: FieldSpec, config: ExperimentConfig) -> None:
        super().__init__(id=f"field-{spec.widget_id}", classes="field")
        self.spec = spec
        self._config = config
        self.display = spec.relevant(config)

    def compose(self) -> ComposeResult:
        spec, value = self.spec, self.spec.value_in(self._config)
        with Horizontal(classes="field-row"):
            yield Label(spec.label, classes="field-label")
            if spec.choices is not None:
                yield ChoiceSelect.for_spec(spec, self._config, spec.widget_id)
            else:
                yield Input(spec.format(value), compact=True, id=spec.widget_id)
        yield Static("", markup=False, classes="field-error", id=f"error-{spec.widget_id}")

    @property
    def control(self) -> Input | ChoiceSelect:
        return self.query_one(f"#{self.spec.widget_id}")  # type: ignore[return-value]

    def show_error(self, text: str | None) -> None:
        self.query_one(".field-error", Static).update(text or "")
        self.set_class(bool(text), "-invalid")
        self.control.set_class(bool(text), "-invalid")

    def show_value(self, config: ExperimentConfig) -> None:
        """Show the applied config's value; drops a refused text and its message."""
        self._config = config
        value = self.spec.value_in(config)
        control = self.control
        if isinstance(control, Select):
            # A value the list does not hold (e.g. data from a file) leaves the list as is.
            if control.value != value and self.spec.choices and value in self.spec.choices():
                control.value = value
        elif control.value != self.spec.format(value):
            control.value = self.spec.format(value)
        self.display = self.spec.relevant(config)
        self.show_error(None)

    def _edited(self, value: Any) -> None:
        if value == self.spec.value_in(self._config):
            self.show_error(None)  # back to the applied value: nothing to apply
            return
        self.post_message(FieldEdited(self.spec, value))

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _input_done(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        self._edited(self.spec.parse(event.value))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self._edited(event.value)


class ConfigPanel(Vertical):
    """A titled panel of fields."""

    def __init__(
        self, title: str, specs: Iterable[FieldSpec], config: ExperimentConfig, id: str
    ) -> None:
        super().__init__(id=id, classes="config-panel")
        self.border_title = title
        self.specs = tuple(specs)
        self.config = config

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield Field(spec, self.config)

    def sync(self, config: ExperimentConfig) -> None:
        """Show the config's values (after a change was applied, or a reset)."""
        self.config = config
        for field in self.query(Field):
            field.show_value(config)


LOSS_LABELS: dict[str, str] = {
    "softmax_cross_entropy": "softmax CE",
    "sigmoid_cross_entropy": "sigmoid BCE",
    "mse": "MSE",
}


class ModelPanel(ConfigPanel):
    """Model fields, the notes card of the chosen activation and init under each selector,
    and the loss, which follows the data's task."""

    NOTES: ClassVar[dict[str, str]] = {"model.activation": "activation", "model.init": "init"}

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield Field(spec, self.config)
            kind = self.NOTES.get(spec.key)
            if kind:
                yield NoteCard(kind, spec.value_in(self.config), id=f"{kind}-note")
        with Horizontal(classes="field-row"):
            yield Label("loss", classes="field-label")
            # Held: show_loss runs on every poll with news, a query each time would add up.
            self._loss_note = Static(self.config.model.loss, markup=False, id="loss-note")
            yield self._loss_note

    def sync(self, config: ExperimentConfig) -> None:
        super().sync(config)
        self.query_one("#activation-note", NoteCard).show(config.model.activation)
        self.query_one("#init-note", NoteCard).show(config.model.init)

    def show_loss(self, loss_name: str, task: str) -> None:
        name = LOSS_LABELS.get(loss_name, loss_name)
        note = f"{name} (auto)" if self.config.model.loss == "auto" else name
        widget = self._loss_note
        if widget.content != note:  # called every poll: touch the screen only on a change
            widget.update(note, layout=False)
