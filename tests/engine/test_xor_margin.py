"""XOR keeps its points off the axes, as TensorFlow Playground's does, so that one hidden
layer can separate it completely (points on the axes capped validation near 95%)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.config import DataConfig
from engine.data.datasets import XOR_MARGIN, make_dataset


def test_noise_free_xor_points_keep_the_margin_from_both_axes() -> None:
    d = make_dataset(
        DataConfig(name="xor", noise=0.0, n_samples=2000, standardize=False),
        np.random.default_rng(0),
    )
    X = np.concatenate([d.X_train, d.X_val])
    y = np.concatenate([d.y_train, d.y_val])
    assert pytest.approx(0.06) == XOR_MARGIN  # Playground's padding 0.3 of its 5
    assert np.abs(X).min() >= XOR_MARGIN
    assert np.abs(X).max() <= 1.0 + XOR_MARGIN
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


@pytest.mark.parametrize("seed", range(5))
def test_one_hidden_layer_of_16_solves_noise_free_xor(seed: int) -> None:
    config = ExperimentConfig().with_changes(
        data={"name": "xor", "noise": 0.0},
        model={"hidden": [16]},
        training={"seed": seed, "steps": 2000},
    )
    trainer = Trainer(config)
    trainer.run(2000)
    assert trainer.evaluate().val_accuracy >= 0.99
