"""The lab's field tables come from the schema: which fields each panel shows, in what
order, with the schema's labels, choices and relevance, and a text form that reads back."""

from __future__ import annotations

from engine import ExperimentConfig
from engine.config import FIELDS
from tui_nn.core.fields import ALL_FIELDS, DATA_FIELDS, MODEL_FIELDS, OPTIMIZER_FIELDS

PANELS = {
    "data": [
        *("data.name", "data.n_classes", "data.noise", "data.n_samples"),
        *("data.train_fraction", "data.features", "data.path", "data.target"),
    ],
    "model": [
        *("model.hidden", "model.activation", "model.leaky_slope", "model.elu_alpha"),
        *("model.maxout_k", "model.init", "model.init_scale"),
    ],
    "optimizer": [
        *("optimizer.name", "optimizer.lr", "optimizer.momentum", "optimizer.weight_decay"),
        *("optimizer.schedule", "optimizer.step_size", "optimizer.gamma"),
        *("optimizer.decay_steps", "training.batch_size", "training.seed", "training.steps"),
    ],
}


def test_each_panel_shows_the_fields_the_schema_puts_in_it() -> None:
    tables = {"data": DATA_FIELDS, "model": MODEL_FIELDS, "optimizer": OPTIMIZER_FIELDS}
    assert {panel: [s.key for s in specs] for panel, specs in tables.items()} == PANELS
    assert ALL_FIELDS == DATA_FIELDS + MODEL_FIELDS + OPTIMIZER_FIELDS
    # No labelled field is lost in a panel the lab does not have.
    assert {s.key for s in ALL_FIELDS} == {k for k, f in FIELDS.items() if f.label}


def test_a_spec_is_its_schema_field() -> None:
    config = ExperimentConfig.from_dict({"model": {"activation": "leaky_relu"}})
    for spec in ALL_FIELDS:
        field = FIELDS[spec.key]
        assert (spec.label, spec.kind, spec.choices) == (field.label, field.kind, field.choices)
        assert spec.relevant(config) == field.when(config)
        assert spec.widget_id == spec.key.replace(".", "-")


def test_each_fields_text_reads_back_as_its_value() -> None:
    config = ExperimentConfig.from_dict(
        {
            "data": {"path": "/tmp/points.csv"},
            "model": {"hidden": [8, 3]},
            "optimizer": {"lr": 0.1 + 0.2},
        }
    )
    for spec in ALL_FIELDS:
        value = spec.value_in(config)
        assert spec.parse(spec.format(value)) == value, spec.key
