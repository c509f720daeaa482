"""ExperimentConfig: round trip, with_changes, every bad value named, and property tests."""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import ConfigError, Diverged, ExperimentConfig, Trainer
from engine.config import SECTIONS, ModelConfig
from engine.data.datasets import DATASETS
from engine.nn.activations import ACTIVATIONS
from engine.nn.initializers import INITIALIZERS
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS, SCHEDULES

# ----------------------------------------------------------------------------- round trip


def test_defaults_are_valid() -> None:
    config = ExperimentConfig()
    config.validate()
    assert ExperimentConfig.from_dict({}) == config
    assert config.training.dtype == "float32"


def test_round_trip() -> None:
    config = ExperimentConfig.from_dict(
        {
            "data": {"name": "moons", "noise": 0.2, "n_samples": 200},
            "model": {"hidden": [8, 4, 2], "activation": "elu", "elu_alpha": 0.5},
            "optimizer": {"name": "nesterov", "lr": 0.05, "schedule": "cosine"},
            "training": {"batch_size": 10, "seed": 7, "dtype": "float64"},
        }
    )
    raw = config.to_dict()
    assert set(raw) == set(SECTIONS)
    assert ExperimentConfig.from_dict(raw) == config
    assert ExperimentConfig.from_dict(json.loads(json.dumps(raw))) == config
    raw["model"]["hidden"].append(99)  # to_dict is a copy, not a view
    assert config.model.hidden == [8, 4, 2]


def test_round_trip_keeps_every_field() -> None:
    raw = ExperimentConfig().to_dict()
    for name, kind in SECTIONS.items():
        assert set(raw[name]) == {f.name for f in fields(kind)}


def test_whole_floats_become_ints_and_ints_floats() -> None:
    config = ExperimentConfig.from_dict({"training": {"steps": 100.0}, "optimizer": {"lr": 1}})
    assert config.training.steps == 100 and type(config.training.steps) is int
    assert config.optimizer.lr == 1.0 and type(config.optimizer.lr) is float


def test_with_changes() -> None:
    config = ExperimentConfig()
    changed = config.with_changes(optimizer={"lr": 0.1}, model={"hidden": [3]})
    assert changed.optimizer.lr == 0.1
    assert changed.model.hidden == [3]
    assert changed.optimizer.name == config.optimizer.name
    assert config.optimizer.lr == 0.01 and config.model.hidden == [16, 16]  # a copy
    with pytest.raises(ConfigError) as info:
        config.with_changes(optimizer={"lr": -1.0})
    assert info.value.field == "optimizer.lr"
    with pytest.raises(ConfigError) as info:
        config.with_changes(optimiser={"lr": 0.1})
    assert info.value.field == "optimiser"
    with pytest.raises(ConfigError) as info:
        config.with_changes(optimizer={"learning_rate": 0.1})
    assert info.value.field == "optimizer.learning_rate"


@pytest.mark.parametrize("value", [None, 5, "lr=0.1", [0.1]])
def test_with_changes_refuses_a_section_that_is_not_a_table(value: Any) -> None:
    """As from_dict does: {"optimizer": None} is a ConfigError naming the section."""
    with pytest.raises(ConfigError) as info:
        ExperimentConfig().with_changes(optimizer=value)
    assert info.value.field == "optimizer"


# ----------------------------------------------------------------------------- bad values

# (raw config, the field the error must name)
BAD: list[tuple[dict[str, Any], str]] = [
    ({"model": {"hidden": [0]}}, "model.hidden[0]"),
    ({"model": {"hidden": [8, -3]}}, "model.hidden[1]"),
    ({"model": {"hidden": [4, 0, 4]}}, "model.hidden[1]"),
    ({"model": {"hidden": "16"}}, "model.hidden"),
    ({"model": {"hidden": [1.5]}}, "model.hidden"),
    ({"model": {"hidden": [True]}}, "model.hidden"),
    ({"model": {"hidden": [16] * 65}}, "model.hidden"),
    ({"model": {"activation": "relu6"}}, "model.activation"),
    ({"model": {"activation": 3}}, "model.activation"),
    ({"model": {"init": "glorot"}}, "model.init"),
    ({"model": {"loss": "hinge"}}, "model.loss"),
    ({"model": {"loss": "mse"}}, "model.loss"),  # spiral classifies
    ({"data": {"name": "sine"}, "model": {"loss": "softmax_cross_entropy"}}, "model.loss"),
    ({"model": {"maxout_k": 1}}, "model.maxout_k"),
    ({"model": {"leaky_slope": -0.1}}, "model.leaky_slope"),
    ({"model": {"elu_alpha": 0.0}}, "model.elu_alpha"),
    ({"model": {"init_scale": math.nan}}, "model.init_scale"),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name"),
    ({"optimizer": {"schedule": "warmup"}}, "optimizer.schedule"),
    ({"optimizer": {"lr": 0.0}}, "optimizer.lr"),
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr"),
    ({"optimizer": {"lr": math.nan}}, "optimizer.lr"),
    ({"optimizer": {"lr": math.inf}}, "optimizer.lr"),
    ({"optimizer": {"lr": -math.inf}}, "optimizer.lr"),
    ({"optimizer": {"lr": "abc"}}, "optimizer.lr"),
    ({"optimizer": {"lr": "0.1"}}, "optimizer.lr"),
    ({"optimizer": {"lr": None}}, "optimizer.lr"),
    ({"optimizer": {"lr": True}}, "optimizer.lr"),
    ({"optimizer": {"lr": [0.1]}}, "optimizer.lr"),
    ({"optimizer": {"lr": 10**400}}, "optimizer.lr"),  # too big for a float
    ({"optimizer": {"momentum": 1.0}}, "optimizer.momentum"),
    ({"optimizer": {"beta2": 1.5}}, "optimizer.beta2"),
    ({"optimizer": {"eps": 0.0}}, "optimizer.eps"),
    ({"optimizer": {"weight_decay": -1e-4}}, "optimizer.weight_decay"),
    ({"optimizer": {"clip_norm": math.inf}}, "optimizer.clip_norm"),
    ({"optimizer": {"gamma": 0.0}}, "optimizer.gamma"),
    ({"optimizer": {"step_size": 0}}, "optimizer.step_size"),
    ({"optimizer": {"decay_steps": 0}}, "optimizer.decay_steps"),
    ({"optimizer": {"decay_steps": 1.5}}, "optimizer.decay_steps"),
    ({"training": {"batch_size": 0}}, "training.batch_size"),
    ({"training": {"batch_size": -5}}, "training.batch_size"),
    ({"training": {"batch_size": 241}}, "training.batch_size"),  # 300 * 0.8 = 240 to train
    ({"training": {"batch_size": True}}, "training.batch_size"),
    ({"training": {"batch_size": 2.5}}, "training.batch_size"),
    ({"training": {"batch_size": "64"}}, "training.batch_size"),
    ({"training": {"steps": 0}}, "training.steps"),
    ({"training": {"steps": math.inf}}, "training.steps"),
    ({"training": {"steps": math.nan}}, "training.steps"),
    ({"training": {"eval_every": -1}}, "training.eval_every"),
    ({"training": {"seed": -1}}, "training.seed"),
    ({"training": {"seed": 2**64}}, "training.seed"),
    ({"training": {"dtype": "float16"}}, "training.dtype"),
    ({"training": {"memory_budget_mb": 0}}, "training.memory_budget_mb"),
    ({"data": {"name": "mnist"}}, "data.name"),
    ({"data": {"name": "mnist", "path": "points.csv"}}, "data.name"),  # checked with a file too
    ({"data": {"noise": math.nan}}, "data.noise"),
    ({"data": {"noise": -0.1}}, "data.noise"),
    ({"data": {"noise": math.inf}}, "data.noise"),
    ({"data": {"n_samples": 3}}, "data.n_samples"),
    ({"data": {"n_classes": 1}}, "data.n_classes"),
    ({"data": {"n_classes": 11}}, "data.n_classes"),
    ({"data": {"train_fraction": 1.0}}, "data.train_fraction"),
    ({"data": {"train_fraction": 0}}, "data.train_fraction"),
    ({"data": {"standardize": 1}}, "data.standardize"),
    ({"data": {"standardize": "yes"}}, "data.standardize"),
    ({"data": {"path": 5}}, "data.path"),
    ({"colour": {}}, "colour"),
    ({"model": {"hiden": [3]}}, "model.hiden"),
    ({"model": [16, 16]}, "model"),
    ({"model": None}, "model"),
]


def build(raw: Any) -> Trainer:
    """Everything a config goes through before training starts."""
    return Trainer(ExperimentConfig.from_dict(raw))


@pytest.mark.parametrize(("raw", "field"), BAD, ids=[f"{f}={r}"[:60] for r, f in BAD])
def test_bad_value_names_its_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


# Rules that need the data: they hold when the Trainer is built.
BAD_AT_BUILD: list[tuple[dict[str, Any], str]] = [
    ({"model": {"loss": "sigmoid_cross_entropy"}, "data": {"n_classes": 3}}, "model.loss"),
    ({"data": {"path": "/no/such/file.csv"}}, "data.path"),
    ({"data": {"path": "data.txt"}}, "data.path"),
    ({"data": {"path": "bad\x00name.csv"}}, "data.path"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_AT_BUILD, ids=[f for _, f in BAD_AT_BUILD])
def test_bad_value_found_when_the_trainer_is_built(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(raw)
    assert info.value.field == field


@pytest.mark.parametrize("value", [10**400, -(10**400)])
def test_validate_names_a_huge_int_in_a_float_field(value: int) -> None:
    """A config built in code skips from_dict's coercion: validate alone must refuse it."""
    config = ExperimentConfig(model=ModelConfig(init_scale=value))
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.field == "model.init_scale"


def test_not_a_table() -> None:
    for raw in ([], None, "model", 3):
        with pytest.raises(ConfigError):
            ExperimentConfig.from_dict(raw)  # type: ignore[arg-type]


def test_error_message_says_what_is_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"optimizer": {"lr": -1}})
    assert "-1" in info.value.reason and ">" in info.value.reason
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"model": {"hiden": [3]}})
    assert "hidden" in info.value.reason  # the allowed fields are listed


@pytest.mark.parametrize(
    ("n_samples", "train_fraction"), [(300, 0.8), (5, 0.5), (5, 0.3), (7, 0.5), (15, 0.3)]
)
def test_batch_limit_is_the_real_training_set(n_samples: int, train_fraction: float) -> None:
    """from_dict accepts a batch as large as the split's training set, and no larger."""
    data = {"n_samples": n_samples, "train_fraction": train_fraction, "n_classes": 2}
    n_train = len(build({"data": data, "training": {"batch_size": 1}}).X_train)
    build({"data": data, "training": {"batch_size": n_train}})
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"data": data, "training": {"batch_size": n_train + 1}})
    assert info.value.field == "training.batch_size"


# ----------------------------------------------------------------------------- properties

CLASSIFY = sorted(n for n, d in DATASETS.items() if d.task == "classification")
REGRESS = sorted(n for n, d in DATASETS.items() if d.task == "regression")
TWO_CLASS = sorted(n for n in CLASSIFY if not DATASETS[n].takes_n_classes)


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    loss = draw(st.sampled_from(["auto", *sorted(LOSSES)]))
    if loss == "mse":
        data_name = draw(st.sampled_from(REGRESS))
    elif loss == "sigmoid_cross_entropy":
        data_name = draw(st.sampled_from(TWO_CLASS))
    elif loss == "softmax_cross_entropy":
        data_name = draw(st.sampled_from(CLASSIFY))
    else:
        data_name = draw(st.sampled_from(sorted(DATASETS)))
    n_samples = draw(st.integers(20, 120))
    train_fraction = draw(st.sampled_from([0.5, 0.7, 0.8]))
    n_train = n_samples - max(1, round(n_samples * (1 - train_fraction))) - 1
    return {
        "data": {
            "name": data_name,
            "n_samples": n_samples,
            "noise": draw(st.floats(0.0, 0.5)),
            "n_classes": draw(st.integers(2, 5)),
            "train_fraction": train_fraction,
            "standardize": draw(st.booleans()),
        },
        "model": {
            "hidden": draw(st.lists(st.integers(1, 8), min_size=0, max_size=3)),
            "activation": draw(st.sampled_from(sorted(ACTIVATIONS))),
            "init": draw(st.sampled_from(sorted(INITIALIZERS))),
            "init_scale": draw(st.floats(0.0, 2.0)),
            "maxout_k": draw(st.integers(2, 4)),
            "leaky_slope": draw(st.floats(0.0, 0.5)),
            "elu_alpha": draw(st.floats(0.1, 2.0)),
            "bias_init": draw(st.sampled_from(["zeros", "constant"])),
            "bias_value": draw(st.floats(-1.0, 1.0)),
            "loss": loss,
        },
        "optimizer": {
            "name": draw(st.sampled_from(sorted(OPTIMIZERS))),
            "lr": draw(st.floats(1e-4, 1.0)),
            "momentum": draw(st.floats(0.0, 0.99)),
            "rho": draw(st.floats(0.5, 0.999)),
            "weight_decay": draw(st.sampled_from([0.0, 1e-4, 1e-2])),
            "clip_norm": draw(st.sampled_from([0.0, 0.1, 5.0])),
            "schedule": draw(st.sampled_from(sorted(SCHEDULES))),
            "step_size": draw(st.integers(1, 5)),
        },
        "training": {
            "batch_size": draw(st.integers(1, max(1, min(n_train, 32)))),
            "steps": draw(st.integers(1, 20)),
            "eval_every": draw(st.integers(0, 4)),
            "seed": draw(st.integers(0, 2**32)),
            "dtype": draw(st.sampled_from(["float32", "float64"])),
        },
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=valid_configs())
def test_random_valid_configs_train(raw: dict[str, Any]) -> None:
    config = ExperimentConfig.from_dict(raw)
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    trainer = Trainer(config)
    dtype = np.dtype(config.training.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # diverging or not, training is quiet
        result = trainer.run(10)
    if result.diverged is None:
        assert result.steps == 10
        assert all(p.dtype == dtype for p in trainer.network.parameters().values())
        assert np.isfinite(trainer.history.series("loss").mean).all()
    else:
        assert isinstance(result.diverged, Diverged)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.evaluate()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 2**63, 10**400, -(10**400)])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)

FIELDS = [(s, f.name) for s, kind in SECTIONS.items() for f in fields(kind)]
# Values no field accepts: wrong types, or outside every field's range.
ALWAYS_BAD = [None, math.nan, math.inf, -math.inf, -1, "", [[1]], {"a": 1}, 10**400]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=valid_configs(), where=st.sampled_from(FIELDS), value=json_values)
def test_random_invalid_configs_raise_only_config_error(
    base: dict[str, Any], where: tuple[str, str], value: Any
) -> None:
    section, key = where
    base["training"]["memory_budget_mb"] = 64.0  # a lucky valid giant net stays small
    base[section][key] = value
    with contextlib.suppress(ConfigError):  # anything else fails the test
        build(base)


@settings(max_examples=80, deadline=None)
@given(
    base=valid_configs(),
    where=st.sampled_from([w for w in FIELDS if w not in {("data", "path"), ("data", "target")}]),
    value=st.sampled_from(ALWAYS_BAD),
)
def test_always_bad_values_are_refused(
    base: dict[str, Any], where: tuple[str, str], value: Any
) -> None:
    section, key = where
    assume(not (key == "bias_value" and value == -1))  # the one field that allows -1
    base[section][key] = value
    with pytest.raises(ConfigError) as info:
        build(base)
    assert info.value.field.startswith(f"{section}.{key}")


@settings(max_examples=40, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from([*SECTIONS, "extra"]),
        st.dictionaries(st.text(max_size=12), json_values, max_size=3) | json_values,
        max_size=4,
    )
)
def test_random_tables_raise_only_config_error(raw: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):
        build(raw)
