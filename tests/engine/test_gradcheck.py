"""Numerical gradient checks: every activation with every loss, and the checker itself."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.nn.activations import ACTIVATIONS, get_activation
from engine.nn.gradcheck import WRONG, gradcheck, relative_error, verdict
from engine.nn.losses import LOSSES
from engine.nn.network import MLP
from engine.train.build import build_network

KINKED = {"relu", "leaky_relu", "maxout"}
SMOOTH_TOL = 1e-7
KINK_TOL = 1e-5
MARGIN = 1e-3  # no pre-activation (or maxout runner-up) within this of a kink; h is 1e-5

# loss -> (classes or targets, network outputs)
LOSS_SHAPES = {"softmax_cross_entropy": (3, 3), "sigmoid_cross_entropy": (2, 1), "mse": (2, 2)}


def small_problem(
    activation: str, loss_name: str, seed: int = 19
) -> tuple[MLP, np.ndarray, np.ndarray]:
    """A 2-5-4-C float64 net and a batch of 8. Seed 19 keeps every unit at least 1e-2
    from a kink and no gradient entry so small that round-off dominates its error."""
    rng = np.random.default_rng(seed)
    n_targets, n_out = LOSS_SHAPES[loss_name]
    model = ModelConfig(
        hidden=[5, 4],
        activation=activation,
        init="normal",
        init_scale=0.8,
        bias_init="constant",
        bias_value=0.1,
        leaky_slope=0.1,
        elu_alpha=1.2,
    )
    net = build_network(model, 2, n_out, rng, np.float64)
    X = rng.standard_normal((8, 2))
    if LOSSES[loss_name].task == "classification":
        y = np.arange(8) % n_targets  # every class present
    else:
        y = rng.standard_normal((8, n_targets))
    return net, X, y


def kink_distance(net: MLP, X: np.ndarray) -> float:
    """How close any hidden unit comes to a kink for this batch (inf for smooth units)."""
    net.forward(X)
    closest = np.inf
    for layer in net.layers[:-1]:
        k = layer.pieces
        z = (layer.x @ layer.W.reshape(layer.W.shape[0], -1) + layer.b.reshape(-1)).reshape(
            len(layer.x), layer.units, k
        )
        if k > 1:  # maxout's kink: where the best two pieces tie
            top2 = np.sort(z, axis=2)[..., -2:]
            closest = min(closest, float(np.min(top2[..., 1] - top2[..., 0])))
        elif layer.activation.kinked:  # ReLU's and leaky ReLU's: at 0
            closest = min(closest, float(np.min(np.abs(z))))
    return closest


def test_kinks_are_known_by_fields_not_names() -> None:
    """gradcheck excuses kink error for ReLU-like units (kinked) and maxout (pieces > 1)."""
    assert {name for name in ACTIVATIONS if get_activation(name).kinked} == KINKED - {"maxout"}
    assert {name for name in ACTIVATIONS if get_activation(name).pieces > 1} == {"maxout"}


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradients_match_centred_differences(activation: str, loss_name: str) -> None:
    net, X, y = small_problem(activation, loss_name)
    if activation in KINKED:
        assert kink_distance(net, X) > MARGIN, "pick another seed: a unit sits at a kink"
    rows = gradcheck(net, X, y, LOSSES[loss_name])
    assert [r.name for r in rows] == list(net.parameters())
    tol = KINK_TOL if activation in KINKED else SMOOTH_TOL
    for row in rows:
        assert row.checked == int(np.prod(row.shape))
        assert row.max_error < tol, f"{activation}/{loss_name} {row.name}: {row.max_error:.2e}"
        assert row.mean_error <= row.max_error
        assert row.verdict in ("good", "ok (kinks)")


def test_gradcheck_reports_a_wrong_backward() -> None:
    """The checker can fail: tanh with its derivative left out is 'wrong'."""
    net, X, y = small_problem("tanh", "softmax_cross_entropy")
    tanh = get_activation("tanh")
    broken = dataclasses.replace(tanh, backward=lambda dout, z, a: dout)
    for layer in net.layers[:-1]:
        layer.activation = broken
    rows = gradcheck(net, X, y, LOSSES["softmax_cross_entropy"])
    by_name = {r.name: r for r in rows}
    assert by_name["layers.0.W"].verdict == "wrong"
    assert by_name["layers.0.W"].max_error > WRONG
    # The output layer's own gradients do not go through the broken derivative.
    assert by_name["layers.2.W"].verdict == "good"


def test_gradcheck_leaves_the_network_untouched() -> None:
    model = ModelConfig(hidden=[4], activation="tanh", init="xavier_normal")
    net = build_network(model, 2, 3, np.random.default_rng(0), np.float32)
    before = {k: v.copy() for k, v in net.parameters().items()}
    X = np.random.default_rng(1).standard_normal((6, 2)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    rows = gradcheck(net, X, y, LOSSES["softmax_cross_entropy"])
    assert all(r.verdict == "good" for r in rows)  # the check itself runs in float64
    for name, p in net.parameters().items():
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, before[name])


def test_gradcheck_samples_at_most_max_per_param() -> None:
    net, X, y = small_problem("sigmoid", "mse")
    rows = gradcheck(net, X, y, LOSSES["mse"], max_per_param=3, rng=np.random.default_rng(5))
    for row in rows:
        assert row.checked == min(3, int(np.prod(row.shape)))
        assert row.max_error < SMOOTH_TOL


def test_kinked_nets_are_flagged_by_the_verdict() -> None:
    assert verdict(5e-6, has_kinks=True) == "ok (kinks)"
    assert verdict(5e-6, has_kinks=False) == "suspect"


# ----------------------------------------------------------------------------- CS231n formula


def test_relative_error_formula() -> None:
    a = np.array([1.0, 0.0, 1e-9, -2.0, 3.0, 0.0])
    n = np.array([1.0, 0.0, 2e-9, 2.0, 3.5, 1e-12])
    expected = np.array(
        [
            0.0,
            0.0,  # both zero: the 1e-8 floor keeps it finite
            1e-9 / 1e-8,  # tiny values are measured against the floor, not each other
            1.0,  # opposite signs: |a - n| / (|a| + |n|) = 1
            0.5 / 6.5,
            1e-12 / 1e-8,
        ]
    )
    np.testing.assert_allclose(relative_error(a, n), expected, rtol=1e-12, atol=0)
    assert np.all(np.isfinite(relative_error(np.zeros(3), np.zeros(3))))


def test_relative_error_is_symmetric() -> None:
    rng = np.random.default_rng(0)
    a, n = rng.standard_normal(50), rng.standard_normal(50)
    np.testing.assert_array_equal(relative_error(a, n), relative_error(n, a))


@pytest.mark.parametrize(
    ("error", "has_kinks", "expected"),
    [
        (0.0, False, "good"),
        (9.9e-8, False, "good"),
        (9.9e-8, True, "good"),
        (1e-7, False, "suspect"),
        (1e-5, False, "suspect"),
        (1e-5, True, "ok (kinks)"),
        (9.9e-5, True, "ok (kinks)"),
        (1e-4, True, "suspect"),
        (1e-2, False, "suspect"),
        (1e-2, True, "suspect"),
        (1.01e-2, False, "wrong"),
        (1.01e-2, True, "wrong"),
        (1.0, False, "wrong"),
    ],
)
def test_verdict_thresholds(error: float, has_kinks: bool, expected: str) -> None:
    assert verdict(error, has_kinks) == expected
