"""Members trained together equal each member trained alone, bit for bit.

Each case trains a StackedTrainer and, for every member, a plain Trainer of the same config,
and compares all a run holds: the whole checkpoint (parameters, gradient, optimizer state
and step count, batch order and generator, history, evaluations, divergence), the last
step's record and the run's result.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from engine.config import ConfigError, ExperimentConfig
from engine.lecture.scenarios import SCENARIOS, judge
from engine.train import stacked as stacked_module
from engine.train.records import RunResult, StepRecord
from engine.train.stacked import StackedTrainer, can_stack, group_members
from engine.train.trainer import Trainer

Changes = dict[str, dict[str, Any]]  # section -> field -> value


def config(**sections: dict[str, Any]) -> ExperimentConfig:
    base: dict[str, dict[str, Any]] = {
        "data": {"n_samples": 200},
        "model": {"hidden": [16, 16]},
        "optimizer": {"name": "adam"},
        "training": {"batch_size": 32, "steps": 1000, "eval_every": 20},
    }
    for name, fields in sections.items():
        base[name] = {**base.get(name, {}), **fields}
    return ExperimentConfig.from_dict(base)


def members(shared: Changes, *own: Changes) -> list[ExperimentConfig]:
    """Configs of `shared` with each member's own changes."""
    out = []
    for changes in own:
        sections = {k: dict(v) for k, v in shared.items()}
        for name, fields in changes.items():
            sections[name] = {**sections.get(name, {}), **fields}
        out.append(config(**sections))
    return out


def seeds(*values: int) -> list[Changes]:
    return [{"training": {"seed": s}} for s in values]


def same_run(alone: Trainer, member: Trainer) -> None:
    """Everything a checkpoint holds, bit for bit (NaN where NaN)."""
    a, b = alone.checkpoint(), member.checkpoint()
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key], equal_nan=a[key].dtype.kind == "f"), key
    assert alone.steps_done == member.steps_done
    assert (alone.diverged is None) == (member.diverged is None)
    if alone.diverged is not None and member.diverged is not None:
        assert (alone.diverged.step, alone.diverged.what) == (
            member.diverged.step,
            member.diverged.what,
        )
    assert repr(alone.evals) == repr(member.evals)  # repr: NaN accuracy of a regression
    assert alone.events == member.events


def same_result(a: RunResult, b: RunResult) -> None:
    assert (a.steps, a.stopped) == (b.steps, b.stopped)
    assert (a.diverged is None) == (b.diverged is None)
    if a.diverged is not None and b.diverged is not None:
        assert str(a.diverged) == str(b.diverged)


def same_record(a: StepRecord | None, b: StepRecord | None) -> None:
    assert a is not None and b is not None
    assert (a.step, a.epoch, a.loss, a.lr) == (b.step, b.epoch, b.loss, b.lr)
    assert a.accuracy == b.accuracy or (np.isnan(a.accuracy) and np.isnan(b.accuracy))
    assert np.array_equal(a.stats, b.stats)


def check_equal_alone(configs: list[ExperimentConfig], steps: int) -> StackedTrainer:
    stacked = StackedTrainer(configs)
    results = stacked.run(steps - 1)
    last = stacked.step()
    for i, (cfg, member) in enumerate(zip(configs, stacked.members, strict=True)):
        alone = Trainer(cfg)
        result = alone.run(steps - 1)
        same_result(result, results[i])
        if alone.diverged is None:
            same_record(alone.step(), last[i])
        same_run(alone, member)
    return stacked


CASES: dict[str, tuple[Changes, list[Changes]]] = {
    "adam relu seeds": ({}, seeds(0, 1, 2, 3)),
    "adam numbers": (
        {"training": {"dtype": "float64"}},
        [
            {"optimizer": {"lr": 0.01, "beta1": 0.9}},
            {"optimizer": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99}, "training": {"seed": 1}},
            {"optimizer": {"lr": 0.002, "eps": 1e-6}, "training": {"seed": 2}},
        ],
    ),
    "sgd and its schedules": (
        {"optimizer": {"name": "sgd", "lr": 0.3}, "model": {"activation": "tanh"}},
        [
            {"optimizer": {"schedule": "constant"}},
            {"optimizer": {"schedule": "step", "step_size": 15, "gamma": 0.5}},
            {"optimizer": {"schedule": "cosine", "decay_steps": 40, "lr": 0.5}},
        ],
    ),
    "momentum, decay and clipping": (
        {"optimizer": {"name": "momentum", "lr": 0.1}, "model": {"activation": "sigmoid"}},
        [
            {"optimizer": {"momentum": 0.9}},
            {"optimizer": {"momentum": 0.5, "weight_decay": 1e-3}, "training": {"seed": 4}},
            {"optimizer": {"momentum": 0.0, "clip_norm": 0.05}, "training": {"seed": 5}},
            {"optimizer": {"clip_norm": 0.2, "weight_decay": 0.01}, "training": {"seed": 6}},
        ],
    ),
    "nesterov float64 leaky": (
        {
            "optimizer": {"name": "nesterov", "lr": 0.05},
            "model": {"activation": "leaky_relu", "leaky_slope": 0.1},
            "training": {"dtype": "float64"},
        },
        seeds(0, 9),
    ),
    "rmsprop gelu": (
        {"optimizer": {"name": "rmsprop", "lr": 0.003}, "model": {"activation": "gelu"}},
        [{"optimizer": {"rho": 0.9}}, {"optimizer": {"rho": 0.99}, "training": {"seed": 3}}],
    ),
    "maxout": (
        {"model": {"activation": "maxout", "maxout_k": 3}},
        [
            {},
            {"optimizer": {"weight_decay": 1e-3, "clip_norm": 0.5}, "training": {"seed": 1}},
            {"training": {"seed": 2, "dtype": "float32"}},
        ],
    ),
    "maxout float64": (
        {"model": {"activation": "maxout"}, "training": {"dtype": "float64"}},
        seeds(0, 1),
    ),
    "inits": (
        {"model": {"activation": "elu"}},
        [
            {"model": {"init": "he_normal"}},
            {"model": {"init": "zeros"}},
            {"model": {"init": "small_normal", "bias_init": "constant", "bias_value": 0.1}},
            {"model": {"init": "normal", "init_scale": 2.0}},
        ],
    ),
    "evaluations every so often": (
        {"model": {"activation": "silu"}},
        [
            {"training": {"eval_every": 0}},
            {"training": {"eval_every": 7, "seed": 1}},
            {"training": {"eval_every": 1, "seed": 2}},
        ],
    ),
    "one neuron, sigmoid loss": (
        {
            "data": {"name": "moons"},
            "model": {"hidden": [], "loss": "sigmoid_cross_entropy"},
            "training": {"batch_size": 50},
        },
        seeds(0, 1, 2),
    ),
    "regression": (
        {"data": {"name": "ripple"}, "model": {"hidden": [8]}, "training": {"batch_size": 16}},
        seeds(0, 1),
    ),
    "wide: norms by vdot": (  # 67k parameters: the squared norms take their vdot path
        {"model": {"hidden": [256, 256]}, "training": {"batch_size": 16}},
        seeds(0, 1),
    ),
    "many classes, deeper": (
        {
            "data": {"name": "gaussians", "n_classes": 6, "n_samples": 300},
            "model": {"hidden": [32, 24, 16]},
            "training": {"batch_size": 64, "dtype": "float64"},
        },
        seeds(0, 1, 2),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_member_equals_its_run_alone(case: str) -> None:
    shared, own = CASES[case]
    check_equal_alone(members(shared, *own), 60)


def test_members_are_evaluated_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """The equality tests above check the stacked evaluation: no member evaluates alone."""

    def alone(self: Trainer) -> None:
        raise AssertionError("a member evaluated itself")

    stacked = StackedTrainer(members({}, *seeds(0, 1)))
    monkeypatch.setattr(Trainer, "evaluate", alone)
    stacked.run(45)
    assert [len(m.evals) for m in stacked.members] == [3, 3]


def test_members_too_big_to_evaluate_together_evaluate_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stacked_module, "EVALUATE_TOGETHER", 0)
    check_equal_alone(members({"model": {"activation": "maxout"}}, *seeds(0, 1)), 45)


def test_a_diverging_member_stops_alone() -> None:
    configs = members(
        {"optimizer": {"name": "sgd"}, "model": {"init": "large_normal"}},
        {"optimizer": {"lr": 0.1}},
        {"optimizer": {"lr": 1000.0}},
        {"optimizer": {"lr": 0.05}, "training": {"seed": 3}},
    )
    stacked = check_equal_alone(configs, 40)
    diverged = [m.diverged for m in stacked.members]
    assert diverged[0] is None and diverged[2] is None
    assert diverged[1] is not None and diverged[1].step < 10
    assert [m.steps_done for m in stacked.members] == [40, diverged[1].step, 40]
    assert stacked.step()[1] is None  # it takes no more steps
    assert stacked.run(5)[1].diverged is diverged[1]


def test_stats_finite_but_too_big_to_add_up_are_no_divergence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack checks its members' rows by their sums; a sum that overflows on finite
    values gets the Trainer's closer look: member 1 goes on, member 2 (an inf) diverges
    with the Trainer's message."""
    real = stacked_module.step_stats

    def huge(*args: Any, **kwargs: Any) -> np.ndarray:
        out = real(*args, **kwargs)
        out[1, :2] = 1e308  # layer 0's grad_norm_W and grad_norm_b: finite, sum inf
        out[2, 2] = np.inf  # layer 0's weight_norm
        return out

    monkeypatch.setattr(stacked_module, "step_stats", huge)
    stacked = StackedTrainer(members({}, *seeds(0, 1, 2)))
    records = stacked.step()
    assert records[1] is not None and records[1].stats[0, :2].tolist() == [1e308, 1e308]
    assert stacked.members[1].history.last()["layers.0.grad_norm_W"] == 1e308
    assert records[2] is None
    assert str(stacked.members[2].diverged) == "diverged at step 1: layers.0.weight_norm is inf"
    assert [m.steps_done for m in stacked.members] == [1, 1, 1]


def test_a_member_diverged_from_the_start_takes_no_step() -> None:
    deep = {"model": {"hidden": [64] * 10, "init": "normal"}}
    configs = members(deep, {"model": {"init_scale": 0.1}}, {"model": {"init_scale": 1000.0}})
    stacked = check_equal_alone(configs, 5)  # the initial evaluation's loss is NaN
    assert stacked.members[1].diverged is not None
    assert stacked.members[1].steps_done == 0
    lost = StackedTrainer(configs[1:])
    assert lost.step() == [None]
    assert lost.run(3) == [RunResult(0, diverged=lost.members[0].diverged)]


def test_a_checkpoint_of_a_member_resumes_alone() -> None:
    configs = members({}, *seeds(0, 1, 2))
    stacked = StackedTrainer(configs)
    stacked.run(30)
    arrays = stacked.members[1].checkpoint()
    resumed = Trainer.from_checkpoint(configs[1], arrays)
    resumed.run(25)
    straight = Trainer(configs[1])
    straight.run(55)
    same_run(straight, resumed)


def test_a_member_restored_in_the_stack_goes_on_from_there() -> None:
    configs = members({}, *seeds(0, 1))
    stacked = StackedTrainer(configs)
    stacked.run(20)
    saved = stacked.members[1].checkpoint()
    stacked.run(15)
    stacked.members[1].restore(saved)  # back to step 20, while member 0 is at 35
    stacked.run(10)
    alone = [Trainer(c) for c in configs]
    alone[0].run(45)
    alone[1].run(30)
    for a, m in zip(alone, stacked.members, strict=True):
        same_run(a, m)


def test_a_live_learning_rate_change_applies_to_its_member() -> None:
    configs = members({}, *seeds(0, 1))
    stacked = StackedTrainer(configs)
    stacked.run(10)
    stacked.members[0].set_learning_rate(0.05)
    stacked.run(10)
    alone = [Trainer(c) for c in configs]
    alone[0].run(10)
    alone[0].set_learning_rate(0.05)
    alone[0].run(10)
    alone[1].run(20)
    for a, m in zip(alone, stacked.members, strict=True):
        same_run(a, m)


def test_stop_stops_every_member() -> None:
    stacked = StackedTrainer(members({}, *seeds(0, 1)))
    stop = threading.Event()
    stop.set()
    assert stacked.run(10, stop) == [RunResult(0, stopped=True)] * 2
    assert [m.steps_done for m in stacked.members] == [0, 0]


# Scenarios whose counter-example changes only what members may differ in (the init).
STACKABLE_SCENARIOS = ["zero_init", "tiny_init", "sigmoid_large_init", "xavier_tanh"]


@pytest.mark.parametrize("name", STACKABLE_SCENARIOS)
def test_verdicts_agree(name: str) -> None:
    scenario = SCENARIOS[name]
    assert scenario.counterexample_config is not None
    configs = [scenario.config, scenario.counterexample_config]
    stacked = StackedTrainer(configs)
    stacked.run(scenario.steps)
    verdicts = []
    for cfg, member in zip(configs, stacked.members, strict=True):
        alone = Trainer(cfg)
        alone.run(scenario.steps)
        verdicts.append(judge(scenario, member))
        assert judge(scenario, member) == judge(scenario, alone)
    assert verdicts[0].status != verdicts[1].status  # the claim and its counter-example


def test_configs_that_cannot_stack_are_refused_naming_the_field() -> None:
    relu, tanh = config(), config(model={"activation": "tanh"})
    assert not can_stack(relu, tanh)
    assert can_stack(relu, config(training={"seed": 3}, optimizer={"lr": 0.1}))
    with pytest.raises(ConfigError) as error:
        StackedTrainer([relu, tanh])
    assert error.value.field == "model.activation"
    with pytest.raises(ConfigError, match=r"data\.seed"):
        StackedTrainer([relu, config(data={"seed": 1})])
    with pytest.raises(ConfigError, match="members"):
        StackedTrainer([])


def test_group_members_groups_what_can_stack() -> None:
    configs = [
        config(),
        config(model={"activation": "tanh"}),
        config(training={"seed": 1}),
        config(training={"batch_size": 16}),
        config(model={"activation": "tanh", "init": "zeros"}),
        config(optimizer={"name": "sgd"}),
    ]
    assert group_members(configs) == [[0, 2], [1, 4], [3], [5]]
