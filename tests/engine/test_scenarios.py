"""Scenarios and depth profiles: each judge says observed on its preset and not observed on
its counter-example, says "not yet" mid-run, and never disturbs the run it reads."""

from __future__ import annotations

import argparse
import io
from functools import cache

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.config import ModelConfig
from engine.lecture.profiles import PROFILES, ProfileResult, get_profile, judge_profile, run_profile
from engine.lecture.readings import forward_copy
from engine.lecture.scenarios import (
    NOT_OBSERVED,
    NOT_YET,
    OBSERVED,
    PERSISTS,
    SCENARIOS,
    Scenario,
    Verdict,
    get_scenario,
    judge,
    run_scenario,
)
from engine.thresholds import DEAD
from engine.train.build import build_network
from engine.train.diagnostics import dead_units
from tui_nn.cli import scenarios as scenarios_cli


@cache
def ran(name: str, counterexample: bool) -> tuple[Trainer, Verdict]:
    """Each preset and counter-example runs once for the whole module."""
    return run_scenario(SCENARIOS[name], counterexample=counterexample)


_profiles: dict[tuple[str, str], ProfileResult] = {}


def profiled(model: ModelConfig) -> ProfileResult:
    """Each (activation, init) runs once: the presets and counter-examples share five."""
    key = (model.activation, model.init)
    if key not in _profiles:
        _profiles[key] = run_profile(model)
    return _profiles[key]


# ----------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("name", SCENARIOS)
def test_preset_shows_its_claim(name: str) -> None:
    trainer, verdict = ran(name, False)
    assert trainer.diverged is None
    assert trainer.steps_done == SCENARIOS[name].steps
    assert verdict.status == OBSERVED, verdict.summary
    assert verdict.numbers and all(isinstance(v, float) for v in verdict.numbers.values())


@pytest.mark.parametrize("name", SCENARIOS)
def test_counterexample_does_not(name: str) -> None:
    _, verdict = ran(name, True)
    assert verdict.status == NOT_OBSERVED, verdict.summary


def test_the_table_rows_are_all_there() -> None:
    assert list(SCENARIOS) == [
        "single_neuron",
        "single_neuron_xor",
        "zero_init",
        "tiny_init",
        "large_init",
        "sigmoid_large_init",
        "sigmoid_deep",
        "dead_relu",
        "leaky_relu",
        "maxout",
        "xavier_tanh",
        "he_relu",
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_presets_are_small_judgeable_and_named(name: str) -> None:
    scenario = SCENARIOS[name]
    assert scenario.name == name and scenario.title and scenario.claim
    assert scenario.config.training.steps == scenario.steps <= 300
    assert 0 < scenario.config.training.eval_every < scenario.steps  # judges have evals
    assert scenario.config.data.n_samples <= 300
    counter = scenario.counterexample_config
    assert counter is not None and counter != scenario.config and scenario.counterexample
    assert counter.training == scenario.config.training  # same run length, same seed


def test_leaky_relu_and_maxout_use_the_dead_relu_settings() -> None:
    relu = SCENARIOS["dead_relu"].config
    for name in ("leaky_relu", "maxout"):
        other = SCENARIOS[name].config
        assert other.optimizer == relu.optimizer and other.data == relu.data
        assert other.model.hidden == relu.model.hidden and other.model.init == relu.model.init


def test_get_scenario_names_the_valid_ones() -> None:
    assert get_scenario("zero_init") is SCENARIOS["zero_init"]
    for lookup in (get_scenario, SCENARIOS.__getitem__):
        with pytest.raises(KeyError, match="unknown scenario 'nope'; valid: single_neuron, "):
            lookup("nope")


def test_judges_need_steps_before_they_say_anything() -> None:
    trainer = Trainer(SCENARIOS["dead_relu"].config)
    assert judge(SCENARIOS["dead_relu"], trainer).status == NOT_YET
    trainer.run(3)  # no evaluation yet, and far from the last step
    assert judge(SCENARIOS["dead_relu"], trainer).status == NOT_YET


def test_an_appearing_claim_is_observed_as_soon_as_it_shows() -> None:
    scenario = SCENARIOS["dead_relu"]
    trainer = Trainer(scenario.config)
    trainer.run(scenario.config.training.eval_every)  # the first evaluation
    assert judge(scenario, trainer).status == OBSERVED


def test_a_lasting_claim_waits_for_the_last_step_and_fails_at_once() -> None:
    scenario = SCENARIOS["zero_init"]
    assert scenario.kind == PERSISTS
    holding = Trainer(scenario.config)
    holding.run(30)
    assert judge(scenario, holding).status == NOT_YET
    assert judge(scenario, holding).numbers["max_distance"] < 1e-4
    assert scenario.counterexample_config is not None
    broken = Trainer(scenario.counterexample_config)
    broken.run(30)
    assert judge(scenario, broken).status == NOT_OBSERVED


def test_a_diverged_run_gets_a_final_verdict() -> None:
    scenario = SCENARIOS["dead_relu"]
    cfg = scenario.config.with_changes(
        model={"init": "large_normal"}, optimizer={"name": "sgd", "lr": 500.0}
    )
    trainer = Trainer(cfg)
    result = trainer.run(scenario.steps)
    assert result.diverged is not None
    verdict = judge(scenario, trainer)
    assert verdict.status != NOT_YET
    assert "diverged" in verdict.summary


def test_judging_mid_run_does_not_change_the_run() -> None:
    # Every judge, including those that forward a copy, called after every step.
    scenario = SCENARIOS["maxout"]
    watched, alone = Trainer(scenario.config), Trainer(scenario.config)
    for _ in range(30):
        watched.step()
        alone.step()
        for other in SCENARIOS.values():
            other.judge(watched)
    assert np.array_equal(watched.network.theta, alone.network.theta)
    assert repr(watched.evals) == repr(alone.evals)


def test_the_dead_count_is_the_units_zero_on_every_training_sample() -> None:
    trainer, _ = ran("dead_relu", False)
    last = trainer.evals[-1]
    assert last.step == trainer.steps_done  # counted on the weights the run ends with
    h = trainer.X_train
    expected = []
    for layer in trainer.network.layers[:-1]:  # counted independently: a NumPy ReLU forward
        h = np.maximum(h @ layer.W + layer.b, 0)
        expected.append(int(np.sum(np.all(h == 0, axis=0))))
    assert last.dead == expected and sum(expected) > 0


def test_dead_units_are_counted_on_the_training_set_from_step_0() -> None:
    # "At the start" is the step-0 evaluation: the untrained net over the whole training
    # set (3 of 32 units here), not a minibatch's upper bound.
    scenario = SCENARIOS["dead_relu"]
    trainer, verdict = ran("dead_relu", False)
    assert trainer.evals[0].step == 0
    untrained = Trainer(scenario.config)
    start = max(d / 32 for d in dead_units(forward_copy(untrained)))
    assert verdict.numbers["dead_share_start"] == start < DEAD
    assert verdict.numbers["dead_share_max"] == max(d / 32 for d in trainer.evals[-1].dead)
    assert "at step 0" in verdict.summary


def test_maxout_doubles_the_parameters_exactly() -> None:
    _, verdict = ran("maxout", False)
    assert verdict.numbers["parameter_ratio"] == 2.0
    _, relu = ran("maxout", True)
    assert relu.numbers["parameter_ratio"] == 1.0


# ----------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("name", PROFILES)
def test_profile_shows_its_picture(name: str) -> None:
    profile = PROFILES[name]
    verdict = judge_profile(profile, profiled(profile.model))
    assert verdict.status == OBSERVED, verdict.summary


@pytest.mark.parametrize("name", PROFILES)
def test_profile_counterexample_does_not(name: str) -> None:
    profile = PROFILES[name]
    verdict = judge_profile(profile, profiled(profile.counterexample_model))
    assert verdict.status == NOT_OBSERVED, verdict.summary


def test_profiles_are_cs231n_experiment() -> None:
    for profile in PROFILES.values():
        assert profile.model.hidden == [500] * 10
    assert get_profile("relu_he") is PROFILES["relu_he"]
    with pytest.raises(KeyError, match=r"unknown profile 'nope'; valid: tanh_small, .*relu_he"):
        get_profile("nope")


def test_run_profile_reports_the_std_and_mean_of_the_activations() -> None:
    model = PROFILES["tanh_xavier"].model
    rng = np.random.default_rng(0)  # run_profile's draws: the network, then the input
    net = build_network(model, 500, 1, rng, np.float64)
    h = rng.standard_normal((1000, 500))
    stds, means = [], []
    for layer in net.layers[:-1]:  # an independent NumPy tanh forward
        h = np.tanh(h @ layer.W + layer.b)
        stds.append(float(h.std()))
        means.append(float(h.mean()))
    result = profiled(model)
    np.testing.assert_allclose([p.std for p in result.layers], stds, rtol=1e-12)
    np.testing.assert_allclose([p.mean for p in result.layers], means, rtol=1e-9, atol=1e-15)


def test_xavier_tanh_profile_matches_cs231n_numbers() -> None:
    # CS231n's figures: layer 1 std about 0.63, layer 10 about 0.23.
    stds = profiled(PROFILES["tanh_xavier"].model).stds
    assert stds[0] == pytest.approx(0.63, abs=0.02)
    assert stds[-1] == pytest.approx(0.23, abs=0.03)


# ----------------------------------------------------------------------------- CLI


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tui-nn")
    scenarios_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_runs_the_chosen_scenarios_and_prints_the_table() -> None:
    args = cli("scenarios", "--only", "zero_init", "--only", "relu_he")
    out = io.StringIO()
    assert args.run(args, ExperimentConfig(), out=out) == 0
    text = out.getvalue()
    assert "zero_init" in text and "profile relu_he" in text and "single_neuron" not in text
    assert "claim" in text and "observed:" in text and "max_distance" in text
    assert "2 judged" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_cli_runs_counterexamples_on_request() -> None:
    args = cli("scenarios", "--only", "single_neuron", "--counterexamples")
    out = io.StringIO()
    assert args.run(args, ExperimentConfig(), out=out) == 0
    assert "not observed:" in out.getvalue() and "2 judged" in out.getvalue()


def test_cli_exits_1_when_a_claim_is_not_observed(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_observed(scenario: Scenario, counterexample: bool = False) -> tuple[Trainer, Verdict]:
        return Trainer(scenario.config), Verdict(NOT_OBSERVED, "made up", {"x": 1.0})

    monkeypatch.setattr(scenarios_cli, "run_scenario", not_observed)
    args = cli("scenarios", "--only", "single_neuron")
    out = io.StringIO()
    assert args.run(args, ExperimentConfig(), out=out) == 1
    assert "BAD" in out.getvalue() and "1 of 1 not as claimed" in out.getvalue()


def test_cli_refuses_unknown_names() -> None:
    with pytest.raises(SystemExit):
        cli("scenarios", "--only", "nope")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_init_reads_identical_to_rounding_whatever_the_blas(dtype: str) -> None:
    """Equal units stay equal to the last bit on some BLAS kernels and drift a rounding
    apart on others (1.3e-7 in float32 on SkylakeX): under ROUNDING epsilons the verdict
    says so without the kernels' digits; a real difference still reads as a number."""
    from engine.lecture.scenarios import units_stay_identical

    scenario = SCENARIOS["zero_init"]
    trainer = Trainer(scenario.config.with_changes(training={"dtype": dtype}))
    trainer.run(scenario.steps)
    finding = units_stay_identical(trainer)
    assert finding.holds
    assert f"units identical to {dtype} rounding (under " in finding.summary
    from engine.lecture.advisor import identical_units

    (advice,) = identical_units(trainer)  # the advisor says it the same way
    assert f"units of hidden layer 1 are identical to {dtype} rounding (under " in advice.message
    W = trainer.network.layers[0].W
    W[:, 0] *= 1.001  # one unit apart by 1e-3 of its size
    finding = units_stay_identical(trainer)
    assert not finding.holds and "units differ by up to 0.001 of their size" in finding.summary
