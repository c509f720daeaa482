"""The Trainer: determinism, chance loss, learning, divergence, stopping, diagnostics."""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings

import numpy as np
import pytest

from engine import (
    LAYER_STATS,
    Diverged,
    EvalRecord,
    ExperimentConfig,
    LayerStats,
    RunResult,
    StepRecord,
    Trainer,
)
from engine.data.datasets import Dataset, make_dataset


def config(**sections: dict) -> ExperimentConfig:
    return ExperimentConfig.from_dict(sections)


def records_equal(a: StepRecord, b: StepRecord) -> bool:
    return (
        (a.step, a.epoch, a.lr) == (b.step, b.epoch, b.lr)
        and np.array_equal([a.loss, a.accuracy], [b.loss, b.accuracy], equal_nan=True)
        and np.array_equal(a.stats, b.stats, equal_nan=True)
    )


# ----------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    "sections",
    [
        {},
        {"model": {"activation": "maxout"}, "optimizer": {"name": "rmsprop"}},
        {"data": {"name": "sine"}, "training": {"dtype": "float64"}},
    ],
    ids=["default", "maxout-rmsprop", "regression-float64"],
)
def test_same_seed_same_run_bit_for_bit(sections: dict) -> None:
    training = {**sections.get("training", {}), "eval_every": 10}
    cfg = config(**{**sections, "training": training})
    a, b = Trainer(cfg), Trainer(cfg)
    for _ in range(40):
        assert records_equal(a.step(), b.step())
    for name, p in a.network.parameters().items():
        assert np.array_equal(p, b.network.parameters()[name]), name
    assert repr(a.evals) == repr(b.evals)  # repr is exact for floats, and NaN equals NaN
    assert [e.step for e in a.evals] == [0, 10, 20, 30, 40]
    np.testing.assert_array_equal(a.dataset.X_train, b.dataset.X_train)


def test_different_seed_different_run() -> None:
    """training.seed draws the weights and batches; data.seed alone draws the data, so a
    seed sweep compares runs on the same samples."""
    a = Trainer(config(training={"seed": 1}))
    b = Trainer(config(training={"seed": 2}))
    np.testing.assert_array_equal(a.dataset.X_train, b.dataset.X_train)
    assert not np.array_equal(a.network.layers[0].W, b.network.layers[0].W)
    c = Trainer(config(training={"seed": 1}, data={"seed": 2}))
    assert not np.array_equal(a.dataset.X_train, c.dataset.X_train)
    np.testing.assert_array_equal(a.network.layers[0].W, c.network.layers[0].W)
    losses_a = [a.step().loss for _ in range(5)]
    losses_b = [b.step().loss for _ in range(5)]
    assert losses_a != losses_b


def test_seed_parts_are_independent() -> None:
    """Changing the batch size must not change the data or the initial weights."""
    a = Trainer(config(training={"batch_size": 32}))
    b = Trainer(config(training={"batch_size": 16}))
    np.testing.assert_array_equal(a.dataset.X_train, b.dataset.X_train)
    np.testing.assert_array_equal(a.network.layers[0].W, b.network.layers[0].W)


# ----------------------------------------------------------------------------- chance loss


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_fresh_net_starts_at_chance(n_classes: int) -> None:
    cfg = config(data={"n_classes": n_classes}, model={"init": "small_normal"})
    chance = math.log(n_classes)
    trainer = Trainer(cfg)
    assert trainer.evaluate().train_loss == pytest.approx(chance, rel=0.1)
    assert trainer.evaluate().val_loss == pytest.approx(chance, rel=0.1)
    assert trainer.step().loss == pytest.approx(chance, rel=0.1)


# ----------------------------------------------------------------------------- learning


def test_default_spiral_run_learns() -> None:
    trainer = Trainer(ExperimentConfig())
    assert trainer.dataset.name == "spiral"
    result = trainer.run(1500)
    assert result == RunResult(1500)
    assert trainer.steps_done == 1500
    ev = trainer.evaluate()
    assert ev.train_accuracy > 0.9
    assert ev.train_loss < trainer.evals[0].train_loss


def test_regression_records_nan_accuracy() -> None:
    trainer = Trainer(config(data={"name": "sine"}))
    record = trainer.step()
    assert math.isnan(record.accuracy)
    assert math.isfinite(record.loss)


def test_epoch_counts_passes() -> None:
    trainer = Trainer(config(data={"n_samples": 100}, training={"batch_size": 10}))
    n_train = len(trainer.X_train)
    records = [trainer.step() for _ in range(12)]
    assert records[-1].epoch == pytest.approx(12 * 10 / n_train)
    assert [r.step for r in records] == list(range(1, 13))


def test_batches_cover_each_epoch_once() -> None:
    trainer = Trainer(
        config(data={"name": "gaussians", "n_samples": 100}, training={"batch_size": 16})
    )
    n = len(trainer.X_train)
    assert len(np.unique(trainer.X_train, axis=0)) == n
    seen = np.concatenate([trainer.batches.next()[0] for _ in range(n // 16)])
    assert len(np.unique(seen, axis=0)) == len(seen)  # no sample twice in one epoch


# ----------------------------------------------------------------------------- divergence


def diverging_trainer() -> Trainer:
    return Trainer(config(optimizer={"name": "sgd", "lr": 1000.0}, model={"init": "large_normal"}))


def test_divergence_is_reported_once_without_warnings() -> None:
    trainer = diverging_trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, invalid) fails the test
        with pytest.raises(Diverged) as info:
            for _ in range(200):
                trainer.step()
    error = info.value
    assert trainer.diverged is error
    assert error.step >= 1
    assert error.step == trainer.steps_done
    assert error.what and ("inf" in error.what or "nan" in error.what)
    assert str(error.step) in str(error)
    assert len(trainer.history) == error.step - 1  # the last finite step
    with pytest.raises(Diverged) as again:
        trainer.step()
    assert again.value is error
    assert trainer.steps_done == error.step


def test_run_returns_the_divergence() -> None:
    trainer = diverging_trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = trainer.run(200)
    assert isinstance(result.diverged, Diverged)
    assert result.diverged is trainer.diverged
    assert result.steps == trainer.diverged.step
    assert not result.stopped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.evaluate()  # a diverged net still evaluates quietly
        trainer.predict_grid(4, 3)


def test_run_after_divergence_does_no_steps() -> None:
    trainer = diverging_trainer()
    first = trainer.run(200)
    assert first.diverged is not None
    steps = trainer.steps_done
    again = trainer.run(5)
    assert again.diverged is first.diverged
    assert trainer.steps_done == steps
    assert again.steps == 0, f"run() reported {again.steps} steps but did none"


def test_an_evaluation_that_overflows_is_a_divergence() -> None:
    """A target of 1e30 squares past float32 in the evaluation of the whole set: the run
    stops there, at step 0, rather than keep an infinite loss in its evaluations."""
    rng = np.random.default_rng(0)
    y = rng.standard_normal((40, 1))
    y[7] = 1e30
    data = Dataset(
        name="huge.npz",
        task="regression",
        X_train=rng.standard_normal((40, 2)),
        y_train=y,
        X_val=rng.standard_normal((10, 2)),
        y_val=rng.standard_normal((10, 1)),
        n_classes=0,
        feature_names=["a", "b"],
    )
    cfg = config(data={"name": "sine", "n_samples": 50}, training={"batch_size": 4})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(cfg, dataset=data)
    assert trainer.diverged is not None and trainer.diverged.step == 0
    assert "evaluation's train_loss is inf" in str(trainer.diverged)
    assert trainer.evals == []
    with pytest.raises(Diverged):
        trainer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = Trainer(cfg, dataset=data)
    other.restore(trainer.checkpoint())  # and it is saved and loaded as a diverged run
    assert other.diverged is not None and other.diverged.step == 0


# ----------------------------------------------------------------------------- run and stop


def test_run_stops_when_the_event_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(config())
    stop = threading.Event()
    step = trainer.step

    def step_then_maybe_stop() -> StepRecord:
        record = step()
        if record.step == 7:
            stop.set()
        return record

    monkeypatch.setattr(trainer, "step", step_then_maybe_stop)
    result = trainer.run(100, stop=stop)
    assert result == RunResult(7, stopped=True)
    assert trainer.steps_done == 7


def test_run_with_the_event_already_set_does_nothing() -> None:
    trainer = Trainer(config())
    stop = threading.Event()
    stop.set()
    assert trainer.run(10, stop=stop) == RunResult(0, stopped=True)
    assert trainer.steps_done == 0


def test_run_stops_from_another_thread() -> None:
    trainer = Trainer(config(training={"steps": 10**9}))
    stop = threading.Event()
    results: list[RunResult] = []
    worker = threading.Thread(target=lambda: results.append(trainer.run(10**7, stop=stop)))
    worker.start()
    while trainer.steps_done < 3 and worker.is_alive():
        worker.join(0.001)
    stop.set()
    worker.join(10)
    assert not worker.is_alive()
    assert results[0].stopped
    assert results[0].steps == trainer.steps_done < 10**7


# ----------------------------------------------------------------------------- records


def test_step_record_layers_have_the_layer_stats() -> None:
    assert [f.name for f in dataclasses.fields(LayerStats)] == list(LAYER_STATS)
    trainer = Trainer(config(model={"hidden": [8, 6, 4]}))
    record = trainer.step()
    assert record.stats.shape == (4, len(LAYER_STATS))
    assert record.stats.dtype == np.float64
    assert len(record.layers) == 4
    assert record.layers[-1].saturated == 0  # the output layer is linear


def test_every_layers_stats_match_their_definitions() -> None:
    trainer = Trainer(
        config(
            optimizer={"name": "sgd", "lr": 0.1},
            model={"hidden": [8, 6, 4]},
            training={"dtype": "float64"},
        )
    )
    before = [layer.W.copy() for layer in trainer.network.layers]
    record = trainer.step()
    for layer, stats, W0 in zip(trainer.network.layers, record.layers, before, strict=True):
        assert stats.grad_norm_W == pytest.approx(np.linalg.norm(layer.dW), rel=1e-9)
        assert stats.grad_norm_b == pytest.approx(np.linalg.norm(layer.db), rel=1e-9)
        assert stats.weight_norm == pytest.approx(np.linalg.norm(layer.W), rel=1e-9)
        ratio = np.linalg.norm(layer.W - W0) / np.linalg.norm(layer.W)
        assert stats.update_ratio == pytest.approx(ratio, rel=1e-6)
        assert stats.act_mean == pytest.approx(layer.a.mean(), rel=1e-9, abs=1e-12)
        assert stats.act_std == pytest.approx(layer.a.std(), rel=1e-9)


def test_layer_stats_match_their_definitions() -> None:
    trainer = Trainer(config(optimizer={"name": "sgd", "lr": 0.1}, model={"hidden": [5]}))
    W0 = trainer.network.layers[0].W.copy()
    record = trainer.step()
    layer = trainer.network.layers[0]
    stats = record.layers[0]
    assert stats.grad_norm_W == pytest.approx(np.linalg.norm(layer.dW), rel=1e-5)
    assert stats.grad_norm_b == pytest.approx(np.linalg.norm(layer.db), rel=1e-5)
    assert stats.weight_norm == pytest.approx(np.linalg.norm(layer.W), rel=1e-5)
    update = np.linalg.norm(layer.W.astype(np.float64) - W0)
    assert stats.update_ratio == pytest.approx(update / np.linalg.norm(layer.W), rel=1e-3)
    assert stats.act_mean == pytest.approx(layer.a.mean(), rel=1e-4, abs=1e-6)
    assert stats.act_std == pytest.approx(layer.a.std(), rel=1e-3)


def test_history_has_a_row_per_step() -> None:
    trainer = Trainer(config(model={"hidden": [4]}))
    records = [trainer.step() for _ in range(5)]
    assert len(trainer.history) == 5
    assert trainer.history.columns[:3] == ("loss", "accuracy", "lr")
    assert "layers.1.act_std" in trainer.history.columns
    series = trainer.history.series("loss")
    np.testing.assert_allclose(series.mean, [r.loss for r in records])


def test_evals_at_step_0_then_every_eval_every_steps() -> None:
    trainer = Trainer(config(training={"eval_every": 3}))
    assert [e.step for e in trainer.evals] == [0]  # the initial net, before any step
    trainer.run(10)
    assert [e.step for e in trainer.evals] == [0, 3, 6, 9]
    assert all(isinstance(e, EvalRecord) for e in trainer.evals)
    assert len(trainer.evals[0].dead) == len(trainer.network.layers) - 1
    none = Trainer(config(training={"eval_every": 0}))
    none.run(5)
    assert none.evals == []


# ----------------------------------------------------------------------------- dead units


def test_high_learning_rate_kills_relu_units() -> None:
    trainer = Trainer(config(model={"activation": "relu"}, optimizer={"name": "sgd", "lr": 5.0}))
    result = trainer.run(300)
    assert result.diverged is None
    assert sum(trainer.evals[0].dead) == 0
    assert sum(trainer.evaluate().dead) > 0
    assert sum(trainer.evals[-1].dead) > 0


def test_leaky_relu_does_not_report_dead_units() -> None:
    trainer = Trainer(
        config(model={"activation": "leaky_relu"}, optimizer={"name": "sgd", "lr": 5.0})
    )
    trainer.run(100)
    assert trainer.evaluate().dead == [0, 0]


# ----------------------------------------------------------------------------- predictions


@pytest.mark.parametrize(
    ("sections", "n_out"),
    [
        ({}, 3),
        ({"data": {"name": "gaussians", "n_classes": 5}}, 5),
        ({"data": {"name": "moons"}, "model": {"loss": "sigmoid_cross_entropy"}}, 2),
        ({"data": {"name": "ripple"}}, 1),
    ],
)
def test_predict_grid(sections: dict, n_out: int) -> None:
    trainer = Trainer(config(**sections))
    trainer.run(5)
    xs, ys, probs = trainer.predict_grid(7, 4)
    assert xs.shape == (7,) and ys.shape == (4,)
    assert probs.shape == (4, 7, n_out)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)
    X = np.concatenate([trainer.X_train, trainer.X_val])
    assert xs[0] < X[:, 0].min() and xs[-1] > X[:, 0].max()
    assert ys[0] < X[:, 1].min() and ys[-1] > X[:, 1].max()
    if trainer.dataset.task == "classification":
        assert np.all(probs >= 0) and np.all(probs <= 1)
        np.testing.assert_allclose(probs.sum(axis=2), 1.0, rtol=1e-5)


def test_predict_grid_rows_are_y() -> None:
    """values[r, c] is the prediction at (xs[c], ys[r])."""
    trainer = Trainer(config())
    trainer.run(20)
    xs, ys, probs = trainer.predict_grid(5, 3)
    np.testing.assert_allclose(
        probs[2, 1], trainer.predict(np.array([[xs[1], ys[2]]]))[0], rtol=1e-6
    )


def test_predict_grid_needs_two_features() -> None:
    trainer = Trainer(config(data={"name": "sine"}))
    with pytest.raises(ValueError):
        trainer.predict_grid(5, 5)


# ----------------------------------------------------------------------------- learning rate


def test_set_learning_rate_changes_the_record() -> None:
    trainer = Trainer(config(optimizer={"lr": 0.01}))
    assert trainer.step().lr == 0.01
    trainer.set_learning_rate(0.05)
    record = trainer.step()
    assert record.lr == 0.05
    assert trainer.history.series("lr").mean[-1] == 0.05


def test_set_learning_rate_moves_the_weights_as_told() -> None:
    """With plain SGD, the update is exactly lr times the gradient."""
    trainer = Trainer(config(optimizer={"name": "sgd", "lr": 0.01}, training={"dtype": "float64"}))
    trainer.set_learning_rate(0.5)
    W = trainer.network.layers[-1].b.copy()
    trainer.step()
    np.testing.assert_allclose(
        trainer.network.layers[-1].b, W - 0.5 * trainer.network.layers[-1].db, rtol=1e-12
    )


def test_set_learning_rate_keeps_the_schedule() -> None:
    trainer = Trainer(
        config(optimizer={"lr": 0.1, "schedule": "step", "step_size": 1, "gamma": 0.5})
    )
    assert trainer.step().lr == pytest.approx(0.1)
    trainer.set_learning_rate(1.0)
    assert trainer.step().lr == pytest.approx(0.5)


# ----------------------------------------------------------------------------- the network


def test_parameters_and_gradients_are_live_views() -> None:
    """The optimizer updates net.theta; every W, b, dW, db must see it."""
    trainer = Trainer(config(model={"hidden": [5, 3], "activation": "maxout"}))
    net = trainer.network
    params, grads = net.parameters(), net.gradients()
    assert list(params) == [f"layers.{i}.{p}" for i in range(3) for p in "Wb"]
    assert list(grads) == list(params)
    assert net.n_parameters == sum(p.size for p in params.values())
    for name, p in params.items():
        assert np.shares_memory(p, net.theta), name
        assert np.shares_memory(grads[name], net.grad), name
    trainer.step()
    after = net.parameters()
    for name, p in params.items():
        assert after[name] is p or np.shares_memory(after[name], p)
        assert np.array_equal(after[name], p)
    # theta holds W0, b0, W1, b1, ... in order; weight decay applies to the weights only.
    offset = 0
    for name, p in params.items():
        segment = net.theta[offset : offset + p.size]
        assert np.shares_memory(segment, p) and np.array_equal(segment, p.ravel()), name
        assert np.all(net.decay_mask[offset : offset + p.size] == float(name.endswith(".W")))
        offset += p.size
    assert offset == net.theta.size


def test_backward_returns_the_gradient_of_the_forward() -> None:
    trainer = Trainer(config(model={"hidden": [4]}, training={"dtype": "float64"}))
    net = trainer.network
    X, y = trainer.X_train[:10], trainer.y_train[:10]
    _, dlogits = trainer.loss.compute(net.forward(X), y)
    grads = net.backward(dlogits)
    assert set(grads) == set(net.parameters())
    hidden = np.maximum(X @ net.layers[0].W + net.layers[0].b, 0.0)
    np.testing.assert_allclose(grads["layers.1.W"], hidden.T @ dlogits, rtol=1e-12)
    np.testing.assert_allclose(grads["layers.1.b"], dlogits.sum(axis=0), rtol=1e-12)
    assert np.shares_memory(grads["layers.1.W"], net.grad)


def test_load_parameters_keeps_the_views() -> None:
    trainer = Trainer(config(model={"hidden": [4]}))
    net = trainer.network
    other = Trainer(config(model={"hidden": [4]}, training={"seed": 9})).network
    values = {k: v.astype(np.float64) for k, v in other.parameters().items()}
    net.load_parameters(values)
    for name, p in net.parameters().items():
        assert p.dtype == np.float32
        assert np.shares_memory(p, net.theta)
        np.testing.assert_array_equal(p, other.parameters()[name])
    np.testing.assert_array_equal(net.theta, other.theta)
    trainer.step()  # and training goes on from the loaded values
    assert not np.array_equal(net.theta, other.theta)
    with pytest.raises(ValueError):
        net.load_parameters({"layers.0.W": np.zeros((3, 3))})


def test_astype_is_an_independent_copy() -> None:
    net = Trainer(config(model={"hidden": [4], "activation": "maxout"})).network
    before = net.theta.copy()
    clone = net.astype(np.float64)
    assert clone.theta.dtype == np.float64
    np.testing.assert_array_equal(clone.theta, before.astype(np.float64))
    for name, p in clone.parameters().items():
        assert p.dtype == np.float64
        assert np.shares_memory(p, clone.theta), name
        assert not np.shares_memory(p, net.theta), name
    clone.theta += 1.0
    np.testing.assert_array_equal(net.theta, before)
    assert clone.layers[0].W[0, 0, 0] == pytest.approx(before[0] + 1.0)


def test_one_seed_for_both_is_the_run_it_was() -> None:
    """With data.seed == training.seed a run draws what the single seed drew before."""
    seeds = np.random.SeedSequence(7).spawn(3)
    data = make_dataset(config().data, np.random.default_rng(seeds[0]))
    run = Trainer(config(training={"seed": 7}, data={"seed": 7}))
    np.testing.assert_array_equal(run.dataset.X_train, data.X_train)
