"""The Data, Model and Optimizer panels, and the config column that holds them.

Each panel is a table of `FieldSpec`s: a field names its config section and key,
how its text parses, and when it is relevant (the leaky slope only for leaky
ReLU, ...). A submitted field posts `FieldEdited`; the app validates it with
`config.with_changes(...)` and shows the engine's ConfigError text next to the
field when it is refused, so the message always says what is allowed.

Below 100 columns the column shows one panel at a time under a tab line that names all
three (lab.tcss), so the Optimizer, where the learning rate lives, is never out of
sight; tab and shift+tab go through every field of every panel (`ConfigColumn.step`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
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
    """Model fields, the notes card of the chosen activation and init under each selector
    (no activation card without a hidden layer: one neuron has no hidden activation), the
    loss, which follows the data's task, and the network's parameter count."""

    NOTES: ClassVar[dict[str, str]] = {"model.activation": "activation", "model.init": "init"}

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield Field(spec, self.config)
            kind = self.NOTES.get(spec.key)
            if kind:
                note = NoteCard(kind, spec.value_in(self.config), id=f"{kind}-note")
                note.display = self._card_applies(kind, self.config)
                yield note
        # Held: show_loss and show_parameters run on every poll with news, a query each
        # time would add up.
        self._loss_note = Static(self.config.model.loss, markup=False, id="loss-note")
        self._parameters = Static("", markup=False, id="parameter-count")
        for label, widget in (("loss", self._loss_note), ("parameters", self._parameters)):
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label")
                yield widget

    @staticmethod
    def _card_applies(kind: str, config: ExperimentConfig) -> bool:
        return kind != "activation" or bool(config.model.hidden)

    def sync(self, config: ExperimentConfig) -> None:
        super().sync(config)
        for note in self.query(NoteCard):
            note.show(config.model.activation if note.kind == "activation" else config.model.init)
            note.display = self._card_applies(note.kind, config)

    def show_loss(self, loss_name: str, task: str) -> None:
        name = LOSS_LABELS.get(loss_name, loss_name)
        note = f"{name} (auto)" if self.config.model.loss == "auto" else name
        self._show(self._loss_note, note)

    def show_parameters(self, count: int) -> None:
        self._show(self._parameters, f"{count:,}")

    @staticmethod
    def _show(widget: Static, text: str) -> None:
        if widget.content != text:  # called every poll: touch the screen only on a change
            widget.update(text, layout=False)


# ------------------------------------------------------------------- column


class PanelTabs(Static):
    """One line naming the panels, the shown one reversed; a click picks one. Shown only
    where the column holds one panel at a time."""

    class Picked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, titles: list[str]) -> None:
        super().__init__("", markup=False, id="panel-tabs")
        self.titles = titles
        self._spans: list[tuple[int, int]] = []

    def show(self, current: int) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        self._spans = []
        for i, title in enumerate(self.titles):
            start = len(text)
            text.append(f" {title} ", style="reverse bold" if i == current else "")
            self._spans.append((start, len(text)))
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        for i, (start, end) in enumerate(self._spans):
            if start <= event.x < end:
                self.post_message(self.Picked(i))


class ConfigColumn(VerticalScroll, can_focus=False):
    """The panels, with their tab line; the panel of a field that gets focus is shown."""

    def __init__(self, *panels: ConfigPanel, id: str | None = None) -> None:
        super().__init__(id=id)
        self.panels = panels
        self.tabs = PanelTabs([str(panel.border_title) for panel in panels])
        self.current = 0

    def compose(self) -> ComposeResult:
        yield self.tabs
        yield from self.panels

    def on_mount(self) -> None:
        self.show_panel(0)

    def show_panel(self, index: int) -> None:
        self.current = index
        for i, panel in enumerate(self.panels):
            panel.set_class(i == index, "-current")
        self.tabs.show(index)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for i, panel in enumerate(self.panels):
            if panel in event.widget.ancestors:
                if i != self.current:
                    self.show_panel(i)
                return

    @on(PanelTabs.Picked)
    def _picked(self, event: PanelTabs.Picked) -> None:
        event.stop()
        self.show_panel(event.index)

    def controls(self) -> list[Widget]:
        """Every relevant field's control, panel by panel, in order."""
        return [f.control for panel in self.panels for f in panel.query(Field) if f.display]

    def step(self, focused: Widget | None, by: int) -> Widget | None:
        """The control `by` places after the one that holds `focused` (a choice list's
        open menu is inside its control), around the end; the first or the last when
        nothing of the column has focus."""
        controls = self.controls()
        holders = [focused, *focused.ancestors] if focused is not None else []
        held = [i for i, control in enumerate(controls) if control in holders]
        if held:
            return controls[(held[0] + by) % len(controls)]
        if not controls:
            return None
        return controls[0] if by > 0 else controls[-1]
