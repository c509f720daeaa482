"""The kernels with a member axis equal the 2-D kernels on each member, bit for bit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.config import ExperimentConfig
from engine.nn.layers import (
    dense_backward,
    dense_forward,
    maxout_backward,
    maxout_forward,
    member_vdots,
    stacked_dense_backward,
    stacked_dense_forward,
    stacked_maxout_backward,
    stacked_maxout_forward,
)
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS
from engine.train import diagnostics
from engine.train.stacked import StackedTrainer, step_stats

DTYPES = [np.dtype(np.float32), np.dtype(np.float64)]
Array = np.ndarray
M = 5


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_kernels(dtype: np.dtype) -> None:
    r = rng()
    x: Array = r.standard_normal((M, 33, 7)).astype(dtype)
    W: Array = r.standard_normal((M, 7, 5)).astype(dtype)
    b: Array = r.standard_normal((M, 5)).astype(dtype)
    dz: Array = r.standard_normal((M, 33, 5)).astype(dtype)
    z = stacked_dense_forward(x, W, b)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx = stacked_dense_backward(dz, x, W, dW, db)
    assert dx is not None
    for m in range(M):
        assert np.array_equal(z[m], dense_forward(x[m], W[m], b[m]))
        dW1, db1 = np.empty_like(W[m]), np.empty_like(b[m])
        dx1 = dense_backward(dz[m], x[m], W[m], dW1, db1)
        assert dx1 is not None
        assert np.array_equal(dW[m], dW1) and np.array_equal(db[m], db1)
        assert np.array_equal(dx[m], dx1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_kernels(dtype: np.dtype) -> None:
    r = rng()
    x: Array = r.standard_normal((M, 21, 4)).astype(dtype)
    W: Array = r.standard_normal((M, 4, 6, 3)).astype(dtype)
    b: Array = r.standard_normal((M, 6, 3)).astype(dtype)
    dout: Array = r.standard_normal((M, 21, 6)).astype(dtype)
    out, winner = stacked_maxout_forward(x, W, b)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx = stacked_maxout_backward(dout, x, winner, W, dW, db)
    assert dx is not None
    for m in range(M):
        out1, winner1 = maxout_forward(x[m], W[m], b[m])
        assert np.array_equal(out[m], out1) and np.array_equal(winner[m], winner1)
        dW1, db1 = np.empty_like(W[m]), np.empty_like(b[m])
        dx1 = maxout_backward(dout[m], x[m], winner1, W[m], dW1, db1)
        assert dx1 is not None
        assert np.array_equal(dW[m], dW1) and np.array_equal(db[m], db1)
        assert np.array_equal(dx[m], dx1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_member_vdots(dtype: np.dtype) -> None:
    x: Array = rng().standard_normal((M, 17, 9)).astype(dtype)
    dots = member_vdots(x)
    assert dots.dtype == dtype
    assert [float(d) for d in dots] == [float(np.vdot(x[m], x[m])) for m in range(M)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES))
def test_losses(name: str, dtype: np.dtype) -> None:
    loss = LOSSES[name]
    r = rng()
    c = 4 if name == "softmax_cross_entropy" else 1 if name == "sigmoid_cross_entropy" else 2
    logits: Array = r.standard_normal((M, 29, c)).astype(dtype)
    if loss.task == "classification":
        y = r.integers(0, max(c, 2), (M, 29))
    else:
        y = r.standard_normal((M, 29, c)).astype(dtype)
    losses, dlogits = loss.compute_members(logits, y)
    accuracy = loss.accuracy_members(logits, y)
    for m in range(M):
        one, d = loss.compute(logits[m], y[m])
        assert float(losses[m]) == one
        assert np.array_equal(dlogits[m], d)
        a = loss.accuracy(logits[m], y[m])
        assert float(accuracy[m]) == a or (np.isnan(a) and np.isnan(accuracy[m]))


def settings(**numbers: float) -> SimpleNamespace:
    base = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "rho": 0.99, "eps": 1e-8}
    return SimpleNamespace(**{**base, **numbers})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_updates_with_stacked_factors(name: str, dtype: np.dtype) -> None:
    """Members with their own numbers, updated at once, as each optimizer alone."""
    r = rng()
    alone = [
        OPTIMIZERS[name](settings(momentum=0.5 + 0.1 * m, beta1=0.8 + 0.02 * m, rho=0.9))
        for m in range(M)
    ]
    stacked = OPTIMIZERS[name](settings())
    lrs = [0.01 * (m + 1) for m in range(M)]
    for t in range(1, 4):
        grad: Array = r.standard_normal((M, 50)).astype(dtype)
        stacked.t = t
        rows = []
        for opt, lr in zip(alone, lrs, strict=True):
            opt.t = t
            rows.append(opt.factors(lr))
        factors = list(np.array(rows, dtype=dtype).T[..., None])
        delta = stacked.update("theta", grad, factors)
        for m, (opt, lr) in enumerate(zip(alone, lrs, strict=True)):
            assert np.array_equal(delta[m], opt.delta("theta", grad[m], lr))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", [[16, 16], [256, 256]])  # norms by reduceat, by vdot
def test_step_stats_are_each_members_own(hidden: list[int], dtype: np.dtype) -> None:
    """Every bit of every member's stats, with the work array kept or made afresh, a
    member with a dead first layer (all its outputs zero) among them."""
    configs = [
        ExperimentConfig.from_dict(
            {
                "data": {"n_samples": 120},
                "model": {"hidden": hidden},
                "training": {"batch_size": 16, "seed": seed, "dtype": dtype.name},
            }
        )
        for seed in range(3)
    ]
    stacked = StackedTrainer(configs)
    stacked.run(2)
    net = stacked.network
    net.layers[0].a[1] = 0.0
    delta: Array = rng().standard_normal(net.theta.shape).astype(dtype)
    squares = np.empty((3, *net.theta.shape), dtype)
    kept, fresh = step_stats(net, delta, squares), step_stats(net, delta)
    for m, member in enumerate(stacked.members):
        for layer, stacked_layer in zip(member.network.layers, net.layers, strict=True):
            layer.a = stacked_layer.a[m]
        alone = bits(diagnostics.step_stats(member.network, delta[m]))
        assert bits(kept[m].tolist()) == alone
        assert bits(fresh[m].tolist()) == alone


def bits(values: list[float]) -> list[str]:
    """Each value's every bit (0.0 and -0.0 differ)."""
    return [float(v).hex() for v in values]
