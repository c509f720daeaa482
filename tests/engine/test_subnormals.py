"""Subnormal floats are flushed where training makes them (engine.nn.subnormals): the
softmax's every step, the optimizer state every FLUSH_EVERY updates, alone and stacked alike."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.nn.losses import softmax_cross_entropy, softmax_cross_entropy_members
from engine.nn.subnormals import FLUSH_EVERY, flush_small, flush_subnormals
from engine.train.stacked import StackedTrainer


def subnormals(a: np.ndarray) -> int:
    return int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_zeroes_exactly_the_subnormals(dtype: type) -> None:
    info = np.finfo(dtype)
    values = [info.smallest_subnormal, -info.smallest_subnormal, info.tiny / 2, -info.tiny / 3]
    kept = [info.tiny, -info.tiny, 1.0, -2.5, 0.0, -0.0, np.inf, -np.inf, info.max]
    a = np.array(values + kept, dtype)
    flush_subnormals(a)
    assert a[: len(values)].tolist() == [0.0] * len(values)
    assert a[len(values) :].tolist() == kept
    b = np.array([np.nan, info.tiny / 2, 3.0], dtype)
    flush_subnormals(b)
    assert np.isnan(b[0]) and b[1:].tolist() == [0.0, 3.0]
    c = np.array([info.tiny / 4, info.tiny, 0.5], dtype)
    flush_small(c)
    assert c.tolist() == [0.0, info.tiny, 0.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_confident_softmax_has_no_subnormal_gradient(dtype: type) -> None:
    """Wrong classes far below the right one: their exp underflows into subnormals, which
    the gradient does not carry; the loss is still each sample's own (a wrong sample's is
    its logit gap, however big)."""
    gap = 95.0 if dtype is np.float32 else 720.0  # e^-gap below the smallest normal
    logits = np.array([[gap, 0.0, 0.0], [0.0, gap, 0.0], [0.0, 0.0, gap]], dtype)
    y = np.array([0, 1, 0])  # the last sample is confidently wrong
    loss, dlogits = softmax_cross_entropy(logits, y)
    assert subnormals(np.exp(logits - gap)) > 0  # what the flush is for
    assert subnormals(dlogits) == 0
    assert loss == pytest.approx(gap / 3, rel=1e-6)
    losses, stacked = softmax_cross_entropy_members(np.stack([logits, logits]), np.stack([y, y]))
    assert subnormals(stacked) == 0
    assert np.array_equal(stacked[0], dlogits) and losses.tolist() == [loss, loss]


def config(**training: object) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "data": {"n_samples": 120},
            # Zero init: the ReLU layer stays off, so most gradients are zero for good and
            # the state's subnormals only decay, as a dead unit's do.
            "model": {"hidden": [8], "init": "zeros"},
            "optimizer": {"name": "adam"},
            "training": {"batch_size": 16, "eval_every": 0, **training},
        }
    )


def plant(state: dict[str, np.ndarray]) -> None:
    """Subnormals in Adam's v, as a zero gradient's decay leaves them (m stays 0, so the
    updates stay 0 and the gradients with them)."""
    v = state["theta.v"]
    v[::3] = np.finfo(v.dtype).tiny / 8


def test_the_optimizer_state_is_flushed_every_flush_every_updates() -> None:
    trainer = Trainer(config())
    trainer.run(1)
    plant(trainer.optimizer.state)
    trainer.run(FLUSH_EVERY - 2)  # t = FLUSH_EVERY - 1: not yet
    assert subnormals(trainer.optimizer.state["theta.v"]) >= 16  # all but a live bias's
    trainer.run(1)
    assert [subnormals(b) for b in trainer.optimizer.state.values()] == [0, 0]


def test_stacked_members_flush_as_their_runs_alone() -> None:
    """Each member's state rows are flushed at its own count's turn, bit for bit as its
    run alone: a member restored a step back is flushed a step later."""
    configs = [config(seed=1), config(seed=2)]
    stacked = StackedTrainer(configs)
    stacked.run(2)
    saved = stacked.members[1].checkpoint()
    stacked.run(1)
    stacked.members[1].restore(saved)  # at step 2, while member 0 is at 3
    alone = [Trainer(c) for c in configs]
    alone[0].run(3)
    alone[1].run(2)
    for trainer in (*alone, *stacked.members):
        plant(trainer.optimizer.state)

    def step() -> list[bool]:
        """A step of each, alone and stacked; which stacked members hold subnormals."""
        for trainer in alone:
            trainer.step()
        stacked.step()
        return [subnormals(m.optimizer.state["theta.v"]) > 0 for m in stacked.members]

    for _ in range(FLUSH_EVERY - 4):  # to t = FLUSH_EVERY - 1 and FLUSH_EVERY - 2
        assert step() == [True, True]
    assert step() == [False, True]  # member 0's turn
    assert step() == [False, False]  # member 1's
    for a, m in zip(alone, stacked.members, strict=True):
        for key, buffer in a.optimizer.state.items():
            assert np.array_equal(buffer, m.optimizer.state[key]), key
        assert np.array_equal(a.network.theta, m.network.theta)
