"""The config schema: every field declared once, with what is generated from it (the rules,
the choices from the registries, where a field applies, the live set, the reference)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

import engine.config.sections as sections
from engine.config import FIELDS, LIVE_FIELDS, SECTIONS, ConfigError, ExperimentConfig
from engine.config.reference import COMMAND, render
from engine.config.schema import Names, Whole, names_from_text, setting, settings_of, when
from engine.data.datasets import DATASETS
from engine.nn.activations import ACTIVATIONS
from engine.nn.initializers import INITIALIZERS
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS, SCHEDULES

ROOT = Path(__file__).resolve().parents[2]


def test_every_dataclass_field_is_declared_in_the_schema() -> None:
    keys = [f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in fields(cls)]
    assert list(FIELDS) == keys


def test_every_field_says_what_it_is_and_its_default_is_allowed() -> None:
    config = ExperimentConfig()
    for key, field in FIELDS.items():
        assert field.help and not field.help.endswith("."), key
        assert field.value_in(config) == field.default, key
        field.check(field.default)
        assert field.allowed(), key


def test_options_and_lab_labels_are_unique() -> None:
    flags = [f.flag for f in FIELDS.values() if f.flag]
    assert len(flags) == len(set(flags))
    labels = [(f.panel, f.label) for f in FIELDS.values() if f.label]
    assert len(labels) == len(set(labels))


def test_the_live_set_is_the_learning_rate() -> None:
    assert {"optimizer.lr"} == LIVE_FIELDS


def names(registry: Any) -> list[str]:
    return list(registry)


CHOICES: dict[str, list[str]] = {
    "data.name": names(DATASETS),
    "model.activation": names(ACTIVATIONS),
    "model.init": names(INITIALIZERS),
    "model.loss": ["auto", *names(LOSSES)],
    "optimizer.name": names(OPTIMIZERS),
    "optimizer.schedule": names(SCHEDULES),
}


@pytest.mark.parametrize("key", list(CHOICES))
def test_choices_are_the_registry_names_and_validation_takes_each(key: str) -> None:
    section, name = key.split(".")
    assert FIELDS[key].choices is not None and FIELDS[key].choices() == CHOICES[key]
    for value in CHOICES[key]:
        data = {"name": "sine"} if value == "mse" else {}  # mse regresses
        raw = {"data": data, section: {**({} if section != "data" else data), name: value}}
        assert FIELDS[key].value_in(ExperimentConfig.from_dict(raw)) == value
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({section: {name: "nope"}})
    assert info.value.field == key
    assert info.value.reason == f"unknown name 'nope'; valid: {', '.join(CHOICES[key])}"


def test_choices_are_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry that grows after the schema was read is seen by validation and choices."""
    grown = {**ACTIVATIONS, "swish2": ACTIVATIONS["relu"]}
    monkeypatch.setattr(sections, "ACTIVATIONS", grown)
    assert FIELDS["model.activation"].choices() == [*CHOICES["model.activation"], "swish2"]
    config = ExperimentConfig.from_dict({"model": {"activation": "swish2"}})
    assert config.model.activation == "swish2"


FILE = {"data": {"path": "points.csv"}}
# (field, a config where it applies, one where it does not)
APPLIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("model.leaky_slope", {"model": {"activation": "leaky_relu"}}, {}),
    ("model.elu_alpha", {"model": {"activation": "elu"}}, {"model": {"activation": "tanh"}}),
    ("model.maxout_k", {"model": {"activation": "maxout"}}, {}),
    ("model.init_scale", {"model": {"init": "normal"}}, {"model": {"init": "xavier_normal"}}),
    ("model.init_scale", {"model": {"init": "constant"}}, {}),
    ("optimizer.momentum", {"optimizer": {"name": "nesterov"}}, {"optimizer": {"name": "adam"}}),
    ("optimizer.step_size", {"optimizer": {"schedule": "step"}}, {}),
    ("optimizer.gamma", {"optimizer": {"schedule": "step"}}, {"optimizer": {"schedule": "cosine"}}),
    ("optimizer.decay_steps", {"optimizer": {"schedule": "cosine"}}, {}),
    ("data.n_classes", {"data": {"name": "gaussians"}}, {"data": {"name": "moons"}}),
    ("data.n_classes", {}, FILE),
    ("data.noise", {}, FILE),
    ("data.n_samples", {}, FILE),
    ("data.name", {}, FILE),
    ("data.target", FILE, {}),
]


@pytest.mark.parametrize(("key", "on", "off"), APPLIES, ids=[a[0] for a in APPLIES])
def test_a_field_applies_only_where_it_has_an_effect(
    key: str, on: dict[str, Any], off: dict[str, Any]
) -> None:
    relevant = FIELDS[key].when
    assert relevant(ExperimentConfig.from_dict(on))
    assert not relevant(ExperimentConfig.from_dict(off))


def test_where_a_field_applies_is_said_in_words() -> None:
    assert FIELDS["model.leaky_slope"].when.text() == "model.activation is leaky_relu"
    assert FIELDS["model.init_scale"].when.text() == "model.init is normal, uniform or constant"
    assert FIELDS["data.target"].when.text() == "data.path is not empty"
    assert FIELDS["model.hidden"].when.text() == ""


def test_a_new_field_is_one_declaration() -> None:
    """Kind, panel, metavar and the rule's message follow from the one declaration."""

    @dataclass
    class Toy:
        warmup: int = setting(
            0,
            "steps of warm-up",
            rule=Whole(0, 100),
            flag="--warmup",
            label="warm-up",
            when=when("toy.warmup", 1, 2),
        )

    (field,) = settings_of("toy", Toy)
    assert (field.key, field.kind, field.panel, field.metavar) == ("toy.warmup", "int", "toy", "N")
    assert field.summary() == (
        "steps of warm-up (toy.warmup: a whole number from 0 to 100; default 0; "
        "used when toy.warmup is 1 or 2)"
    )
    with pytest.raises(ConfigError) as info:
        field.check(101)
    assert str(info.value) == "toy.warmup: must be a whole number from 0 to 100, got 101"


def test_a_field_without_a_declaration_is_refused() -> None:
    @dataclass
    class Bare:
        size: int = 3

    with pytest.raises(TypeError, match=r"Bare\.size is not declared with setting\(\)"):
        settings_of("bare", Bare)


def test_a_number_without_a_range_is_refused() -> None:
    with pytest.raises(ValueError, match="a float field needs a rule"):
        setting(0.5, "a share")


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8")
    assert committed == render(), f"docs/config-reference.md is stale; run: {COMMAND}"


def test_the_reference_has_a_row_for_every_field() -> None:
    tables = render().split("\n## ")[1:]
    assert [table.split("\n")[0] for table in tables] == [f"[{s}]" for s in SECTIONS]
    for field in FIELDS.values():
        table = tables[list(SECTIONS).index(field.section)]
        row = next(line for line in table.splitlines() if line.startswith(f"| `{field.name}` |"))
        assert field.help in row and field.allowed() in row
        assert (f"`{field.flag}`" in row) == bool(field.flag)


def test_a_list_of_names_is_its_own_kind() -> None:
    """A field whose default is a list of names reads them from a list (TOML) and from
    comma text (the command line, the lab); each name is checked, in the message its index."""

    @dataclass
    class Cfg:
        parts: list[str] = setting(
            ["a", "b"], "some parts", rule=Names(lambda: ["a", "b", "c"]), flag="--parts"
        )

    (spec,) = settings_of("x", Cfg)
    assert spec.kind == "names" and spec.metavar == "NAME,NAME"
    assert spec.coerce(("c", "a")) == ["c", "a"]
    assert names_from_text(" c, a,") == ["c", "a"]
    spec.check(["c"])
    with pytest.raises(ConfigError, match=r"x\.parts\[1\].*'d'.*valid: a, b, c"):
        spec.check(["a", "d"])
    with pytest.raises(ConfigError, match="distinct"):
        spec.check(["a", "a"])
    with pytest.raises(ConfigError, match="at least one"):
        spec.check([])
    with pytest.raises(ConfigError, match="list of names"):
        spec.coerce([1, 2])
