"""Scenarios: each names the plot that shows its claim and what
to look at; sigmoid's saturation has its own scenario and counter-example; a scenario
takes changes over its preset (the command line's options)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ConfigError
from engine.lecture.readings import saturated_shares
from engine.lecture.scenarios import (
    NOT_OBSERVED,
    OBSERVED,
    PLOT_TABS,
    SCENARIOS,
    UNITS,
    run_scenario,
)
from engine.thresholds import MOST, NEAR_ZERO, UNSATURATED


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_names_its_plot_and_what_to_look_at(name: str) -> None:
    scenario = SCENARIOS[name]
    assert 1 <= scenario.plot <= len(PLOT_TABS)
    # One plain sentence, no longer than the verdict line can wrap into a few rows.
    assert scenario.look_at.endswith(".") and 20 < len(scenario.look_at) < 200


def test_zero_init_points_at_the_matrix_form_and_saturation_at_the_units_plot() -> None:
    look_at = SCENARIOS["zero_init"].look_at
    assert look_at.startswith("Press m:") and "is the same" in look_at
    for name in ("large_init", "sigmoid_large_init", "dead_relu"):
        assert SCENARIOS[name].plot == UNITS


def test_sigmoid_with_a_large_init_saturates_and_passes_almost_no_gradient() -> None:
    scenario = SCENARIOS["sigmoid_large_init"]
    assert scenario.config.model.activation == "sigmoid"
    trainer, verdict = run_scenario(scenario)
    assert verdict.status == OBSERVED, verdict.summary
    assert verdict.numbers["saturated_share"] >= MOST
    assert verdict.numbers["median_local_gradient"] <= NEAR_ZERO
    # Outside [0.01, 0.99]: most units of every layer past the 2-input first one.
    assert all(share >= MOST for share in saturated_shares(trainer)[1:])


def test_the_sigmoid_counterexample_changes_only_the_init_and_does_not_saturate() -> None:
    scenario = SCENARIOS["sigmoid_large_init"]
    counter = scenario.counterexample_config
    assert counter is not None
    assert counter.model.init == "xavier_normal" and counter.model.activation == "sigmoid"
    assert counter.with_changes(model={"init": scenario.config.model.init}) == scenario.config
    trainer, verdict = run_scenario(scenario, counterexample=True)
    assert verdict.status == NOT_OBSERVED, verdict.summary
    assert float(np.mean(saturated_shares(trainer))) <= UNSATURATED


def test_a_scenario_takes_changes_over_its_preset_and_its_counterexample() -> None:
    dead = SCENARIOS["dead_relu"]
    changed = dead.with_changes(optimizer={"lr": 0.05}, training={"steps": 120})
    assert changed.config == dead.config.with_changes(
        optimizer={"lr": 0.05}, training={"steps": 120}
    )
    assert changed.steps == 120 and changed.name == dead.name and changed.judge is dead.judge
    counter = changed.counterexample_config
    assert counter is not None
    # Still one setting away from the new preset: leaky ReLU, at the new rate.
    assert counter.model.activation == "leaky_relu" and counter.optimizer.lr == 0.05
    assert counter.with_changes(model={"activation": "relu"}) == changed.config
    assert SCENARIOS["dead_relu"].config.optimizer.lr == 0.1  # the preset is untouched
    trainer, _ = run_scenario(changed)
    assert trainer.steps_done == 120 and trainer.config.optimizer.lr == 0.05


def test_a_bad_change_over_a_preset_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"optimizer\.lr"):
        SCENARIOS["dead_relu"].with_changes(optimizer={"lr": -1.0})
