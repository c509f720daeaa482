"""The kernels' write contract: each leaves its inputs as they were, except those its
docstring hands over (an activation's forward may overwrite z, a backward its incoming
gradient, an optimizer the parameters and its state; dense/maxout backward fill dW, db)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

from engine import ExperimentConfig
from engine.config import ModelConfig
from engine.nn.activations import ACTIVATIONS, ActivationParams, get_activation, stable_sigmoid
from engine.nn.gradcheck import gradcheck
from engine.nn.layers import dense_backward, dense_forward, maxout_backward, maxout_forward
from engine.nn.losses import LOSSES, softmax
from engine.nn.network import MLP
from engine.nn.optimizers import OPTIMIZERS, make_optimizer
from engine.train.build import build_network
from engine.train.diagnostics import dead_units, mean_std, saturated_units, step_stats

RNG = np.random.default_rng(0)


@contextlib.contextmanager
def unchanged(**arrays: np.ndarray) -> Iterator[None]:
    """Fails naming every array the block wrote into."""
    before = {name: a.copy() for name, a in arrays.items()}
    yield
    written = [name for name, a in arrays.items() if not np.array_equal(a, before[name], True)]
    assert written == [], f"wrote into {written}"


def z_values(shape: tuple[int, ...]) -> np.ndarray:
    z = RNG.standard_normal(shape) * 2
    z.flat[::7] = 0.0  # the kinks too
    return z


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_leaves_z_and_a(name: str) -> None:
    act = get_activation(name, ActivationParams(leaky_slope=0.1, elu_alpha=0.5))
    z = z_values((8, 5))
    a = act.forward(z.copy())  # forward may overwrite the z it is given: hand it a copy
    dout = RNG.standard_normal(z.shape)
    with unchanged(z=z, a=a):
        act.backward(dout, z, a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_maximum_with_zero_bit_for_bit(dtype: type) -> None:
    """ReLU's forward reads a kept zeros array (faster than the scalar): the same bits as
    np.maximum(z, 0.0) on signed zeros, NaN, infinities and denormals, and small and big
    arrays alike (past the kept arrays' size it takes the scalar)."""
    relu = get_activation("relu", ActivationParams())
    tiny = np.finfo(dtype).smallest_subnormal
    special = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, tiny, -tiny, -1, 2], dtype)
    for size in (10, 4096, 2**20 + 10):
        z = np.resize(special, size) * np.resize([1, -1], size).astype(dtype)
        expected = np.maximum(z, 0.0)
        got = relu.forward(z.copy())
        assert got.dtype == dtype
        assert got.view(np.uint8).tobytes() == expected.view(np.uint8).tobytes()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_layers_leave_their_input_and_weights(name: str) -> None:
    model = ModelConfig(hidden=[5, 4], activation=name, init="xavier_normal", maxout_k=3)
    net = build_network(model, 3, 2, np.random.default_rng(1), np.float64)
    X = RNG.standard_normal((6, 3))
    with unchanged(X=X, theta=net.theta):
        out = net.forward(X)
    for i, layer in enumerate(net.layers):
        kept = {"x": layer.x, "a": layer.a, "W": layer.W, "b": layer.b}
        with unchanged(**kept):
            layer.local_gradient()
            layer.backward(RNG.standard_normal(layer.a.shape), need_dx=i > 0)
    with unchanged(theta=net.theta, out=out):
        net.backward(RNG.standard_normal(out.shape))  # consumes its dout, by contract


def test_dense_kernels() -> None:
    x, W, b = RNG.standard_normal((6, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    with unchanged(x=x, W=W, b=b):
        z = dense_forward(x, W, b)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dz = RNG.standard_normal(z.shape)
    with unchanged(dz=dz, x=x, W=W):
        dx = dense_backward(dz, x, W, dW, db)
    np.testing.assert_allclose(dW, x.T @ dz)
    np.testing.assert_allclose(db, dz.sum(axis=0))
    assert dx is not None
    np.testing.assert_allclose(dx, dz @ W.T)


def test_maxout_kernels() -> None:
    x, W, b = (
        RNG.standard_normal((6, 3)),
        RNG.standard_normal((3, 4, 2)),
        RNG.standard_normal((4, 2)),
    )
    with unchanged(x=x, W=W, b=b):
        out, winner = maxout_forward(x, W, b)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dout = RNG.standard_normal(out.shape)
    with unchanged(dout=dout, x=x, winner=winner, W=W):
        maxout_backward(dout, x, winner, W, dW, db)
    assert dW.any() and db.any()


def loss_inputs(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "softmax_cross_entropy":
        return RNG.standard_normal((7, 3)) * 5, RNG.integers(0, 3, 7)
    if name == "sigmoid_cross_entropy":
        return RNG.standard_normal((7, 1)) * 5, RNG.integers(0, 2, 7)
    return RNG.standard_normal((7, 2)), RNG.standard_normal((7, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_leave_logits_and_labels(name: str, dtype: type) -> None:
    logits, y = loss_inputs(name)
    logits = logits.astype(dtype)
    loss = LOSSES[name]
    with unchanged(logits=logits, y=y):
        loss.compute(logits, y)
        loss.probabilities(logits)
        loss.predictions(logits)
        loss.accuracy(logits, y)
    # A column of a wider array (not contiguous) as logits: still left alone.
    wide = np.repeat(logits, 2, axis=1)
    with unchanged(wide=wide):
        loss.compute(wide[:, ::2], y)
    with unchanged(logits=logits):
        softmax(logits)
        stable_sigmoid(logits)


def test_mse_refuses_targets_of_another_shape() -> None:
    with pytest.raises(
        ValueError, match=r"mse: outputs of shape \(4, 1\), targets of shape \(4,\)"
    ):
        LOSSES["mse"].compute(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_leave_the_gradient(name: str) -> None:
    settings = dataclasses.replace(
        ExperimentConfig().optimizer, name=name, clip_norm=0.5, weight_decay=0.1
    )
    optimizer = make_optimizer(settings)
    theta, grad = RNG.standard_normal(20), RNG.standard_normal(20)
    mask = (np.arange(20) < 15).astype(np.float64)
    for _ in range(3):
        with unchanged(grad=grad, mask=mask):
            delta = optimizer.step_flat(theta, grad, 0.1, mask)
        assert delta.any()
    params = {"layers.0.W": RNG.standard_normal((3, 2)), "layers.0.b": RNG.standard_normal(2)}
    grads = {key: RNG.standard_normal(p.shape) for key, p in params.items()}
    with unchanged(**{key.replace(".", "_"): g for key, g in grads.items()}):
        make_optimizer(settings).step(params, grads, 0.1)


def trained_net() -> tuple[MLP, np.ndarray, np.ndarray]:
    model = ModelConfig(hidden=[5, 4], activation="tanh", init="xavier_normal")
    net = build_network(model, 2, 3, np.random.default_rng(2), np.float64)
    return net, RNG.standard_normal((9, 2)), np.arange(9) % 3


def test_gradcheck_leaves_its_inputs() -> None:
    net, X, y = trained_net()
    with unchanged(X=X, y=y, theta=net.theta, grad=net.grad):
        gradcheck(net, X, y, LOSSES["softmax_cross_entropy"])


def test_diagnostics_only_read() -> None:
    net, X, y = trained_net()
    _, dlogits = LOSSES["softmax_cross_entropy"].compute(net.forward(X), y)
    net.backprop(dlogits)
    delta = RNG.standard_normal(net.theta.shape)
    kept = {"theta": net.theta, "grad": net.grad, "delta": delta}
    kept |= {f"a{i}": layer.a for i, layer in enumerate(net.layers)}
    with unchanged(**kept):
        step_stats(net, delta)
        dead_units(net)
        saturated_units(net)
        mean_std(net.layers[0].a)
