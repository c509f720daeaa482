"""Readings over a run: each reads what it says, from the history, the evaluations or a
float64 copy of the network, and stays right however long the run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.lecture.readings import (
    dead_shares,
    depth_factor,
    first,
    forward_copy,
    grad_ratio,
    local_gradients,
    ratio,
    recent,
    start_stds,
    update_ratio,
    worst,
)
from engine.train.history import History


def config(**model: object) -> ExperimentConfig:
    return ExperimentConfig.from_dict({"model": {"hidden": [8, 8], **model}})


def test_first_is_exact_after_the_history_coarsens() -> None:
    # A history this small merges step 1 into ever larger buckets within a few hundred
    # steps, as 600k steps do to the default one (the advisor read 1.498 as 0.488).
    long = Trainer(ExperimentConfig())
    long.history = History(long.columns, capacity=8, max_levels=2)
    long.run(1500)
    assert long.history.series("loss", end=1).count[0] > 100  # step 1 is long merged
    twin = Trainer(ExperimentConfig())  # same seed: the same first step
    twin.step()
    step_1 = twin.history.last()
    assert step_1 is not None
    assert first(long, "loss") == step_1["loss"]
    assert start_stds(long) == [step_1[f"layers.{i}.act_std"] for i in range(2)]


def test_first_before_any_step_names_the_column() -> None:
    with pytest.raises(ValueError, match="loss: the run has taken no step yet"):
        first(Trainer(config()), "loss")


def test_recent_averages_the_last_steps() -> None:
    trainer = Trainer(config())
    losses = [trainer.step().loss for _ in range(30)]
    assert recent(trainer, "loss", window=5) == pytest.approx(np.mean(losses[-5:]), rel=1e-12)
    assert recent(trainer, "loss", window=100) == pytest.approx(np.mean(losses), rel=1e-12)


def test_dead_shares_are_the_evaluations_counts_per_layer() -> None:
    trainer = Trainer(config())
    trainer.run(50)
    record = dataclasses.replace(trainer.evals[-1], dead=[2, 6])
    assert dead_shares(trainer, record) == [0.25, 0.75]
    assert worst(dead_shares(trainer, record)) == (2, 0.75)


def test_ratio_of_nothing_to_nothing_is_even() -> None:
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(0.0, 0.0) == 1.0  # neither is smaller: nothing fades
    assert ratio(1.0, 0.0) == math.inf


def test_zero_init_relu_has_no_gradient_ratio_and_no_update_ratio() -> None:
    # Nothing but the output bias moves: every weight norm and gradient is 0.
    trainer = Trainer(config(init="zeros"))
    trainer.run(30)
    assert grad_ratio(trainer) == 1.0
    assert update_ratio(trainer) is None


def test_update_ratio_is_the_median_layers() -> None:
    trainer = Trainer(config())
    trainer.run(30)
    per_layer = [recent(trainer, f"layers.{i}.update_ratio") for i in range(3)]
    assert update_ratio(trainer) == sorted(per_layer)[1]


def test_depth_factor() -> None:
    assert depth_factor([1.0]) == 1.0
    assert depth_factor([1.0, 0.5, 0.25]) == pytest.approx(0.5)
    assert depth_factor([1.0, 0.0]) == 0.0


@pytest.mark.parametrize(
    ("activation", "slope"),
    [
        ("tanh", lambda a: 1 - a**2),
        ("sigmoid", lambda a: a * (1 - a)),
        ("relu", lambda a: (a > 0).astype(float)),
        ("maxout", np.ones_like),  # the winning piece passes the gradient unchanged
    ],
)
def test_local_gradients_are_each_activations_slope(
    activation: str, slope: Callable[[np.ndarray], np.ndarray]
) -> None:
    trainer = Trainer(config(activation=activation, init="xavier_normal"))
    network = forward_copy(trainer)
    grads = local_gradients(network)
    for g, a in zip(grads, network.hidden_activations, strict=True):
        assert g.shape == a.shape == (len(trainer.X_train), 8)
        np.testing.assert_allclose(g, slope(a), atol=1e-12)


def test_forward_copy_leaves_the_run_alone() -> None:
    trainer = Trainer(config())
    trainer.run(5)
    caches = [layer.a for layer in trainer.network.layers]
    copy = forward_copy(trainer)
    assert copy.layers[0].a.dtype == np.float64
    assert all(layer.a is a for layer, a in zip(trainer.network.layers, caches, strict=True))
