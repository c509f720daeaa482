"""Plain-language advice from the run's own diagnostics, each with the number behind it.

    from engine.lecture.advisor import advise
    for advice in advise(trainer):
        print(advice.level, advice.message)

Cheap enough to call at 1-2 Hz from a UI: it reads the last rows of the history, the
latest evaluation and, for symmetry, the hidden weights once; no forward pass. Its numbers
are engine.thresholds', read by engine.lecture.readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.lecture.readings import (
    dead_shares,
    depth_factor,
    first,
    grad_ratio,
    loss_drop,
    saturated_shares,
    start_stds,
    update_ratio,
    within_rounding,
    worst,
)
from engine.thresholds import (
    CHANCE_HIGH,
    CHANCE_LOW,
    DEAD,
    HOLDS,
    IDENTICAL,
    MOST,
    SLOW,
    UPDATE_HIGH,
    UPDATE_LOW,
    VANISHES,
    WINDOW,
)
from engine.train.diagnostics import chance_loss, symmetry
from engine.train.trainer import Trainer

WARNING = "warning"  # likely hurts training: do something
INFO = "info"  # worth knowing; may be fine


@dataclass(frozen=True)
class Advice:
    level: str  # WARNING or INFO
    message: str  # one or two plain sentences, the number included
    number: float  # the number behind the message (a share, a ratio, a loss)
    topic: str = ""  # dead, update_high, update_low, saturated, vanishing, chance, symmetry


def dead_units(trainer: Trainer) -> list[Advice]:
    # The latest evaluation counts over the whole training set (the one definition).
    if not trainer.evals or trainer.n_layers < 2:
        return []
    layer, share = worst(dead_shares(trainer, trainer.evals[-1]))
    if share < DEAD:
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


def update_size(trainer: Trainer) -> list[Advice]:
    if trainer.steps_done < WINDOW:
        return []  # too few steps to average over
    ratio = update_ratio(trainer)
    if ratio is None:
        return []  # all weights zero: identical_units says why
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
    if ratio < UPDATE_LOW and loss_drop(trainer) < SLOW:
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
    if trainer.n_layers < 2:
        return []
    layer, share = worst(saturated_shares(trainer))
    if share < MOST:
        return []
    ends = trainer.network.layers[0].activation.facts.output_range
    return [
        Advice(
            WARNING,
            f"{share:.0%} of hidden layer {layer}'s units are saturated (stuck at the ends of "
            f"{ends}), so they pass almost no gradient: use Xavier init or smaller weights.",
            share,
            "saturated",
        )
    ]


def vanishing(trainer: Trainer) -> list[Advice]:
    if trainer.n_layers < 3:
        return []  # with one hidden layer there is no depth for the gradient to fade over
    ratio = grad_ratio(trainer)
    if ratio >= VANISHES:
        return []
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


def initial_loss(trainer: Trainer) -> list[Advice]:
    d = trainer.dataset
    if d.task != "classification":
        return []  # chance loss is ln C for classifiers only
    chance = chance_loss(d.n_classes)
    loss = first(trainer, "loss")
    times = loss / chance
    if CHANCE_LOW <= times <= CHANCE_HIGH or not math.isfinite(times):
        return []
    where = f"The first loss {loss:.3f} is {times:.1f}x chance (ln {d.n_classes} = {chance:.3f})."
    if times > CHANCE_HIGH:
        why = _why_confident(trainer)
    else:
        why = "A fresh net should know nothing: was it trained before, or do the labels leak?"
    return [Advice(INFO, f"{where} {why}", times, "chance")]


def _why_confident(trainer: Trainer) -> str:
    """Why the first logits are large: the init is too large only where the hidden signal
    shows it (it grows or saturates at the first step); an init that keeps the signal
    (He for ReLU, as its notes card says) only spreads the logits through the output
    layer, which is drawn the same way."""
    logits = first(trainer, f"layers.{trainer.n_layers - 1}.act_std")
    head = f"The net starts out confident and wrong: its logits spread (std {logits:.2g})."
    if trainer.n_layers < 2:
        return f"{head} The init is large for this one layer: try Xavier."
    stds = start_stds(trainer)
    factor = depth_factor(stds)
    layer, saturated = worst(saturated_shares(trainer, first))
    if saturated >= MOST:
        return (
            f"{head} The init is too large for this net: {saturated:.0%} of hidden layer "
            f"{layer}'s units start saturated. Try Xavier for tanh and sigmoid, He for ReLU."
        )
    if factor > HOLDS[1]:
        return (
            f"{head} The init is too large for this net: the hidden std grows x{factor:.2f} "
            "a layer. Try Xavier for tanh and sigmoid, He for ReLU."
        )
    spread = f"{stds[0]:.2g}" if len(stds) == 1 else f"{stds[0]:.2g} -> {stds[-1]:.2g}"
    return (
        f"{head} The hidden layers start healthy (std {spread}, {saturated:.0%} saturated): "
        "the output layer, drawn with the same init, spreads the logits. Usually harmless: "
        "the first steps bring the loss down."
    )


def identical_units(trainer: Trainer) -> list[Advice]:
    for i, (layer, spread) in enumerate(
        zip(trainer.network.layers[:-1], symmetry(trainer.network), strict=False)
    ):
        if layer.units > 1 and spread < IDENTICAL:
            # The first such layer says it; the rest follow from it.
            how = within_rounding(spread, trainer.network.theta.dtype)
            return [
                Advice(
                    WARNING,
                    f"All {layer.units} units of hidden layer {i + 1} are "
                    f"{how or f'identical (they differ by {spread:.1e})'}: zero or constant "
                    "init gives every unit the same update. Use a random init: He for ReLU, "
                    "Xavier for tanh.",
                    spread,
                    "symmetry",
                )
            ]
    return []


CHECKS = (dead_units, update_size, saturation, vanishing, initial_loss, identical_units)


def advise(trainer: Trainer) -> list[Advice]:
    """Every piece of advice that applies now, warnings first; [] before the first step."""
    if trainer.steps_done == 0:
        return []
    found = [advice for check in CHECKS for advice in check(trainer)]
    return sorted(found, key=lambda a: a.level != WARNING)
