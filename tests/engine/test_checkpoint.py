"""Checkpoints: every kind of tampering is refused naming the array, before anything
changes; legitimate odd states (a diverged run, NaN regression accuracy) load; format 1
checkpoints are migrated."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.train.checkpoint import CHECKPOINT_FORMAT, CheckpointError
from engine.train.trainer import CheckpointError as FromTrainer

Arrays = dict[str, np.ndarray]


def config(**sections: dict) -> ExperimentConfig:
    base: dict[str, dict] = {"training": {"eval_every": 10, "steps": 10**6}}
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return ExperimentConfig.from_dict(base)


def trained(steps: int, **sections: dict) -> Trainer:
    trainer = Trainer(config(**sections))
    trainer.run(steps)
    return trainer


@pytest.fixture(scope="module")
def short_run() -> Arrays:
    """40 steps of the default net (2-16-16-3, Adam): raw history rows, five evaluations."""
    return trained(40).checkpoint()


@pytest.fixture(scope="module")
def long_run() -> Arrays:
    """Past the history's raw capacity, so it has a level of buckets."""
    arrays = trained(4200, model={"hidden": [4]}, training={"batch_size": 8}).checkpoint()
    assert "history.level1.first" in arrays
    return arrays


def setting(key: str, index: tuple | int, value: float) -> Callable[[Arrays], None]:
    def spoil(arrays: Arrays) -> None:
        arrays[key] = arrays[key].copy()
        arrays[key][index] = value

    return spoil


def replacing(key: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[Arrays], None]:
    def spoil(arrays: Arrays) -> None:
        arrays[key] = make(arrays[key])

    return spoil


def shift_history_steps(arrays: Arrays) -> None:
    arrays["history.raw_steps"] = arrays["history.raw_steps"] + 1000
    arrays["history.first_step"] = arrays["history.first_step"] + 1000


NAN, INF = float("nan"), float("inf")

TAMPERED: dict[str, tuple[Callable[[Arrays], None], str]] = {
    # evaluations: columns step, train_loss, train_accuracy, val_loss, val_accuracy, dead...
    "NaN train loss": (setting("evals", (1, 1), NAN), "evals: row 1: train_loss is nan"),
    "infinite val loss": (setting("evals", (2, 3), INF), "evals: row 2: val_loss is inf"),
    "negative loss": (setting("evals", (0, 1), -1.0), "evals: row 0: train_loss is -1.0"),
    "NaN accuracy of a classifier": (setting("evals", (1, 2), NAN), "train_accuracy is nan"),
    "accuracy above 1": (setting("evals", (1, 4), 1.5), "val_accuracy is 1.5"),
    "evaluations out of order": (setting("evals", (2, 0), 10.0), "evals: row 2: step 10.0"),
    "a step past the steps done": (setting("evals", (4, 0), 50.0), "at most the 40 steps"),
    "a fractional step": (setting("evals", (1, 0), 10.5), "step 10.5"),
    "more dead units than units": (setting("evals", (1, 5), 17.0), "hidden layer 0 is 17.0"),
    "negative dead units": (setting("evals", (1, 6), -1.0), "hidden layer 1 is -1.0"),
    "fractional dead units": (setting("evals", (1, 6), 2.5), "hidden layer 1 is 2.5"),
    # weights and optimizer
    "NaN weight": (setting("theta", 3, NAN), "theta: holds nan at index 3"),
    "infinite gradient": (setting("grad", 5, -INF), "grad: holds -inf at index 5"),
    "NaN first moment": (setting("optimizer.state.theta.m", 0, NAN), "optimizer.state.theta.m"),
    "negative second moment": (
        setting("optimizer.state.theta.v", 7, -1e-3),
        "optimizer.state.theta.v: negative",
    ),
    "updates not the steps": (
        replacing("optimizer.t", lambda t: np.array(int(t) - 1)),
        "optimizer.t: 39 updates",
    ),
    "divergence at another step": (
        replacing("diverged.step", lambda s: np.array(3)),
        "diverged.step: 3",
    ),
    # history
    "NaN in the history": (setting("history.raw", (2, 0), NAN), "history.raw: holds nan"),
    "infinite first row": (setting("history.first_row", (0, 4), INF), "history.first_row"),
    "length not the meta's": (
        setting("history.meta", 2, 41),
        "history.meta: length 41, but the buckets hold 40",
    ),
    "history rows out of order": (
        replacing("history.raw_steps", lambda s: s[::-1].copy()),
        "history.raw_steps: buckets do not follow each other",
    ),
    "history rows past the steps done": (
        shift_history_steps,
        "history.raw_steps: rows up to step 1040, beyond the 40 steps done",
    ),
    "history rows of another width": (
        replacing("history.raw", lambda r: r[:, :-1].copy()),
        "history.raw: 23 columns, expected 24",
    ),
    "a newer format": (replacing("format", lambda f: np.array(3)), "format: version 3"),
}


def assert_refused(arrays: Arrays, expected: str) -> None:
    """restore() raises naming the array, and the trainer is exactly as it was."""
    other = trained(10)
    before = other.checkpoint()
    with pytest.raises(CheckpointError, match=re.escape(expected)):
        other.restore(arrays)
    after = other.checkpoint()
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    assert other.steps_done == 10 and [e.step for e in other.evals] == [0, 10]


@pytest.mark.parametrize("case", list(TAMPERED))
def test_tampering_is_refused_naming_the_array(short_run: Arrays, case: str) -> None:
    spoil, expected = TAMPERED[case]
    arrays = dict(short_run)
    spoil(arrays)
    assert_refused(arrays, expected)


LEVEL_TAMPERED: dict[str, tuple[Callable[[Arrays], None], str]] = {
    "infinite level sum": (setting("history.level1.sum", (0, 0), INF), "history.level1.sum"),
    "NaN level max": (setting("history.level1.max", (3, 2), NAN), "history.level1.max"),
    "a bucket dropped": (
        lambda a: [
            a.__setitem__(k, a[k][:-1].copy()) for k in list(a) if k.startswith("history.level1.")
        ],
        "history.level1.first: 1023 buckets, not a multiple of 1024",
    ),
    "fields of two lengths": (
        replacing("history.level1.count", lambda c: c[:-2].copy()),
        "history.level1.count",
    ),
    "raw rows past the capacity": (
        lambda a: (
            a.__setitem__("history.raw", np.zeros((4096, a["history.raw"].shape[1]))),
            a.__setitem__("history.raw_steps", np.arange(10**6, 10**6 + 4096)),
        ),
        "history.raw_steps: 4096 rows, at most 4095",
    ),
    "a level past the levels": (
        lambda a: [
            a.__setitem__(k.replace("level1.", "level9."), a[k])
            for k in list(a)
            if k.startswith("history.level1.")
        ],
        "history.level9",
    ),
}


@pytest.mark.parametrize("case", list(LEVEL_TAMPERED))
def test_tampered_history_levels_are_refused(long_run: Arrays, case: str) -> None:
    spoil, expected = LEVEL_TAMPERED[case]
    arrays = dict(long_run)
    spoil(arrays)
    target = Trainer(config(model={"hidden": [4]}, training={"batch_size": 8}))
    before = target.checkpoint()
    with pytest.raises(CheckpointError, match=re.escape(expected)):
        target.restore(arrays)
    for key, value in target.checkpoint().items():
        np.testing.assert_array_equal(before[key], value, err_msg=key)


def test_a_long_run_round_trips(long_run: Arrays) -> None:
    target = Trainer(config(model={"hidden": [4]}, training={"batch_size": 8}))
    target.restore(long_run)
    assert target.steps_done == 4200 and len(target.history) == 4200


# ----------------------------------------------------------------------------- what loads


def test_a_diverged_run_loads_with_its_non_finite_weights() -> None:
    """A diverged run is never trained on again, so its weights need not be finite."""
    cfg = config(optimizer={"name": "sgd", "lr": 1000.0}, model={"init": "large_normal"})
    trainer = Trainer(cfg)
    result = trainer.run(200)
    assert result.diverged is not None
    arrays = trainer.checkpoint()
    arrays["theta"][0] = np.inf  # as an update past float32's range leaves them
    arrays["grad"][0] = np.nan
    clone = Trainer.from_checkpoint(cfg, arrays)
    assert np.isinf(clone.network.theta[0])
    assert clone.diverged is not None and clone.diverged.step == trainer.steps_done
    assert clone.run(5).steps == 0


def test_a_regression_run_loads_with_its_nan_accuracies() -> None:
    trainer = trained(30, data={"name": "sine"})
    clone = Trainer.from_checkpoint(trainer.config, trainer.checkpoint())
    assert [e.step for e in clone.evals] == [0, 10, 20, 30]
    assert all(np.isnan(e.train_accuracy) for e in clone.evals)
    assert np.isnan(clone.history.series("accuracy").mean).all()
    np.testing.assert_array_equal(clone.step().stats, trainer.step().stats)


def test_nan_is_refused_in_a_regression_run_outside_accuracy() -> None:
    arrays = trained(30, data={"name": "sine"}).checkpoint()
    arrays["history.raw"] = arrays["history.raw"].copy()
    arrays["history.raw"][4, 0] = NAN  # the loss column
    target = Trainer(config(data={"name": "sine"}))
    with pytest.raises(CheckpointError, match=r"history\.raw: holds nan"):
        target.restore(arrays)


def test_checkpoint_error_is_importable_from_the_trainer_and_the_package() -> None:
    import engine

    assert FromTrainer is CheckpointError is engine.CheckpointError
    assert CHECKPOINT_FORMAT == 2


# ----------------------------------------------------------------------------- format 1


def as_format_1(arrays: Arrays, trainer: Trainer, base_lr: float) -> Arrays:
    """What the code before format 2 wrote for the same run: a per-step dead column after
    update_ratio in every layer, the live rate as base_lr, no step-0 evaluation."""
    old = dict(arrays)
    old["format"] = np.array(1, np.int64)
    old["base_lr"] = np.array(base_lr, np.float64)
    old["evals"] = arrays["evals"][1:]
    columns = [str(c) for c in arrays["history.columns"]]
    at = [columns.index(f"layers.{i}.update_ratio") + 1 for i in range(trainer.n_layers)]
    new_columns = list(columns)
    for i, position in reversed(list(enumerate(at))):
        new_columns.insert(position, f"layers.{i}.dead")
    old["history.columns"] = np.array(new_columns)
    for key, value in arrays.items():
        if key.startswith("history.") and value.ndim == 2:
            old[key] = np.insert(value, at, 7.0, axis=1)
    return old


def test_a_format_1_checkpoint_is_migrated() -> None:
    cfg = config()
    trainer = Trainer(cfg)
    trainer.run(25)
    trainer.set_learning_rate(0.02)  # format 1 kept this in base_lr, not in the config
    trainer.run(15)
    old = as_format_1(trainer.checkpoint(), trainer, 0.02)
    assert old["history.raw"].shape[1] == len(trainer.history.columns) + trainer.n_layers

    resumed = Trainer(cfg)  # its config.toml still says lr = 0.01
    resumed.restore(old)
    assert resumed.config.optimizer.lr == 0.02
    assert resumed.history.columns == trainer.history.columns
    np.testing.assert_array_equal(resumed.history.state()["raw"], trainer.history.state()["raw"])
    # The step-0 evaluation, rebuilt from the seed's initial weights.
    assert repr(resumed.evals) == repr(trainer.evals)
    for _ in range(10):
        np.testing.assert_array_equal(resumed.step().stats, trainer.step().stats)
    np.testing.assert_array_equal(resumed.network.theta, trainer.network.theta)
    assert resumed.checkpoint()["format"] == CHECKPOINT_FORMAT


def test_a_format_1_checkpoint_needs_its_rate() -> None:
    trainer = trained(20)
    old = as_format_1(trainer.checkpoint(), trainer, 0.01)
    old["base_lr"] = np.array("fast")
    assert_refused(old, "base_lr: <U4 of shape (), expected a single float")
    old["base_lr"] = np.array(-1.0)
    assert_refused(old, "base_lr: ")  # the config's rule for optimizer.lr, in its words
