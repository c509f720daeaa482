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
judge honest, and what the tests check.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config import ExperimentConfig
from engine.nn.network import MLP
from engine.train.diagnostics import chance_loss, symmetry
from engine.train.trainer import Trainer

Array = np.ndarray

OBSERVED = "observed"
NOT_YET = "not yet"
NOT_OBSERVED = "not observed"

# Kinds of claim. "appears": observed as soon as it holds (dead units appear).
# "persists": must hold until the last step (XOR stays near chance, units stay identical).
APPEARS = "appears"
PERSISTS = "persists"

# Thresholds, from DESIGN.md's diagnostics where it gives one.
SEPARATES = 0.95  # single neuron: training accuracy on a linearly separable set
NEAR_CHANCE = 0.75  # XOR: a line gets at most about 2/3 of it right; chance is 1/2
IDENTICAL = 1e-4  # zero init: largest distance between units, relative to their size
COLLAPSES = 0.5  # activation std shrinks by more than half a layer
VANISHES = 1e-2  # first-layer grad norm below 1% of the last layer's
SLOW = 0.1  # "changes slowly": the loss came down by less than 10%
MOST = 0.5  # "most units saturated"
NEAR_ZERO = 0.1  # local gradient (da/dz) a typical hidden unit passes back
OFF_CENTRE = 0.25  # mean activation this far from 0 is "far from zero-centred"
DIES = 0.25  # dead-unit share in a layer (CS231n: up to 40% of a network can die)
HOLDS = (0.85, 1 / 0.85)  # std factor per layer that counts as "roughly constant"
UNSATURATED = 0.1  # at most this share of saturated units for a healthy signal
HEALTHY_UPDATE = (1e-4, 1e-2)  # update/weight ratio around 1e-3
WINDOW = 20  # recent steps averaged, so that one noisy batch does not decide


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
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


# ----------------------------------------------------------------------------- readings


def recent(trainer: Trainer, column: str, window: int = WINDOW) -> float:
    """The mean of a history column over the last `window` steps."""
    start = max(1, trainer.steps_done - window + 1)
    series = trainer.history.series(column, max_points=window, start=start)
    return float(np.average(series.mean, weights=series.count))


def first(trainer: Trainer, column: str) -> float:
    """A history column at the first recorded step (the state the run started from)."""
    return float(trainer.history.series(column, end=1).mean[0])


def hidden_layers(trainer: Trainer) -> range:
    return range(trainer.n_layers - 1)  # the last layer is the output layer


def depth_factor(stds: Sequence[float]) -> float:
    """The average factor by which activation std changes from one hidden layer to the
    next: 1 holds the signal, 0.7 halves it every two layers, 0.1 loses it."""
    if len(stds) < 2:
        return 1.0
    if stds[0] <= 0 or stds[-1] <= 0:
        return 0.0
    return float((stds[-1] / stds[0]) ** (1.0 / (len(stds) - 1)))


def ratio(a: float, b: float) -> float:
    if b > 0:
        return a / b
    return 0.0 if a == 0 else math.inf


def forward_copy(trainer: Trainer) -> MLP:
    """A float64 copy of the network after a forward pass of the training set: its layers'
    caches describe the whole set, and the live network (and its run) are left alone."""
    network = trainer.network.astype(np.float64)
    with np.errstate(all="ignore"):
        network.forward(trainer.X_train.astype(np.float64))
    return network


def local_gradients(network: MLP) -> list[Array]:
    """Per hidden layer, da/dz for every sample and unit of the last forward: the factor
    backprop multiplies by at each unit (0 where a ReLU is off or a tanh saturated)."""
    grads = []
    for layer in network.layers[:-1]:
        a = layer.a
        z = getattr(layer, "z", a)  # Maxout keeps no z; its activation is the identity
        grads.append(layer.activation.backward(np.ones_like(a), z, a))
    return grads


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
    summary = f"best training accuracy {best:.0%}, loss {last.train_loss:.3f} (chance 50%, 0.693)"
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
        summary = f"units differ by at most {spread:.1e} of their size: {how}"
    else:
        summary = f"units differ by up to {spread:.2g} of their size: each is its own"
    return Finding(holds, summary, numbers)


def signal_vanishes(trainer: Trainer) -> Finding:
    hidden = hidden_layers(trainer)
    if len(hidden) < 2:
        return Finding(False, "needs at least two hidden layers", {})
    stds = [first(trainer, f"layers.{i}.act_std") for i in hidden]
    factor = depth_factor(stds)
    grad_ratio = ratio(
        recent(trainer, "layers.0.grad_norm_W"),
        recent(trainer, f"layers.{trainer.n_layers - 1}.grad_norm_W"),
    )
    loss_first, loss_now = first(trainer, "loss"), recent(trainer, "loss")
    drop = 1.0 - ratio(loss_now, loss_first)
    numbers = {
        "std_first_layer": stds[0],
        "std_last_layer": stds[-1],
        "std_factor": factor,
        "grad_ratio": grad_ratio,
        "loss_drop": drop,
    }
    holds = factor < COLLAPSES and grad_ratio < VANISHES and drop < SLOW
    summary = (
        f"std {stds[0]:.2g} -> {stds[-1]:.2g} (x{factor:.2f} a layer); "
        f"grad first/last {grad_ratio:.1e}; loss {loss_first:.3f} -> {loss_now:.3f}"
    )
    return Finding(holds, summary, numbers)


def units_saturate(trainer: Trainer) -> Finding:
    hidden = hidden_layers(trainer)
    if not hidden:
        return Finding(False, "no hidden layer", {})
    layers = trainer.network.layers
    share = float(
        np.mean([recent(trainer, f"layers.{i}.saturated") / layers[i].units for i in hidden])
    )
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
    grad_ratio = ratio(
        recent(trainer, "layers.0.grad_norm_W"),
        recent(trainer, f"layers.{trainer.n_layers - 1}.grad_norm_W"),
    )
    mean = float(np.mean([recent(trainer, f"layers.{i}.act_mean") for i in hidden]))
    layers = trainer.network.layers
    share = float(
        np.mean([recent(trainer, f"layers.{i}.saturated") / layers[i].units for i in hidden])
    )
    numbers = {"grad_ratio": grad_ratio, "act_mean": mean, "saturated_share": share}
    holds = grad_ratio < VANISHES and abs(mean) >= OFF_CENTRE
    summary = f"grad first/last {grad_ratio:.1e}; mean activation {mean:+.2f}"
    return Finding(holds, summary, numbers)


def relus_die(trainer: Trainer) -> Finding:
    if not trainer.evals:
        return _waiting_for_eval()
    units = [layer.units for layer in trainer.network.layers[:-1]]
    if not units:
        return Finding(False, "no hidden layer", {})
    # Step 1's stats describe the untrained net (its forward ran before the update), on one
    # batch: an upper bound of what was dead at the start.
    start = max(first(trainer, f"layers.{i}.dead") / u for i, u in enumerate(units))
    now = [d / u for d, u in zip(trainer.evals[-1].dead, units, strict=True)]
    worst = max(now)
    numbers = {
        "dead_share_max": worst,
        "dead_share_start": start,
        "dead_units": float(sum(trainer.evals[-1].dead)),
    }
    holds = worst >= DIES and worst > start
    layer = now.index(worst) + 1
    summary = f"{worst:.0%} of hidden layer {layer}'s units dead (at most {start:.0%} at the start)"
    return Finding(holds, summary, numbers)


def _survivors(trainer: Trainer) -> tuple[bool, str, dict[str, float]]:
    """No unit without gradient for the whole training set, read off a forward copy."""
    network = forward_copy(trainer)
    grads = local_gradients(network)
    dead = [~(g != 0).any(axis=0) for g in grads]
    # Units <= 0 for every sample would be dead as ReLUs; those that still pass gradient
    # are the ones the leaky slope (or maxout's other piece) keeps alive.
    negative = [a.max(axis=0) <= 0 for a in network.hidden_activations]
    kept = sum(int(np.count_nonzero(n & ~d)) for n, d in zip(negative, dead, strict=True))
    n_dead = sum(int(np.count_nonzero(d)) for d in dead)
    units = sum(d.size for d in dead)
    numbers = {
        "dead_units": float(n_dead),
        "dead_share_max": max((float(d.mean()) for d in dead), default=0.0),
        "negative_but_learning": float(kept),
    }
    summary = f"{n_dead} of {units} units without gradient"
    if kept:
        summary += f"; {kept} negative for every sample yet still learning"
    return n_dead == 0, summary, numbers


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
    numbers |= {"hidden_parameters": float(held), "dense_parameters": float(dense)}
    numbers["parameter_ratio"] = times
    doubles = times >= 2.0
    summary += f"; hidden layers hold {held} parameters, x{times:.2f} a dense layer's {dense}"
    return Finding(alive and doubles, summary, numbers)


def signal_holds(trainer: Trainer) -> Finding:
    hidden = hidden_layers(trainer)
    if len(hidden) < 2:
        return Finding(False, "needs at least two hidden layers", {})
    if trainer.steps_done < WINDOW:
        return Finding(None, f"waiting for {WINDOW} steps of update ratios", {})
    layers = trainer.network.layers
    stds = [first(trainer, f"layers.{i}.act_std") for i in hidden]
    factor = depth_factor(stds)
    saturated = float(
        np.mean([first(trainer, f"layers.{i}.saturated") / layers[i].units for i in hidden])
    )
    update = float(
        np.median([recent(trainer, f"layers.{i}.update_ratio") for i in range(trainer.n_layers)])
    )
    numbers = {
        "std_first_layer": stds[0],
        "std_last_layer": stds[-1],
        "std_factor": factor,
        "saturated_share": saturated,
        "update_ratio": update,
    }
    keeps = HOLDS[0] <= factor <= HOLDS[1] and saturated <= UNSATURATED
    healthy = HEALTHY_UPDATE[0] <= update <= HEALTHY_UPDATE[1]
    summary = (
        f"std {stds[0]:.2f} -> {stds[-1]:.2g} (x{factor:.2f} a layer), "
        f"{saturated:.0%} saturated; update/weight {update:.1e}"
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

SCENARIOS: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    SCENARIOS[scenario.name] = scenario
    return scenario


def _scenario(
    name: str,
    title: str,
    claim: str,
    config: ExperimentConfig,
    judge_fn: Judge,
    counter: dict[str, dict[str, Any]],
    counterexample: str,
    kind: str = APPEARS,
) -> Scenario:
    return register(
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
        )
    )


_scenario(
    "single_neuron",
    "Single neuron: a line",
    f"One neuron is a linear classifier: it separates a linearly separable set "
    f"(>= {SEPARATES:.0%} right).",
    preset(ONE_NEURON, {"name": "adam", "lr": 0.1}, 150, data=LINE),
    one_neuron_separates,
    {"data": XOR},
    "the XOR set instead of a linearly separable one",
)
_scenario(
    "single_neuron_xor",
    "Single neuron: no line for XOR",
    f"No line separates XOR, so one neuron stays near chance (<= {NEAR_CHANCE:.0%} right).",
    preset(ONE_NEURON, {"name": "adam", "lr": 0.1}, 150, data=XOR),
    one_neuron_fails_xor,
    {"model": {"hidden": [16], "activation": "tanh"}},
    "a hidden layer of 16 tanh units",
    PERSISTS,
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
)
_scenario(
    "large_init",
    "Large init, deep tanh: saturation",
    "With N(0, 1) weights most tanh units saturate (|a| > 0.99) and pass almost no gradient.",
    preset({"hidden": DEEP, "activation": "tanh", "init": "large_normal"}, SGD, 100),
    units_saturate,
    {"model": {"init": "xavier_normal"}},
    "Xavier init instead of N(0, 1)",
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
)
_scenario(
    "dead_relu",
    "ReLU at a high learning rate: dead units",
    f"At a high learning rate ReLU units die (zero for every sample): at least "
    f"{DIES:.0%} of a layer here; CS231n sees up to 40% of a network.",
    preset({**DYING, "activation": "relu"}, HIGH_LR, 300),
    relus_die,
    {"model": {"activation": "leaky_relu"}},
    "leaky ReLU instead of ReLU",
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
)
