"""Numbers the engine reports, checked against a second computation: activation stats, dead
units, the live learning rate, the cosine schedule and the memory guard (issue 8, part 1)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from engine import LAYER_STATS, ConfigError, ExperimentConfig, Trainer
from engine.data.datasets import Dataset, make_dataset
from engine.nn.activations import ACTIVATIONS
from engine.nn.initializers import INITIALIZERS
from engine.train.history import History
from engine.train.memory import MB, estimate_bytes
from engine.train.records import history_columns

STD = LAYER_STATS.index("act_std")
MEAN = LAYER_STATS.index("act_mean")


def config(**sections: dict) -> ExperimentConfig:
    return ExperimentConfig.from_dict(sections)


# ----------------------------------------------------------------------------- activation std


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init", sorted(INITIALIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_stats_are_numpys_in_float64(activation: str, init: str, dtype: str) -> None:
    """Each step's act_std and act_mean against np.std and np.mean of the same activations
    in float64. A tiny scale makes the std small beside the mean (sigmoid: 0.5 +- 1e-4),
    where a one-pass variance cancels."""
    trainer = Trainer(
        config(
            data={"n_samples": 120},
            model={"hidden": [6, 5], "activation": activation, "init": init, "init_scale": 1e-4},
            training={"batch_size": 16, "dtype": dtype, "eval_every": 0},
        )
    )
    for _ in range(3):
        record = trainer.step()
        for i, layer in enumerate(trainer.network.layers):  # a is the step's forward output
            a = layer.a.astype(np.float64)
            assert record.stats[i, STD] == pytest.approx(np.std(a), rel=1e-3), f"layer {i}"
            tolerance = 1e-5 * float(np.mean(np.abs(a))) + 1e-300
            assert abs(record.stats[i, MEAN] - np.mean(a)) <= tolerance, f"layer {i}"


def test_tiny_init_sigmoid_reports_its_small_std() -> None:
    """The issue's case: sigmoid, normal init at 1e-4, float32 reported act_std 0.0."""
    trainer = Trainer(
        config(
            model={"activation": "sigmoid", "init": "normal", "init_scale": 1e-4},
            training={"dtype": "float32"},
        )
    )
    record = trainer.step()
    stds = record.stats[:-1, STD]
    for i, std in enumerate(stds):
        a = trainer.network.layers[i].a.astype(np.float64)
        assert 0 < np.std(a) < 1e-3 * np.mean(a)  # small beside the mean: the hard case
        assert std == pytest.approx(np.std(a), rel=1e-3)


# ----------------------------------------------------------------------------- dead units


def training_set_dead_units(trainer: Trainer) -> list[int]:
    """Dead ReLU units by hand: a forward of the whole training set with the weights now."""
    h = trainer.X_train
    dead = []
    for layer in trainer.network.layers[:-1]:
        h = np.maximum(h.dot(layer.W) + layer.b, 0)
        dead.append(int(np.count_nonzero(h.max(axis=0) <= 0)))
    return dead


def test_dead_units_are_counted_over_the_training_set() -> None:
    """Batch 4, [32, 32]: a batch shows more units off (about 14 of 32) than are dead for
    the whole training set (9 of 32). Only the training-set count is reported."""
    trainer = Trainer(
        config(
            model={"hidden": [32, 32], "activation": "relu"},
            optimizer={"name": "adam", "lr": 0.05},
            training={"batch_size": 4, "eval_every": 50},
        )
    )
    assert "dead" not in LAYER_STATS
    assert not any(column.endswith(".dead") for column in trainer.history.columns)
    expected = {0: training_set_dead_units(trainer)}
    batch_counts = []
    for _ in range(500):
        trainer.step()
        if trainer.steps_done % 50 == 0:
            expected[trainer.steps_done] = training_set_dead_units(trainer)
            batch_counts.append(
                [
                    int(np.count_nonzero(layer.a.max(axis=0) <= 0))
                    for layer in trainer.network.layers[:-1]
                ]
            )
    assert {ev.step: ev.dead for ev in trainer.evals} == expected
    assert trainer.evals[0].step == 0
    assert sum(trainer.evals[-1].dead) > 0
    # A batch's count would have been another number: the distinction is real here.
    assert any(b != ev.dead for b, ev in zip(batch_counts, trainer.evals[1:], strict=True))


# ----------------------------------------------------------------------------- live learning rate


def test_set_learning_rate_replaces_the_config_and_survives_a_checkpoint() -> None:
    trainer = Trainer(config(optimizer={"lr": 0.01}))
    trainer.run(5)
    trainer.set_learning_rate(0.05)
    assert trainer.config.optimizer.lr == 0.05
    assert trainer.step().lr == 0.05
    clone = Trainer.from_checkpoint(trainer.config, trainer.checkpoint())
    assert clone.config.optimizer.lr == 0.05
    for _ in range(3):
        mine, theirs = trainer.step(), clone.step()
        assert theirs.lr == mine.lr == 0.05
        assert theirs.loss == mine.loss
    np.testing.assert_array_equal(clone.network.theta, trainer.network.theta)


def test_a_refused_learning_rate_changes_nothing() -> None:
    trainer = Trainer(config(optimizer={"lr": 0.01}))
    before = trainer.config
    with pytest.raises(ConfigError) as info:
        trainer.set_learning_rate(-1.0)
    assert info.value.field == "optimizer.lr"
    assert trainer.config is before and trainer.step().lr == 0.01


# ----------------------------------------------------------------------------- cosine schedule


def test_raising_the_step_budget_does_not_restart_the_cosine() -> None:
    """200 -> 400 steps at step 200 (as the lab extends a run): the rate stays where the
    schedule's own horizon, decay_steps, puts it (it jumped back up before)."""
    cfg = config(
        optimizer={"name": "sgd", "lr": 0.05, "schedule": "cosine", "decay_steps": 200},
        training={"steps": 200, "eval_every": 0},
    )
    first = Trainer(cfg)
    rates = [first.step().lr for _ in range(200)]
    longer = cfg.with_changes(training={"steps": 400})
    extended = Trainer.from_checkpoint(longer, first.checkpoint())
    rates += [extended.step().lr for _ in range(200)]
    expected = [0.05 * 0.5 * (1 + math.cos(math.pi * min(t, 200) / 200)) for t in range(400)]
    assert rates == pytest.approx(expected, rel=1e-12, abs=1e-18)
    assert rates[199] == pytest.approx(3.08e-6, rel=1e-2) and rates[200:] == [0.0] * 200
    uninterrupted = Trainer(longer)
    assert [uninterrupted.step().lr for _ in range(400)] == rates


# ----------------------------------------------------------------------------- memory guard


def test_the_memory_guard_counts_the_history_of_a_deep_net() -> None:
    """64 layers of 4 units: a few KB of weights, but (3 + 65 * 7) history columns at
    4096 buckets in 9 levels is about 376 MB, which the old guard left out."""
    cfg = config(model={"hidden": [4] * 64}, training={"memory_budget_mb": 300})
    with pytest.raises(ConfigError) as info:
        Trainer(cfg)
    assert info.value.field == "model.hidden"
    message = str(info.value)
    assert "metric history" in message and "over the memory budget of 300 MB" in message
    assert "training.memory_budget_mb" in message
    history = History.max_nbytes(len(history_columns(65)))
    assert f"about {sum(estimate_bytes(cfg, 2, 3, 240, 60).values()) / MB:.0f} MB" in message
    assert history > 350 * MB
    Trainer(cfg.with_changes(training={"memory_budget_mb": 1024}))  # fits the default budget


def wide_dataset(n_train: int, n_val: int, width: int) -> Dataset:
    """What a wide CSV or NPZ file gives: many features, known only once it is read."""
    rng = np.random.default_rng(0)
    return Dataset(
        name="wide.npz",
        task="classification",
        X_train=rng.standard_normal((n_train, width)),
        y_train=rng.integers(0, 2, n_train),
        X_val=rng.standard_normal((n_val, width)),
        y_val=rng.integers(0, 2, n_val),
        n_classes=2,
        feature_names=[f"x{i}" for i in range(width)],
    )


def test_the_memory_guard_counts_a_files_real_width() -> None:
    """20000 inputs into 256 units: 5 M weights, 8 vectors of them with Adam in float32,
    about 160 MB; the old guard assumed 2 inputs and saw a fraction of a MB."""
    cfg = config(
        data={"n_samples": 100},
        model={"hidden": [256]},
        training={"batch_size": 16, "memory_budget_mb": 100},
    )
    data = wide_dataset(80, 20, 20_000)
    with pytest.raises(ConfigError) as info:
        Trainer(cfg, dataset=data)
    assert info.value.field == "model.hidden"
    assert "parameters, gradients and optimizer buffers" in str(info.value)
    parts = estimate_bytes(cfg, 20_000, 2, 80, 20)
    assert 140 * MB < parts["parameters"] < 180 * MB
    trainer = Trainer(cfg.with_changes(training={"memory_budget_mb": 400}), dataset=data)
    assert trainer.network.layers[0].W.shape == (20_000, 256)


@pytest.mark.parametrize(
    "sections",
    [
        {"model": {"hidden": [256, 256]}},
        {"model": {"hidden": [128, 128], "activation": "maxout", "maxout_k": 3}},
        {"model": {"hidden": [200], "activation": "gelu"}, "training": {"dtype": "float64"}},
        {"optimizer": {"name": "rmsprop", "clip_norm": 1.0, "weight_decay": 1e-3}},
    ],
    ids=["relu", "maxout", "gelu-float64", "rmsprop-clip-decay"],
)
def test_the_estimate_covers_what_a_trainer_allocates(sections: dict) -> None:
    """tracemalloc's peak over building, training and evaluating (the dataset made before),
    against the estimate with the history's bound replaced by what it holds."""
    training = {"batch_size": 128, "eval_every": 10, **sections.get("training", {})}
    cfg = config(**{**sections, "data": {"n_samples": 3000}, "training": training})
    data = make_dataset(cfg.data, np.random.default_rng(0))
    tracemalloc.start()
    try:
        trainer = Trainer(cfg, dataset=data)
        trainer.run(30)
        trainer.checkpoint()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    parts = estimate_bytes(cfg, data.n_features, 3, len(data.X_train), len(data.X_val))
    parts["history"] = trainer.history.nbytes
    assert sum(parts.values()) >= peak


def test_the_memory_guard_counts_the_distributions_store() -> None:
    """Each layer's activation and gradient strips (about 130 KB a layer) are part of what
    a Trainer holds, and so of the estimate."""
    cfg = config(model={"hidden": [4] * 20})
    parts = estimate_bytes(cfg, 2, 3, 240, 60)
    assert parts["distributions"] == Trainer(cfg).distributions.nbytes > 20 * 100_000
