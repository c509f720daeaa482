"""The advisor: each message fires on its condition, with its number, and stays quiet on a
healthy default run."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.lecture.advisor import INFO, WARNING, Advice, advise
from engine.lecture.scenarios import SCENARIOS
from engine.thresholds import CHANCE_HIGH, CHANCE_LOW, DEAD, UPDATE_HIGH, UPDATE_LOW
from engine.train.history import History


def run(raw: dict, steps: int) -> Trainer:
    trainer = Trainer(ExperimentConfig.from_dict(raw))
    trainer.run(steps)
    return trainer


@cache
def scenario_run(name: str, counterexample: bool = False) -> Trainer:
    scenario = SCENARIOS[name]
    config = scenario.counterexample_config if counterexample else scenario.config
    assert config is not None
    trainer = Trainer(config)
    trainer.run(scenario.steps)
    return trainer


def topics(trainer: Trainer) -> dict[str, Advice]:
    return {a.topic: a for a in advise(trainer)}


def test_quiet_on_a_healthy_default_run() -> None:
    trainer = Trainer(ExperimentConfig())
    for step in (1, 5, 20, 50, 100, 300, 600):
        trainer.run(step - trainer.steps_done)
        assert advise(trainer) == [], f"step {step}"


def test_nothing_before_the_first_step() -> None:
    assert advise(Trainer(ExperimentConfig())) == []


def test_dead_relus() -> None:
    dead = topics(scenario_run("dead_relu"))["dead"]
    assert dead.level == WARNING and dead.number >= DEAD
    # The share of the latest evaluation, over the whole training set.
    trainer = scenario_run("dead_relu")
    shares = [d / 32 for d in trainer.evals[-1].dead]
    assert dead.number == max(shares)
    assert "leaky ReLU or maxout" in dead.message and "learning rate" in dead.message
    assert f"{dead.number:.0%}" in dead.message
    assert "dead" not in topics(scenario_run("leaky_relu"))


def test_updates_too_large() -> None:
    raw = {
        "model": {"activation": "tanh", "init": "xavier_normal"},
        "optimizer": {"name": "sgd", "lr": 3.0},
    }
    high = topics(run(raw, 40))["update_high"]
    assert high.level == WARNING and high.number > UPDATE_HIGH
    assert "lower" in high.message and f"{high.number:.1e}" in high.message


def test_updates_too_small_while_the_loss_is_stuck() -> None:
    low = topics(scenario_run("tiny_init"))["update_low"]
    assert low.number < UPDATE_LOW and "raise the learning rate" in low.message


def test_small_updates_on_a_converged_run_are_fine() -> None:
    # Moons is learned within a few hundred steps; the ratio then falls below 1e-4.
    trainer = run({"data": {"name": "moons"}}, 2000)
    last = trainer.history.last()
    assert last is not None and last["layers.0.update_ratio"] < UPDATE_LOW
    assert advise(trainer) == []


def test_saturated_units() -> None:
    saturated = topics(scenario_run("large_init"))["saturated"]
    assert saturated.number > 0.5 and "ends of (-1, 1)" in saturated.message
    assert "Xavier" in saturated.message
    assert "saturated" not in topics(scenario_run("large_init", counterexample=True))


def test_vanishing_gradient() -> None:
    fades = topics(scenario_run("sigmoid_deep"))["vanishing"]
    assert fades.number < 1e-2 and "ReLU with He" in fades.message
    assert "vanishing" not in topics(scenario_run("he_relu"))


def test_initial_loss_far_above_chance() -> None:
    chance = topics(scenario_run("large_init"))["chance"]
    assert chance.level == INFO and chance.number > CHANCE_HIGH
    assert "ln 3 = 1.099" in chance.message and f"{chance.number:.1f}x" in chance.message


def test_initial_loss_far_below_chance() -> None:
    # A net that starts from trained weights knows too much for a fresh start.
    trained = run({}, 300)
    fresh = Trainer(trained.config)
    fresh.network.load_parameters(trained.network.parameters())
    fresh.step()
    chance = topics(fresh)["chance"]
    assert chance.number < CHANCE_LOW and "trained before" in chance.message


def test_no_chance_loss_for_regression() -> None:
    trainer = run({"data": {"name": "sine"}, "model": {"init": "large_normal"}}, 30)
    assert "chance" not in topics(trainer)


def test_identical_units() -> None:
    same = topics(scenario_run("zero_init"))["symmetry"]
    assert same.number < 1e-4 and "zero or constant init" in same.message
    assert "symmetry" not in topics(scenario_run("zero_init", counterexample=True))


def test_zero_relu_net_gets_symmetry_not_a_learning_rate_hint() -> None:
    # Nothing moves but the output bias: update ratios of all-zero layers mean nothing.
    trainer = run({"model": {"init": "zeros"}}, 50)
    found = topics(trainer)
    assert "symmetry" in found
    assert "update_low" not in found and "update_high" not in found


def test_a_one_unit_layer_is_not_symmetric() -> None:
    trainer = run({"model": {"hidden": [1]}}, 5)
    assert "symmetry" not in topics(trainer)


def test_warnings_come_first() -> None:
    levels = [a.level for a in advise(scenario_run("large_init"))]
    assert levels == sorted(levels, key=lambda level: level != WARNING)
    assert INFO in levels and WARNING in levels


def test_reads_without_a_forward_pass() -> None:
    # Cheap enough for a UI at 1-2 Hz: the network's caches are those of the last step.
    trainer = scenario_run("he_relu")
    before = [layer.a for layer in trainer.network.layers]
    theta = trainer.network.theta.copy()
    advise(trainer)
    assert all(layer.a is a for layer, a in zip(trainer.network.layers, before, strict=True))
    assert np.array_equal(trainer.network.theta, theta)


def test_the_first_loss_stays_exact_on_a_long_run() -> None:
    # A small history coarsens within a few hundred steps as the default one does over
    # 600k: step 1 ends up merged into a bucket of low losses (1.498 -> 0.04 on spiral).
    trainer = Trainer(ExperimentConfig())
    trainer.history = History(trainer.columns, capacity=8, max_levels=2)
    trainer.run(1500)
    assert trainer.history.series("loss", end=1).count[0] > 100  # step 1 is long merged
    assert "chance" not in topics(trainer)  # no "0.0x chance... do the labels leak?"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_message_carries_its_number(name: str) -> None:
    for advice in advise(scenario_run(name)):
        assert advice.level in (WARNING, INFO) and advice.topic
        assert math.isfinite(advice.number) and advice.message.endswith(".")
