"""The lecture's scenarios as comparisons: each claim beside its counter-examples, the runs
differing only in the fields named, with the same seeds, each getting its own verdict."""

from __future__ import annotations

import pytest

from engine import Trainer
from engine.lecture.scenarios import (
    COMPARISONS,
    NOT_OBSERVED,
    OBSERVED,
    SCENARIOS,
    comparison_of,
    judge,
)
from engine.lecture.tour import TOUR
from tui_nn.core.compare import differing

# Every comparison there is: the named ones and each scenario's own pair.
ALL = sorted({comparison_of(name).name for name in [*COMPARISONS, *SCENARIOS]})


def test_every_scenario_belongs_to_a_comparison_with_its_counter_example() -> None:
    for name, scenario in SCENARIOS.items():
        comparison = comparison_of(name)
        judged = [run.scenario.name for run in comparison.runs if run.scenario is not None]
        assert name in judged, name
        if comparison.name == name:  # its own pair: the preset, then the counter-example
            assert [run.expect for run in comparison.runs] == [OBSERVED, NOT_OBSERVED]
            assert comparison.runs[1].config == scenario.counterexample_config


@pytest.mark.parametrize("name", ALL)
def test_runs_differ_only_in_what_is_compared_and_share_the_seeds(name: str) -> None:
    comparison = comparison_of(name)
    configs = comparison.configs
    assert 2 <= len(configs) <= 8
    keys = differing(configs)
    assert keys and not any(k in ("training.seed", "data.seed") for k in keys)
    assert len({c.training.steps for c in configs}) == 1
    labels = [run.label for run in comparison.runs]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("name", ALL)
def test_each_run_gets_the_verdict_the_lecture_expects(name: str) -> None:
    for run in comparison_of(name).runs:
        if run.scenario is None:
            continue
        trainer = Trainer(run.config)
        trainer.run(run.scenario.steps)
        verdict = judge(run.scenario, trainer)
        assert verdict.status == run.expect, (name, run.label, verdict.summary)


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="dying"):
        comparison_of("nope")


def test_the_tour_follows_the_lecture_with_a_comparison_a_stop() -> None:
    titles = [stop.title.lower() for stop in TOUR]
    order = ["one neuron", "many neurons", "sigmoid", "relu", "rule of thumb", "initial"]
    assert [next(i for i, t in enumerate(titles) if word in t) for word in order] == list(
        range(len(order))
    )
    for stop in TOUR:
        assert stop.comparison().runs and stop.what_to_look_at and stop.text
