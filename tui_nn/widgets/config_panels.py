"""The Data, Model and Optimizer panels.

Each panel is a table of `FieldSpec`s: a field names its config section and key,
how its text parses, and when it is relevant (the leaky slope only for leaky
ReLU, ...). A submitted field posts `FieldEdited`; the app validates it with
`config.with_changes(...)` and shows the engine's ConfigError text next to the
field when it is refused, so the message always says what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from engine import ExperimentConfig
from tui_nn.core.fields import FieldSpec
from tui_nn.messages import FieldEdited
from tui_nn.widgets.notes import NoteCard

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
        # Made here and held: the control's type is known without a query.
        self.control: Input | ChoiceSelect = (
            ChoiceSelect.for_spec(spec, config, spec.widget_id)
            if spec.choices is not None
            else Input(spec.format(spec.value_in(config)), compact=True, id=spec.widget_id)
        )

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Horizontal(classes="field-row"):
            yield Label(spec.label, classes="field-label")
            yield self.control
        yield Static("", markup=False, classes="field-error", id=f"error-{spec.widget_id}")

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
