"""The lecture's scenarios: a preset run, the claim it makes, and a judge that reads the
run's own diagnostics and says observed / not yet / not observed, with the numbers.

    from engine.lecture.scenarios import SCENARIOS, judge, run_scenario
    trainer, verdict = run_scenario(SCENARIOS["zero_init"])
    verdict.status, verdict.summary, verdict.numbers

`judge(scenario, trainer)` works at any point of a run, so a UI can call it while the run
goes on. Judges only read: trainer.history, trainer.evals, the network's weights and, for
a few, a forward pass of the training set through a float64 copy of the network, so a
judge never disturbs the run it looks at.

Each scenario also names a counter-example config (one setting changed, e.g. He init
instead of zeros) on which the same judge must say "not observed": that is what keeps a
judge honest, and what the tests check. And it names the lab's plot that shows its claim
(`plot`, a tab of PLOT_TABS) and says what to look at there (`look_at`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.config import ExperimentConfig
from engine.lecture.readings import (
    dead_shares,
    depth_factor,
    first,
    forward_copy,
    grad_ratio,
    hidden_layers,
    local_gradients,
    loss_drop,
    recent,
    saturated_shares,
    start_stds,
    update_ratio,
    within_rounding,
    worst,
)
from engine.registry import Registry
from engine.thresholds import (
    COLLAPSES,
    DEAD,
    DOUBLES,
    HEALTHY_UPDATE,
    HOLDS,
    IDENTICAL,
    MOST,
    NEAR_CHANCE,
    NEAR_ZERO,
    OFF_CENTRE,
    SEPARATES,
    SLOW,
    UNSATURATED,
    VANISHES,
    WINDOW,
)
from engine.train.diagnostics import chance_loss, symmetry
from engine.train.trainer import Trainer

OBSERVED = "observed"
NOT_YET = "not yet"
NOT_OBSERVED = "not observed"

# Kinds of claim. "appears": observed as soon as it holds (dead units appear).
# "persists": must hold until the last step (XOR stays near chance, units stay identical).
APPEARS = "appears"
PERSISTS = "persists"

# The lab's plots, by tab number (1-based): a scenario names the one that shows its claim.
# tui_nn.charts.PLOTS draws them in this order (a test keeps the two equal).
PLOT_TABS = ("loss", "accuracy", "units", "grad", "update")
LOSS, ACCURACY, UNITS, GRADIENT, UPDATE = range(1, len(PLOT_TABS) + 1)


@dataclass(frozen=True)
class Verdict:
    status: str  # OBSERVED, NOT_YET or NOT_OBSERVED
    summary: str  # one plain sentence with the numbers that decided
    numbers: dict[str, float]


@dataclass(frozen=True)
class Finding:
    """What a judge reads off a run: does the claim hold now? None: no data yet."""

    holds: bool | None
    summary: str
    numbers: dict[str, float]


Judge = Callable[[Trainer], Finding]


@dataclass(frozen=True)
class Scenario:
    """A DESIGN.md table row. Run `config` for `steps` (a UI can hand `config` to its
    runner) and call judge(scenario, trainer) whenever; `counterexample_config` changes
    one setting so that the claim should not show."""

    name: str
    title: str
    claim: str
    config: ExperimentConfig
    steps: int
    judge: Judge
    counterexample_config: ExperimentConfig | None
    counterexample: str = ""  # what the counter-example changes, in words
    kind: str = APPEARS
    plot: int = LOSS  # the lab's plot tab (1-based, PLOT_TABS) that shows the claim
    look_at: str = ""  # one sentence: what to look at, on that plot or another view

    def with_changes(self, **sections: dict[str, Any]) -> Scenario:
        """The scenario over a changed preset, e.g. with_changes(optimizer={"lr": 0.1}):
        the counter-example gets the same changes and still differs from the new preset
        in the setting it changed. Raises ConfigError for a bad change."""
        config = self.config.with_changes(**sections)
        counter = self.counterexample_config
        if counter is not None:
            old, own = self.config.to_dict(), counter.to_dict()
            differs = {
                name: {k: v for k, v in fields.items() if old[name][k] != v}
                for name, fields in own.items()
            }
            counter = config.with_changes(**{n: f for n, f in differs.items() if f})
        return replace(
            self, config=config, steps=config.training.steps, counterexample_config=counter
        )


def judge(scenario: Scenario, trainer: Trainer) -> Verdict:
    """The verdict on a run of `scenario` (or of its counter-example) at its current step."""
    if trainer.steps_done == 0:
        return Verdict(NOT_YET, "no steps yet", {})
    found = scenario.judge(trainer)
    # A diverged run takes no more steps: what it shows now is final.
    finished = trainer.steps_done >= scenario.steps or trainer.diverged is not None
    summary = found.summary
    if trainer.diverged is not None:
        summary += f" (diverged at step {trainer.diverged.step})"
    if found.holds is None:
        status = NOT_OBSERVED if finished else NOT_YET
    elif scenario.kind == PERSISTS:
        status = (OBSERVED if finished else NOT_YET) if found.holds else NOT_OBSERVED
    else:
        status = OBSERVED if found.holds else (NOT_OBSERVED if finished else NOT_YET)
    return Verdict(status, summary, found.numbers)


def run_scenario(
    scenario: Scenario, counterexample: bool = False, stop: threading.Event | None = None
) -> tuple[Trainer, Verdict]:
    """Run the preset (or its counter-example) for scenario.steps and judge it."""
    config = scenario.counterexample_config if counterexample else scenario.config
    if config is None:
        raise ValueError(f"scenario {scenario.name!r} has no counter-example")
    trainer = Trainer(config)
    trainer.run(scenario.steps - trainer.steps_done, stop=stop)
    return trainer, judge(scenario, trainer)


def get_scenario(name: str) -> Scenario:
    """SCENARIOS[name]; an unknown name raises a KeyError listing the valid ones."""
    return SCENARIOS[name]


# ----------------------------------------------------------------------------- judges


def _waiting_for_eval() -> Finding:
    return Finding(None, "waiting for the first evaluation", {})


def one_neuron_separates(trainer: Trainer) -> Finding:
    if not trainer.evals:
        return _waiting_for_eval()
    last = trainer.evals[-1]
    hidden = len(trainer.config.model.hidden)
    numbers = {
        "train_acc": last.train_accuracy,
        "val_acc": last.val_accuracy,
        "hidden_layers": float(hidden),
    }
    if hidden:
        return Finding(False, f"{hidden} hidden layer(s): this is not a single neuron", numbers)
    holds = last.train_accuracy >= SEPARATES
    summary = (
        f"one neuron gets {last.train_accuracy:.0%} of the training set right "
        f"({'at least' if holds else 'below'} {SEPARATES:.0%})"
    )
    return Finding(holds, summary, numbers)


def one_neuron_fails_xor(trainer: Trainer) -> Finding:
    if not trainer.evals:
        return _waiting_for_eval()
    best = max(e.train_accuracy for e in trainer.evals)
    last = trainer.evals[-1]
    hidden = len(trainer.config.model.hidden)
    numbers = {
        "best_train_acc": best,
        "val_acc": last.val_accuracy,
        "loss": last.train_loss,
        "chance_loss": chance_loss(2),
        "hidden_layers": float(hidden),
    }
    if hidden:
        return Finding(
            False, f"{hidden} hidden layer(s) reach {best:.0%}: more than one neuron", numbers
        )
    holds = best <= NEAR_CHANCE
    summary = (
        f"best training accuracy {best:.0%}, loss {last.train_loss:.3f} "
        f"(chance 50%, {numbers['chance_loss']:.3f})"
    )
    return Finding(holds, summary, numbers)


def units_stay_identical(trainer: Trainer) -> Finding:
    spreads = symmetry(trainer.network)
    if not spreads:
        return Finding(False, "no hidden layer", {})
    spread = max(spreads)
    moved = trainer.history.last() or {}
    norm = moved.get("layers.0.weight_norm", 0.0)
    numbers = {"max_distance": spread, "first_layer_weight_norm": norm}
    holds = spread < IDENTICAL
    if holds:
        how = "they moved, all alike" if norm > 0 else "they never left zero"
        same = within_rounding(spread, trainer.network.theta.dtype)
        if same:
            summary = f"units {same}: {how}"
        else:
            summary = f"units differ by at most {spread:.1e} of their size: {how}"
    else:
        summary = f"units differ by up to {spread:.2g} of their size: each is its own"
    return Finding(holds, summary, numbers)


def signal_vanishes(trainer: Trainer) -> Finding:
    if len(hidden_layers(trainer)) < 2:
        return Finding(False, "needs at least two hidden layers", {})
    stds = start_stds(trainer)
    factor = depth_factor(stds)
    fades = grad_ratio(trainer)
    loss_first, loss_now = first(trainer, "loss"), recent(trainer, "loss")
    drop = loss_drop(trainer)
    numbers = {
        "std_first_layer": stds[0],
        "std_last_layer": stds[-1],
        "std_factor": factor,
        "grad_ratio": fades,
        "loss_drop": drop,
    }
    holds = factor < COLLAPSES and fades < VANISHES and drop < SLOW
    summary = (
        f"std {stds[0]:.2g} -> {stds[-1]:.2g} (x{factor:.2f} a layer); "
        f"grad first/last {fades:.1e}; loss {loss_first:.3f} -> {loss_now:.3f}"
    )
    return Finding(holds, summary, numbers)


def units_saturate(trainer: Trainer) -> Finding:
    if not hidden_layers(trainer):
        return Finding(False, "no hidden layer", {})
    share = float(np.mean(saturated_shares(trainer)))
    # The median unit: the first layer sees only 2 inputs and rarely saturates, so a mean
    # over all units would let it hide how little the rest pass.
    per_unit = np.concatenate([g.mean(axis=0) for g in local_gradients(forward_copy(trainer))])
    passed = float(np.median(per_unit))
    numbers = {"saturated_share": share, "median_local_gradient": passed}
    holds = share >= MOST and passed <= NEAR_ZERO
    summary = (
        f"{share:.0%} of hidden units saturated; "
        f"the median unit passes {passed:.2f} of the gradient"
    )
    return Finding(holds, summary, numbers)


def sigmoid_vanishes(trainer: Trainer) -> Finding:
    hidden = hidden_layers(trainer)
    if not hidden:
        return Finding(False, "no hidden layer", {})
    fades = grad_ratio(trainer)
    mean = float(np.mean([recent(trainer, f"layers.{i}.act_mean") for i in hidden]))
    share = float(np.mean(saturated_shares(trainer)))
    numbers = {"grad_ratio": fades, "act_mean": mean, "saturated_share": share}
    holds = fades < VANISHES and abs(mean) >= OFF_CENTRE
    summary = f"grad first/last {fades:.1e}; mean activation {mean:+.2f}"
    return Finding(holds, summary, numbers)


def relus_die(trainer: Trainer) -> Finding:
    if not trainer.evals:
        return _waiting_for_eval()
    if not hidden_layers(trainer):
        return Finding(False, "no hidden layer", {})
    # evals[0] is the evaluation at step 0: what was dead before any update.
    begin, last = trainer.evals[0], trainer.evals[-1]
    start = max(dead_shares(trainer, begin))
    layer, share = worst(dead_shares(trainer, last))
    numbers = {
        "dead_share_max": share,
        "dead_share_start": start,
        "dead_units": float(sum(last.dead)),
    }
    holds = share >= DEAD and share > start
    summary = (
        f"{share:.0%} of hidden layer {layer}'s units dead "
        f"(at most {start:.0%} of a layer at step {begin.step})"
    )
    return Finding(holds, summary, numbers)


def _survivors(trainer: Trainer) -> tuple[bool, str, dict[str, float]]:
    """No unit without gradient for the whole training set, read off a forward copy."""
    network = forward_copy(trainer)
    grads = local_gradients(network)
    # A dead ReLU is one kind of unit without gradient; this asks it of any activation.
    stuck = [~(g != 0).any(axis=0) for g in grads]
    # Units <= 0 for every sample would be dead as ReLUs; those that still pass gradient
    # are the ones the leaky slope (or maxout's other piece) keeps alive.
    negative = [a.max(axis=0) <= 0 for a in network.hidden_activations]
    kept = sum(int(np.count_nonzero(n & ~d)) for n, d in zip(negative, stuck, strict=True))
    n_stuck = sum(int(np.count_nonzero(d)) for d in stuck)
    units = sum(d.size for d in stuck)
    numbers = {
        "units_without_gradient": float(n_stuck),
        "share_without_gradient_max": max((float(d.mean()) for d in stuck), default=0.0),
        "negative_but_learning": float(kept),
    }
    summary = f"{n_stuck} of {units} units without gradient"
    if kept:
        summary += f"; {kept} negative for every sample yet still learning"
    return n_stuck == 0, summary, numbers


def leaky_survives(trainer: Trainer) -> Finding:
    alive, summary, numbers = _survivors(trainer)
    return Finding(alive, summary, numbers)


def maxout_survives(trainer: Trainer) -> Finding:
    alive, summary, numbers = _survivors(trainer)
    layers = trainer.network.layers[:-1]
    if not layers:
        return Finding(False, "no hidden layer", numbers)
    held = sum(layer.W.size + layer.b.size for layer in layers)
    # A dense layer of the same widths holds (fan_in + 1) * units.
    dense = sum((layer.W.shape[0] + 1) * layer.units for layer in layers)
    times = held / dense
    numbers |= {
        "hidden_parameters": float(held),
        "dense_parameters": float(dense),
        "parameter_ratio": times,
    }
    summary += f"; hidden layers hold {held} parameters, x{times:.2f} a dense layer's {dense}"
    return Finding(alive and times >= DOUBLES, summary, numbers)


def signal_holds(trainer: Trainer) -> Finding:
    if len(hidden_layers(trainer)) < 2:
        return Finding(False, "needs at least two hidden layers", {})
    if trainer.steps_done < WINDOW:
        return Finding(None, f"waiting for {WINDOW} steps of update ratios", {})
    stds = start_stds(trainer)
    factor = depth_factor(stds)
    saturated = float(np.mean(saturated_shares(trainer, first)))
    update = update_ratio(trainer)
    numbers = {
        "std_first_layer": stds[0],
        "std_last_layer": stds[-1],
        "std_factor": factor,
        "saturated_share": saturated,
        "update_ratio": 0.0 if update is None else update,
    }
    keeps = HOLDS[0] <= factor <= HOLDS[1] and saturated <= UNSATURATED
    healthy = update is not None and HEALTHY_UPDATE[0] <= update <= HEALTHY_UPDATE[1]
    summary = (
        f"std {stds[0]:.2f} -> {stds[-1]:.2g} (x{factor:.2f} a layer), "
        f"{saturated:.0%} saturated; update/weight {numbers['update_ratio']:.1e}"
    )
    return Finding(keeps and healthy, summary, numbers)


# ----------------------------------------------------------------------------- presets


def preset(
    model: dict[str, Any],
    optimizer: dict[str, Any],
    steps: int,
    data: dict[str, Any] | None = None,
    eval_every: int = 25,
) -> ExperimentConfig:
    """Small data and short runs: all scenarios together take a few seconds."""
    return ExperimentConfig.from_dict(
        {
            "data": data or {"name": "spiral", "n_samples": 300},
            "model": model,
            "optimizer": optimizer,
            "training": {"steps": steps, "eval_every": eval_every, "seed": 0},
        }
    )


DEEP = [64] * 6  # deep enough for the signal to fade or hold visibly, fast enough to run
SGD = {"name": "sgd", "lr": 0.1}  # plain SGD: Adam would rescale the small gradients away
GENTLE = {"name": "sgd", "lr": 0.03}  # puts the update/weight ratio near 1e-3
HIGH_LR = {"name": "adam", "lr": 0.1}  # ten times the default rate
ONE_NEURON = {"hidden": [], "loss": "sigmoid_cross_entropy", "init": "xavier_normal"}
LINE = {"name": "linear", "n_samples": 200}
XOR = {"name": "xor", "n_samples": 200}
DYING = {"hidden": [32, 32, 32], "init": "he_normal"}

SCENARIOS = Registry[Scenario]("scenario")


def _scenario(
    name: str,
    title: str,
    claim: str,
    config: ExperimentConfig,
    judge_fn: Judge,
    counter: dict[str, dict[str, Any]],
    counterexample: str,
    kind: str = APPEARS,
    *,
    plot: int,
    look_at: str,
) -> Scenario:
    return SCENARIOS.add(
        name,
        Scenario(
            name,
            title,
            claim,
            config,
            config.training.steps,
            judge_fn,
            config.with_changes(**counter),
            counterexample,
            kind,
            plot,
            look_at,
        ),
    )


_scenario(
    "single_neuron",
    "Single neuron: a line",
    f"One neuron is a linear classifier: it separates a linearly separable set "
    f"(>= {SEPARATES:.0%} right).",
    preset(ONE_NEURON, HIGH_LR, 150, data=LINE),
    one_neuron_separates,
    {"data": XOR},
    "the XOR set instead of a linearly separable one",
    plot=ACCURACY,
    look_at="Accuracy climbs past 95%, and the boundary is one straight line between the classes.",
)
_scenario(
    "single_neuron_xor",
    "Single neuron: no line for XOR",
    f"No line separates XOR, so one neuron stays near chance (<= {NEAR_CHANCE:.0%} right).",
    preset(ONE_NEURON, HIGH_LR, 150, data=XOR),
    one_neuron_fails_xor,
    {"model": {"hidden": [16], "activation": "tanh"}},
    "a hidden layer of 16 tanh units",
    PERSISTS,
    plot=ACCURACY,
    look_at="Accuracy stays far below 100%: the boundary is one straight line, and no line "
    "puts opposite corners together.",
)
_scenario(
    "zero_init",
    "Zero init: symmetry",
    "With all weights equal, every hidden unit gets the same update: the units stay "
    "identical (max pairwise distance ~0).",
    preset({"hidden": [16, 16], "activation": "sigmoid", "init": "zeros"}, {**SGD, "lr": 0.5}, 150),
    units_stay_identical,
    {"model": {"init": "he_normal"}},
    "He init instead of zeros",
    PERSISTS,
    plot=LOSS,
    look_at="Press m: in the matrix form every row of W1 and of W2 (a unit's incoming "
    "weights) is the same, so 16 units do the work of one.",
)
_scenario(
    "tiny_init",
    "Tiny init, deep tanh: vanishing gradients",
    "With N(0, 0.01^2) weights the activations shrink layer by layer, the first layer's "
    "gradient is far smaller than the last's, and the network changes slowly.",
    preset({"hidden": DEEP, "activation": "tanh", "init": "small_normal"}, SGD, 200),
    signal_vanishes,
    {"model": {"init": "xavier_normal"}},
    "Xavier init instead of N(0, 0.01^2)",
    PERSISTS,
    plot=GRADIENT,
    look_at="The first layer's gradient line sits decades below the last layer's; press d "
    "to see the activations shrink layer by layer.",
)
_scenario(
    "large_init",
    "Large init, deep tanh: saturation",
    "With N(0, 1) weights most tanh units saturate (|a| > 0.99) and pass almost no gradient.",
    preset({"hidden": DEEP, "activation": "tanh", "init": "large_normal"}, SGD, 100),
    units_saturate,
    {"model": {"init": "xavier_normal"}},
    "Xavier init instead of N(0, 1)",
    plot=UNITS,
    look_at="Most units of every hidden layer past the first are saturated, from the first "
    "step on.",
)
_scenario(
    "sigmoid_large_init",
    "Large init, deep sigmoid: saturation",
    "Sigmoid saturates past |z| ~ 4.6 (tanh past 2.6), so it takes larger weights: with "
    "N(0, 3^2) most sigmoid units sit outside [0.01, 0.99] and pass almost no gradient.",
    preset(
        {"hidden": DEEP, "activation": "sigmoid", "init": "normal", "init_scale": 3.0}, SGD, 100
    ),
    units_saturate,
    {"model": {"init": "xavier_normal"}},
    "Xavier init instead of N(0, 3^2)",
    plot=UNITS,
    look_at="Most units of every hidden layer past the first are saturated (outside "
    "[0.01, 0.99]), from the first step on.",
)
_scenario(
    "sigmoid_deep",
    "Sigmoid deep net",
    "Sigmoid's slope is at most 1/4, so the gradient fades on its way back (first layer's "
    "<< last's), and its outputs are not zero-centred (mean ~0.5).",
    preset({"hidden": DEEP, "activation": "sigmoid", "init": "xavier_normal"}, SGD, 100),
    sigmoid_vanishes,
    {"model": {"activation": "tanh"}},
    "tanh instead of sigmoid",
    plot=GRADIENT,
    look_at="The first layer's gradient line sits decades below the last layer's.",
)
_scenario(
    "dead_relu",
    "ReLU at a high learning rate: dead units",
    "At a high learning rate ReLU units die (zero for every sample of the training set): "
    f"at least {DEAD:.0%} of a layer, as much as CS231n says a network can lose.",
    preset({**DYING, "activation": "relu"}, HIGH_LR, 300),
    relus_die,
    {"model": {"activation": "leaky_relu"}},
    "leaky ReLU instead of ReLU",
    plot=UNITS,
    look_at="A layer's share of dead units climbs past 40% and never comes back.",
)
_scenario(
    "leaky_relu",
    "Leaky ReLU: will not die",
    "Under the same high learning rate, leaky ReLU units keep a small slope for negative "
    "input: no unit loses its gradient.",
    preset({**DYING, "activation": "leaky_relu"}, HIGH_LR, 300),
    leaky_survives,
    {"model": {"activation": "relu"}},
    "ReLU instead of leaky ReLU",
    PERSISTS,
    plot=UNITS,
    look_at="The dead-unit lines stay at 0% under the rate that kills ReLU units.",
)
_scenario(
    "maxout",
    "Maxout: will not die, twice the parameters",
    "Under the same settings maxout units always pass gradient to their winning piece, "
    "but at k = 2 a hidden layer holds twice a dense layer's parameters.",
    preset({**DYING, "activation": "maxout", "maxout_k": 2}, HIGH_LR, 300),
    maxout_survives,
    {"model": {"activation": "relu"}},
    "ReLU instead of maxout",
    PERSISTS,
    plot=UNITS,
    look_at="The dead-unit lines stay at 0%; the Model panel's parameter count is twice a "
    "dense net's of the same widths.",
)
_scenario(
    "xavier_tanh",
    "Xavier init for tanh",
    "Xavier's N(0, 2/(fan_in+fan_out)) keeps tanh's activation std roughly constant with "
    "depth, unsaturated, with a healthy update/weight ratio (~1e-3).",
    preset({"hidden": DEEP, "activation": "tanh", "init": "xavier_normal"}, GENTLE, 150),
    signal_holds,
    {"model": {"init": "small_normal"}},
    "N(0, 0.01^2) instead of Xavier",
    plot=UPDATE,
    look_at="Every layer's update/weight line sits near the 1e-3 line; press d to see the "
    "std hold with depth.",
)
_scenario(
    "he_relu",
    "He init for ReLU",
    "He's N(0, 2/fan_in) keeps ReLU's activation std roughly constant with depth, with a "
    "healthy update/weight ratio (~1e-3).",
    preset({"hidden": DEEP, "activation": "relu", "init": "he_normal"}, GENTLE, 150),
    signal_holds,
    {"model": {"init": "xavier_normal"}},
    "Xavier init instead of He (the std halves every two layers)",
    plot=UPDATE,
    look_at="Every layer's update/weight line sits near the 1e-3 line; press d to see the "
    "std hold with depth.",
)


# ------------------------------------------------------------------------ comparisons


@dataclass(frozen=True)
class Contrast:
    """One run of a comparison: its name, its config, the scenario whose judge gives its
    verdict (None: no verdict; its config is the run's), what that verdict says holds,
    and the verdict the lecture expects (the tests hold each run to it)."""

    label: str
    config: ExperimentConfig
    scenario: Scenario | None = None
    claim: str = ""
    expect: str = OBSERVED


@dataclass(frozen=True)
class Comparison:
    """A claim run side by side with its counter-examples: runs that differ in one field
    (the same seeds, so the same data, and the same weights and batches where the shapes
    allow), each with its own verdict."""

    name: str
    title: str
    claim: str
    runs: tuple[Contrast, ...]
    plot: int = LOSS  # the plot tab that shows the claim best
    look_at: str = ""

    @property
    def configs(self) -> list[ExperimentConfig]:
        return [run.config for run in self.runs]


COMPARISONS = Registry[Comparison]("comparison")


def _run_of(scenario: Scenario, config: ExperimentConfig) -> Scenario:
    """The scenario judging a run of `config` (its counter-example, or another setting)."""
    return replace(scenario, config=config, steps=config.training.steps)


def pair(scenario: Scenario) -> Comparison:
    """A scenario beside its counter-example: its claim observed on one, not on the other."""
    counter_config = scenario.counterexample_config
    if counter_config is None:
        runs = [Contrast(scenario.name, scenario.config, scenario)]
    else:
        mine, theirs = difference(scenario.config, counter_config)
        counter = _run_of(scenario, counter_config)
        runs = [
            Contrast(mine, scenario.config, scenario),
            Contrast(theirs, counter_config, counter, expect=NOT_OBSERVED),
        ]
    return Comparison(
        scenario.name,
        scenario.title,
        scenario.claim,
        tuple(runs),
        scenario.plot,
        scenario.look_at,
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def difference(a: ExperimentConfig, b: ExperimentConfig) -> tuple[str, str]:
    """Two runs named by the values that tell them apart: ("xor", "linear"), or
    ("hidden=none activation=relu", "hidden=16 activation=tanh") for several fields."""
    da, db = a.to_dict(), b.to_dict()
    keys = [(s, k) for s in da for k in da[s] if da[s][k] != db[s][k]]
    if len(keys) == 1:
        s, k = keys[0]
        return _text(da[s][k]), _text(db[s][k])
    names = [" ".join(f"{k}={_text(d[s][k])}" for s, k in keys) for d in (da, db)]
    return names[0], names[1]


def comparison_of(name: str) -> Comparison:
    """The comparison called `name`, or the one a scenario of that name belongs to (its
    pair with its counter-example when no bigger comparison holds it). KeyError lists
    the names."""
    if name in COMPARISONS:
        return COMPARISONS[name]
    if name in SCENARIOS:
        for comparison in COMPARISONS.values():
            if any(run.scenario and run.scenario.name == name for run in comparison.runs):
                return comparison
        return pair(SCENARIOS[name])
    raise KeyError(f"unknown comparison {name!r}; valid: {', '.join([*COMPARISONS, *SCENARIOS])}")


def _varied(
    name: str,
    title: str,
    claim: str,
    base: ExperimentConfig,
    runs: list[tuple[str, dict[str, dict[str, Any]], str, str, str]],
    *,
    plot: int,
    look_at: str,
) -> Comparison:
    """A comparison over `base`: each run its label, its changes, the scenario that judges
    it ("" for none), what that judge says holds and the verdict expected."""
    contrasts = []
    for label, changes, by, says, expect in runs:
        config = base.with_changes(**changes)
        judged = _run_of(SCENARIOS[by], config) if by else None
        contrasts.append(Contrast(label, config, judged, says, expect))
    comparison = Comparison(name, title, claim, tuple(contrasts), plot, look_at)
    return COMPARISONS.add(name, comparison)


_varied(
    "dying",
    "ReLU, leaky ReLU and maxout at a high learning rate",
    "At the same high rate ReLU units die; leaky ReLU and maxout units keep their gradient "
    "(and maxout pays for it with twice the parameters).",
    preset({**DYING, "activation": "relu"}, HIGH_LR, 300),
    [
        ("relu", {}, "dead_relu", "units die", OBSERVED),
        ("leaky_relu", {"model": {"activation": "leaky_relu"}}, "leaky_relu", "none die", OBSERVED),
        ("maxout", {"model": {"activation": "maxout"}}, "maxout", "none die, 2x params", OBSERVED),
    ],
    plot=UNITS,
    look_at="ReLU's dead share climbs past 40% and stays; leaky ReLU's and maxout's stay at 0%.",
)
_varied(
    "init",
    "Zero, small, large and Xavier init on a deep tanh net",
    "Zeros keep every unit alike, N(0, 0.01^2) lets the signal and its gradient vanish, "
    "N(0, 1) saturates the units, and Xavier's scale keeps the signal alive through depth.",
    preset({"hidden": DEEP, "activation": "tanh", "init": "xavier_normal"}, GENTLE, 150),
    [
        ("zeros", {"model": {"init": "zeros"}}, "zero_init", "units stay alike", OBSERVED),
        ("0.01", {"model": {"init": "small_normal"}}, "tiny_init", "gradient vanishes", OBSERVED),
        ("1.0", {"model": {"init": "large_normal"}}, "large_init", "units saturate", OBSERVED),
        ("xavier", {}, "xavier_tanh", "signal holds", OBSERVED),
    ],
    plot=GRADIENT,
    look_at="Press l for the first layer: the 0.01 line sits decades under Xavier's, zeros "
    "has no gradient at all; on plot 3 the 1.0 run is saturated from the start.",
)
_varied(
    "saturation",
    "Sigmoid and tanh on a deep net",
    "Sigmoid's slope is at most 1/4 and its output is not zero-centred: on a deep net its "
    "gradient fades on the way back; tanh, zero-centred, keeps more of it.",
    preset({"hidden": DEEP, "activation": "sigmoid", "init": "xavier_normal"}, SGD, 100),
    [
        ("sigmoid", {}, "sigmoid_deep", "gradient fades", OBSERVED),
        ("tanh", {"model": {"activation": "tanh"}}, "sigmoid_deep", "gradient fades", NOT_OBSERVED),
    ],
    plot=GRADIENT,
    look_at="At L1 (press l) sigmoid's gradient line sits far under tanh's; the loss of "
    "sigmoid barely moves.",
)
_varied(
    "rule_of_thumb",
    "The rule of thumb: five activations on one net",
    "Use ReLU (mind the learning rate), try leaky ReLU or maxout, try tanh without "
    "expecting much, and use sigmoid only where an output must lie in [0, 1].",
    preset({"hidden": [32, 32, 32], "init": "xavier_normal"}, {"name": "adam", "lr": 0.01}, 300),
    [
        ("relu", {}, "", "", ""),
        ("leaky_relu", {"model": {"activation": "leaky_relu"}}, "", "", ""),
        ("maxout", {"model": {"activation": "maxout"}}, "", "", ""),
        ("tanh", {"model": {"activation": "tanh"}}, "", "", ""),
        ("sigmoid", {"model": {"activation": "sigmoid"}}, "", "", ""),
    ],
    plot=ACCURACY,
    look_at="The ReLU family and tanh pass 95% within the first 50 steps; sigmoid lags far "
    "behind for most of the run.",
)
