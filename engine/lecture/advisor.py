"""Plain-language advice from the run's own diagnostics, each with the number behind it.

    from engine.lecture.advisor import advise
    for advice in advise(trainer):
        print(advice.level, advice.message)

Cheap enough to call at 1-2 Hz from a UI: it reads the last rows of the history, the
latest evaluation and, for symmetry, the hidden weights once; no forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.train.diagnostics import chance_loss, symmetry
from engine.train.trainer import Trainer

WARNING = "warning"  # likely hurts training: do something
INFO = "info"  # worth knowing; may be fine

DEAD = 0.4  # dead-unit share in a layer (CS231n: up to 40% of a network can die)
# Update/weight ratio: ~1e-3 is healthy. Adam takes lr-sized steps for its first ~100
# steps (about 1.5e-2 on the default run), so "far above" starts at 3e-2.
UPDATE_HIGH = 3e-2
UPDATE_LOW = 1e-4
STUCK = 0.9  # "the loss has not come down": still above 90% of the first loss
SATURATED = 0.5  # share of a layer's units saturated for most samples
CHANCE_HIGH = 2.0  # first loss more than twice ln C: the net starts overconfident
CHANCE_LOW = 0.5  # first loss under half of ln C: not a fresh net, or the labels leak
FADES = 1e-2  # first layer's gradient norm under 1% of the last layer's
IDENTICAL = 1e-4  # largest distance between units, relative to their size
WINDOW = 20  # recent steps averaged, so that one noisy batch does not decide


@dataclass(frozen=True)
class Advice:
    level: str  # WARNING or INFO
    message: str  # one or two plain sentences, the number included
    number: float  # the number behind the message (a share, a ratio, a loss)
    topic: str = ""  # dead, update_high, update_low, saturated, vanishing, chance, symmetry


def _recent(trainer: Trainer, column: str) -> float:
    start = max(1, trainer.steps_done - WINDOW + 1)
    series = trainer.history.series(column, max_points=WINDOW, start=start)
    return float(np.average(series.mean, weights=series.count))


def _worst(shares: list[float]) -> tuple[int, float]:
    """The hidden layer with the largest share, 1-based, and the share."""
    i = int(np.argmax(shares))
    return i + 1, shares[i]


def dead_units(trainer: Trainer) -> list[Advice]:
    units = [layer.units for layer in trainer.network.layers[:-1]]
    if not units or not trainer.network.layers[0].activation.dead_units:
        return []
    # The latest evaluation counts over the whole training set; before the first one,
    # the recent batches (zero for a whole batch: an upper bound).
    if trainer.evals:
        counts = [float(d) for d in trainer.evals[-1].dead]
    else:
        counts = [_recent(trainer, f"layers.{i}.dead") for i in range(len(units))]
    layer, share = _worst([c / u for c, u in zip(counts, units, strict=True)])
    if share <= DEAD:
        return []
    return [
        Advice(
            WARNING,
            f"{share:.0%} of hidden layer {layer}'s units are dead (zero for every sample): "
            "lower the learning rate, or try leaky ReLU or maxout.",
            share,
            "dead",
        )
    ]


def update_ratio(trainer: Trainer) -> list[Advice]:
    if trainer.steps_done < WINDOW:
        return []  # too few steps to average over
    last = trainer.history.last() or {}
    # A layer whose weights are all zero has no ratio (and symmetry says why).
    ratios = [
        _recent(trainer, f"layers.{i}.update_ratio")
        for i in range(trainer.n_layers)
        if last.get(f"layers.{i}.weight_norm", 0.0) > 0
    ]
    if not ratios:
        return []
    ratio = float(np.median(ratios))
    if ratio > UPDATE_HIGH:
        return [
            Advice(
                WARNING,
                f"Each step changes the weights by {ratio:.1e} of their size (aim for about "
                "1e-3): the learning rate is high; lower it.",
                ratio,
                "update_high",
            )
        ]
    # Tiny updates are fine once the loss is low; they matter when it is stuck.
    stuck = _recent(trainer, "loss") >= STUCK * _first_loss(trainer)
    if ratio < UPDATE_LOW and stuck:
        return [
            Advice(
                WARNING,
                f"Each step changes the weights by only {ratio:.1e} of their size (aim for "
                "about 1e-3) and the loss is not coming down: raise the learning rate, or "
                "use a larger init.",
                ratio,
                "update_low",
            )
        ]
    return []


def saturation(trainer: Trainer) -> list[Advice]:
    layers = trainer.network.layers[:-1]
    if not layers or not layers[0].activation.saturated_units:
        return []
    shares = [_recent(trainer, f"layers.{i}.saturated") / l.units for i, l in enumerate(layers)]
    layer, share = _worst(shares)
    if share <= SATURATED:
        return []
    low, high = ("-1", "+1") if layers[0].activation.name == "tanh" else ("0", "1")
    return [
        Advice(
            WARNING,
            f"{share:.0%} of hidden layer {layer}'s units are saturated (stuck near {low} or "
            f"{high}), so they pass almost no gradient: use Xavier init or smaller weights.",
            share,
            "saturated",
        )
    ]


def vanishing(trainer: Trainer) -> list[Advice]:
    if trainer.n_layers < 3:
        return []  # with one hidden layer there is no depth for the gradient to fade over
    first = _recent(trainer, "layers.0.grad_norm_W")
    last = _recent(trainer, f"layers.{trainer.n_layers - 1}.grad_norm_W")
    if last <= 0 or first >= FADES * last:
        return []
    ratio = first / last
    return [
        Advice(
            WARNING,
            f"The first layer's gradient is {ratio:.1e} of the last layer's: it fades on its "
            "way back, so the first layers barely learn. Sigmoid or tanh in a deep net, or a "
            "tiny init, do this: try ReLU with He init.",
            ratio,
            "vanishing",
        )
    ]


def _first_loss(trainer: Trainer) -> float:
    """The loss at the first recorded step: exact while step 1 is kept raw (the first few
    thousand steps), else the mean of the oldest bucket."""
    return float(trainer.history.series("loss", end=1).mean[0])


def initial_loss(trainer: Trainer) -> list[Advice]:
    d = trainer.dataset
    if d.task != "classification":
        return []  # chance loss is ln C for classifiers only
    chance = chance_loss(d.n_classes)
    loss = _first_loss(trainer)
    times = loss / chance
    if CHANCE_LOW <= times <= CHANCE_HIGH or not math.isfinite(times):
        return []
    where = f"The first loss {loss:.3f} is {times:.1f}x chance (ln {d.n_classes} = {chance:.3f})."
    if times > CHANCE_HIGH:
        why = "The net starts out confident and wrong: the init (or the last layer) is too large."
    else:
        why = "A fresh net should know nothing: was it trained before, or do the labels leak?"
    return [Advice(INFO, f"{where} {why}", times, "chance")]


def identical_units(trainer: Trainer) -> list[Advice]:
    advice = []
    for i, (layer, spread) in enumerate(
        zip(trainer.network.layers[:-1], symmetry(trainer.network), strict=False)
    ):
        if layer.units > 1 and spread < IDENTICAL:
            advice.append(
                Advice(
                    WARNING,
                    f"All {layer.units} units of hidden layer {i + 1} are identical (they differ "
                    f"by {spread:.1e}): zero or constant init gives every unit the same update. "
                    "Use a random init: He for ReLU, Xavier for tanh.",
                    spread,
                    "symmetry",
                )
            )
            break  # the first such layer says it; the rest follow from it
    return advice


CHECKS = (dead_units, update_ratio, saturation, vanishing, initial_loss, identical_units)


def advise(trainer: Trainer) -> list[Advice]:
    """Every piece of advice that applies now, warnings first; [] before the first step."""
    if trainer.steps_done == 0:
        return []
    found = [advice for check in CHECKS for advice in check(trainer)]
    return sorted(found, key=lambda a: a.level != WARNING)
