"""Every registry entry used through its string name, and dtypes end to end."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from engine import ConfigError, ExperimentConfig, Trainer
from engine.data.datasets import DATASETS
from engine.nn.activations import ACTIVATIONS, ActivationParams, get_activation, stable_sigmoid
from engine.nn.initializers import INITIALIZERS, expected_std, initialize
from engine.nn.losses import LOSSES, get_loss
from engine.nn.optimizers import OPTIMIZERS, SCHEDULES, learning_rate, make_optimizer
from engine.registry import Registry, UnknownName

DTYPES = ["float32", "float64"]
# A dataset each loss fits, so every loss trains through its name.
LOSS_DATA = {"softmax_cross_entropy": "spiral", "sigmoid_cross_entropy": "moons", "mse": "sine"}


def small_config(**sections: dict) -> ExperimentConfig:
    raw: dict[str, dict] = {
        "data": {"n_samples": 120},
        "model": {"hidden": [6, 5]},
        "training": {"batch_size": 16, "steps": 20, "eval_every": 2},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return ExperimentConfig.from_dict(raw)


def train_and_check_dtypes(config: ExperimentConfig, steps: int = 3) -> Trainer:
    """A few steps without warnings; every array the run touches has the training dtype."""
    trainer = Trainer(config)
    dtype = np.dtype(config.training.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or promotion noise either
        records = [trainer.step() for _ in range(steps)]
    net = trainer.network
    for name, p in net.parameters().items():
        assert p.dtype == dtype, f"parameter {name} is {p.dtype}"
    for name, g in net.gradients().items():
        assert g.dtype == dtype, f"gradient {name} is {g.dtype}"
        assert g.shape == net.parameters()[name].shape
    for name, buffer in trainer.optimizer.state.items():
        assert buffer.dtype == dtype, f"optimizer state {name} is {buffer.dtype}"
    for i, layer in enumerate(net.layers):
        assert layer.a.dtype == dtype, f"layers.{i} output is {layer.a.dtype}"
    assert trainer.X_train.dtype == dtype
    logits = net.forward(trainer.X_val)
    assert logits.dtype == dtype
    assert net.backward(trainer.loss.compute(logits, trainer.y_val)[1])["layers.0.W"].dtype == dtype
    for record in records:
        assert math.isfinite(record.loss)
        assert record.stats.dtype == np.float64
        assert np.isfinite(record.stats).all()
    return trainer


# ----------------------------------------------------------------------------- activations


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_trains_by_name(name: str, dtype: str) -> None:
    trainer = train_and_check_dtypes(
        small_config(model={"activation": name}, training={"dtype": dtype})
    )
    hidden = trainer.network.layers[:-1]
    assert all(layer.activation.name == name for layer in hidden)
    assert trainer.network.layers[-1].activation.name == "linear"
    if name == "maxout":
        k = trainer.config.model.maxout_k
        assert hidden[0].W.shape == (2, 6, k)
        assert hidden[0].b.shape == (6, k)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_kernels_keep_float32(name: str) -> None:
    act = get_activation(name, ActivationParams(leaky_slope=0.1, elu_alpha=0.5))
    z = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)
    a = act.forward(z.copy())
    assert a.dtype == np.float32
    assert a.shape == z.shape
    dz = act.backward(np.ones_like(z), z, a)
    assert dz.dtype == np.float32


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_a_difference(name: str) -> None:
    """Backward (from the cached output, or z where needed) against a centred difference."""
    act = get_activation(name, ActivationParams(leaky_slope=0.1, elu_alpha=0.5))
    z = np.linspace(-3.05, 2.95, 61).reshape(1, -1)  # no point sits exactly on 0
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    a = act.forward(z.copy())
    analytic = act.backward(np.ones_like(z), z.copy(), a)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_activation_parameters_are_passed_through() -> None:
    z = np.array([[-2.0, 3.0]])
    leaky = get_activation("leaky_relu", ActivationParams(leaky_slope=0.2))
    np.testing.assert_allclose(leaky.forward(z.copy()), [[-0.4, 3.0]])
    elu = get_activation("elu", ActivationParams(elu_alpha=2.0))
    np.testing.assert_allclose(elu.forward(z.copy()), [[2.0 * math.expm1(-2.0), 3.0]])


def test_activation_predicates() -> None:
    relu = get_activation("relu")
    assert relu.dead_units is not None
    assert relu.dead_units(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])) == 1
    tanh = get_activation("tanh")
    assert tanh.saturated_units is not None
    assert tanh.saturated_units(np.array([[0.999, 0.1], [-0.995, 0.999]])) == 1
    sigmoid = get_activation("sigmoid")
    assert sigmoid.saturated_units is not None
    assert sigmoid.saturated_units(np.array([[0.001, 0.5], [0.999, 0.995]])) == 1
    for name in ("leaky_relu", "elu", "maxout"):
        assert get_activation(name).dead_units is None
        assert not get_activation(name).facts.can_die
    assert relu.facts.can_die


def test_stable_sigmoid_does_not_overflow() -> None:
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = stable_sigmoid(z)
    assert s.dtype == np.float32
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5


# ----------------------------------------------------------------------------- initializers


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_trains_by_name(name: str, dtype: str) -> None:
    config = small_config(
        model={"init": name, "init_scale": 0.3, "activation": "tanh"}, training={"dtype": dtype}
    )
    trainer = Trainer(config)
    W = trainer.network.layers[0].W
    if name == "zeros":
        assert not W.any()
    elif name == "constant":
        assert np.all(W == 0.3) and W[0, 0] == W.dtype.type(0.3)
    else:
        assert np.unique(W).size == W.size  # a random draw
    train_and_check_dtypes(config)


def test_same_seed_same_weights_in_both_dtypes() -> None:
    w32 = Trainer(small_config(training={"dtype": "float32"})).network.parameters()
    w64 = Trainer(small_config(training={"dtype": "float64"})).network.parameters()
    for name, p in w32.items():
        np.testing.assert_array_equal(p, w64[name].astype(np.float32))


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_every_initializer_draws_the_std_it_states(name: str) -> None:
    # Covers zeros and constant too; the descriptions are checked by test_notes' cards.
    W = initialize(name, (400, 300), 400, 300, np.random.default_rng(4), 0.3)
    assert W.std() == pytest.approx(expected_std(name, 400, 300, 0.3), rel=0.05, abs=1e-12)


RANDOM = sorted(set(INITIALIZERS) - {"zeros", "constant"})


@pytest.mark.parametrize("fans", [(512, 512), (256, 1024), (1024, 256)])
@pytest.mark.parametrize("name", RANDOM)
def test_initializer_statistics(name: str, fans: tuple[int, int]) -> None:
    fan_in, fan_out = fans
    scale = 0.05
    W = initialize(name, (fan_in, fan_out), fan_in, fan_out, np.random.default_rng(0), scale)
    assert W.shape == (fan_in, fan_out)
    assert W.dtype == np.float64
    std = expected_std(name, fan_in, fan_out, scale)
    assert W.std() == pytest.approx(std, rel=0.05)
    assert abs(W.mean()) < 0.02 * std  # 5 standard errors of the mean at 2**18 samples


def test_initializer_formulas() -> None:
    """The fans are used as the literature says (a swapped fan changes these)."""
    fi, fo = 200, 50
    assert expected_std("xavier_normal", fi, fo) == pytest.approx(math.sqrt(2 / 250))
    assert expected_std("he_normal", fi, fo) == pytest.approx(math.sqrt(2 / 200))
    assert expected_std("lecun_normal", fi, fo) == pytest.approx(math.sqrt(1 / 200))
    assert expected_std("normal", fi, fo, 0.3) == 0.3
    assert expected_std("small_normal", fi, fo, 0.3) == 0.01
    assert expected_std("large_normal", fi, fo, 0.3) == 1.0


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("uniform", lambda fi, fo, s: s),
        ("xavier_uniform", lambda fi, fo, s: math.sqrt(6 / (fi + fo))),
        ("he_uniform", lambda fi, fo, s: math.sqrt(6 / fi)),
    ],
)
def test_uniform_ranges(name: str, limit) -> None:
    fi, fo, s = 300, 100, 0.2
    W = initialize(name, (fi, fo), fi, fo, np.random.default_rng(1), s)
    bound = limit(fi, fo, s)
    assert W.min() >= -bound and W.max() <= bound
    assert W.min() < -0.99 * bound and W.max() > 0.99 * bound  # the whole range is used


@pytest.mark.parametrize("shape", [(64, 64), (100, 30), (30, 100), (20, 8, 2)])
def test_orthogonal_is_orthogonal(shape: tuple[int, ...]) -> None:
    fan_in, fan_out = shape[0], shape[1]
    W = initialize("orthogonal", shape, fan_in, fan_out, np.random.default_rng(2))
    assert W.shape == shape
    M = W.reshape(shape[0], -1)
    rows, cols = M.shape
    if rows >= cols:
        np.testing.assert_allclose(M.T @ M, np.eye(cols), atol=1e-12)
    else:
        np.testing.assert_allclose(M @ M.T, np.eye(rows), atol=1e-12)


def test_zeros_and_constant_are_exact() -> None:
    rng = np.random.default_rng(0)
    assert np.array_equal(initialize("zeros", (7, 3), 7, 3, rng, 0.5), np.zeros((7, 3)))
    assert np.array_equal(initialize("constant", (7, 3), 7, 3, rng, 0.5), np.full((7, 3), 0.5))
    assert np.array_equal(
        initialize("constant", (4, 3, 2), 4, 3, rng, -2.0), np.full((4, 3, 2), -2.0)
    )


def test_maxout_weights_use_the_explicit_fans() -> None:
    """A (fan_in, units, k) draw has the std of a (fan_in, units) layer, not of units*k."""
    W = initialize("he_normal", (256, 256, 4), 256, 256, np.random.default_rng(3))
    assert W.std() == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    W = initialize("xavier_normal", (256, 256, 4), 256, 256, np.random.default_rng(3))
    assert W.std() == pytest.approx(math.sqrt(2 / 512), rel=0.05)


def test_initializers_are_seeded() -> None:
    for name in RANDOM:
        a = initialize(name, (9, 4), 9, 4, np.random.default_rng(11), 0.1)
        b = initialize(name, (9, 4), 9, 4, np.random.default_rng(11), 0.1)
        c = initialize(name, (9, 4), 9, 4, np.random.default_rng(12), 0.1)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)


def test_bias_init_by_name() -> None:
    net = Trainer(small_config(model={"bias_init": "constant", "bias_value": 0.25})).network
    for layer in net.layers:
        assert np.all(layer.b == np.float32(0.25))
    net = Trainer(small_config(model={"bias_init": "zeros", "bias_value": 0.25})).network
    assert not any(layer.b.any() for layer in net.layers)


# ----------------------------------------------------------------------------- losses


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_trains_by_name(name: str, dtype: str) -> None:
    config = small_config(
        data={"name": LOSS_DATA[name]}, model={"loss": name}, training={"dtype": dtype}
    )
    trainer = train_and_check_dtypes(config)
    assert trainer.loss is LOSSES[name]
    expected_outputs = {"softmax_cross_entropy": 3, "sigmoid_cross_entropy": 1, "mse": 1}[name]
    assert trainer.network.layers[-1].units == expected_outputs
    if LOSSES[name].task == "regression":
        assert trainer.y_train.dtype == np.dtype(dtype)


def test_every_loss_has_a_dataset_here() -> None:
    assert set(LOSS_DATA) == set(LOSSES)
    for name, data in LOSS_DATA.items():
        assert DATASETS[data].task == LOSSES[name].task


@pytest.mark.parametrize(
    ("data", "expected"), [("spiral", "softmax_cross_entropy"), ("sine", "mse")]
)
def test_auto_loss_follows_the_task(data: str, expected: str) -> None:
    assert Trainer(small_config(data={"name": data})).loss.name == expected
    task = DATASETS[data].task
    assert get_loss("auto", task).name == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_values(dtype: type) -> None:
    logits = np.zeros((4, 3), dtype=dtype)
    y = np.array([0, 1, 2, 1])
    loss, d = LOSSES["softmax_cross_entropy"].compute(logits, y)
    assert loss == pytest.approx(math.log(3), rel=1e-6)
    assert d.dtype == dtype
    np.testing.assert_allclose(d.sum(axis=1), 0.0, atol=1e-7)

    loss, d = LOSSES["sigmoid_cross_entropy"].compute(np.zeros((4, 1), dtype=dtype), y % 2)
    assert loss == pytest.approx(math.log(2), rel=1e-6)
    assert d.dtype == dtype and d.shape == (4, 1)

    pred = np.array([[1.0], [2.0]], dtype=dtype)
    target = np.array([[0.0], [4.0]], dtype=dtype)
    loss, d = LOSSES["mse"].compute(pred, target)
    assert loss == pytest.approx(2.5)
    assert d.dtype == dtype
    np.testing.assert_allclose(d, [[1.0], [-2.0]])


def test_losses_are_stable_for_huge_logits() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, d = LOSSES["softmax_cross_entropy"].compute(
            np.array([[1000.0, -1000.0, 0.0]]), np.array([1])
        )
        assert loss == pytest.approx(2000.0) and np.isfinite(d).all()
        loss, d = LOSSES["sigmoid_cross_entropy"].compute(
            np.array([[1000.0], [-1000.0]]), np.array([0, 1])
        )
        assert loss == pytest.approx(1000.0) and np.isfinite(d).all()


def test_probabilities_sum_to_one() -> None:
    logits = np.random.default_rng(0).standard_normal((5, 3)) * 10
    np.testing.assert_allclose(LOSSES["softmax_cross_entropy"].probabilities(logits).sum(1), 1.0)
    p = LOSSES["sigmoid_cross_entropy"].probabilities(logits[:, :1])
    assert p.shape == (5, 2)
    np.testing.assert_allclose(p.sum(1), 1.0)


# ----------------------------------------------------------------------------- optimizers


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_and_schedule_train_by_name(name: str, schedule: str, dtype: str) -> None:
    config = small_config(
        optimizer={
            "name": name,
            "schedule": schedule,
            "weight_decay": 1e-3,
            "clip_norm": 0.5,
            "step_size": 2,
        },
        training={"dtype": dtype},
    )
    before = {k: v.copy() for k, v in Trainer(config).network.parameters().items()}
    trainer = train_and_check_dtypes(config, steps=4)
    assert type(trainer.optimizer) is OPTIMIZERS[name]
    if name != "sgd":
        assert trainer.optimizer.state, "a stateful optimizer keeps buffers"
    for k, p in trainer.network.parameters().items():
        assert not np.array_equal(p, before[k]), f"{k} did not move"


def test_schedules_by_name() -> None:
    c = small_config(
        optimizer={"lr": 0.1, "schedule": "step", "step_size": 10, "gamma": 0.5}
    ).optimizer
    assert [learning_rate(c, t) for t in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    c = small_config(optimizer={"lr": 0.1, "schedule": "cosine", "decay_steps": 100}).optimizer
    assert [learning_rate(c, t) for t in (0, 50, 100, 150)] == pytest.approx(
        [0.1, 0.05, 0.0, 0.0], abs=1e-15
    )
    c = small_config(optimizer={"lr": 0.1, "schedule": "constant"}).optimizer
    assert learning_rate(c, 1234) == 0.1
    for schedule in SCHEDULES:
        c = small_config(optimizer={"schedule": schedule}).optimizer
        assert type(learning_rate(c, 3)) is float  # no NumPy scalar promotes float32


def test_records_follow_the_schedule() -> None:
    config = small_config(
        optimizer={"name": "sgd", "lr": 0.2, "schedule": "step", "step_size": 2, "gamma": 0.5}
    )
    trainer = Trainer(config)
    lrs = [trainer.step().lr for _ in range(5)]
    assert lrs == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05])


def textbook(name: str, c, grads: list[float], lr: float) -> float:
    """A scalar parameter from 1.0 after these gradients, by the formulas torch documents."""
    p, v, s = 1.0, 0.0, 0.0
    for t, g in enumerate(grads, 1):
        if name == "sgd":
            p -= lr * g
        elif name in ("momentum", "nesterov"):
            v = c.momentum * v + g
            p -= lr * (g + c.momentum * v if name == "nesterov" else v)
        elif name == "rmsprop":
            s = c.rho * s + (1 - c.rho) * g * g
            p -= lr * g / (math.sqrt(s) + c.eps)
        elif name == "adam":
            v = c.beta1 * v + (1 - c.beta1) * g
            s = c.beta2 * s + (1 - c.beta2) * g * g
            p -= lr * (v / (1 - c.beta1**t)) / (math.sqrt(s / (1 - c.beta2**t)) + c.eps)
    return p


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_by_name_updates_by_its_formula(name: str) -> None:
    c = small_config(optimizer={"name": name, "weight_decay": 0.0, "clip_norm": 0.0}).optimizer
    optimizer = make_optimizer(c)
    p = {"w": np.array([1.0])}
    grads = [0.5, -0.25, 0.75]
    for g in grads:
        optimizer.step(p, {"w": np.array([g])}, 0.1)
    assert p["w"][0] == pytest.approx(textbook(name, c, grads, 0.1), rel=1e-12)


# ----------------------------------------------------------------------------- unknown names

UNKNOWN = [
    ("model", "activation", ACTIVATIONS),
    ("model", "init", INITIALIZERS),
    ("model", "loss", ["auto", *LOSSES]),
    ("model", "bias_init", ["zeros", "constant"]),
    ("optimizer", "name", OPTIMIZERS),
    ("optimizer", "schedule", SCHEDULES),
    ("data", "name", DATASETS),
    ("training", "dtype", ["float32", "float64"]),
]


@pytest.mark.parametrize(("section", "key", "valid"), UNKNOWN)
def test_unknown_name_lists_the_valid_ones(section: str, key: str, valid) -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({section: {key: "no_such_thing"}})
    assert info.value.field == f"{section}.{key}"
    message = str(info.value)
    assert "no_such_thing" in message
    for name in valid:
        assert name in message, f"{name} missing from: {message}"


def test_unknown_names_in_the_registries_list_the_valid_ones() -> None:
    bad_optimizer = dataclasses.replace(ExperimentConfig().optimizer, name="nope")
    for lookup, registry in [
        (lambda: get_activation("nope"), ACTIVATIONS),
        (lambda: initialize("nope", (2, 2), 2, 2, np.random.default_rng(0)), INITIALIZERS),
        (lambda: get_loss("nope"), ["auto", *LOSSES]),
        (lambda: make_optimizer(bad_optimizer), OPTIMIZERS),
        (lambda: SCHEDULES["nope"], SCHEDULES),
    ]:
        with pytest.raises(UnknownName) as info:
            lookup()
        assert isinstance(info.value, KeyError)  # what callers catching KeyError rely on
        assert "'nope'" in str(info.value)
        for name in registry:
            assert name in str(info.value)


@pytest.mark.parametrize(
    "registry", [ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS, SCHEDULES], ids=lambda r: r.kind
)
def test_registries_are_registries_read_as_mappings(registry: Registry) -> None:
    assert isinstance(registry, Registry)
    names = list(registry)
    assert names and len(registry) == len(names) == len(set(names))
    assert all(name in registry for name in names) and "nope" not in registry
    assert [name for name, _ in registry.items()] == names
