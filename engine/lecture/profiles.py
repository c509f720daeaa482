"""Depth profiles: CS231n's experiment as presets with judges.

A 10-layer, 500-wide net on unit-Gaussian input, looked at once at initialization, no
training: per hidden layer the activations' mean, std, histogram and saturated share.

    from engine.lecture.profiles import PROFILES, run_profile, judge_profile
    result = run_profile(PROFILES["tanh_small"].model)
    judge_profile(PROFILES["tanh_small"], result)   # Verdict: std collapses toward 0

run_profile works on any ModelConfig, so the lab can show the chosen architecture too.
About 0.5 s for 10 x 500 in float64 on 1000 samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import ModelConfig
from engine.lecture.scenarios import (
    HOLDS,
    MOST,
    NOT_OBSERVED,
    OBSERVED,
    UNSATURATED,
    Verdict,
    depth_factor,
)
from engine.train.build import build_network
from engine.train.diagnostics import LayerProfile, activation_profile

# What a profile is expected to show, and the test for it on the result.
COLLAPSES = "collapses"  # std falls toward 0 layer by layer
SATURATES = "saturates"  # most units sit at the ends of their range
HOLDS_STD = "holds"  # std roughly constant with depth
SHRINKS = "shrinks"  # std falls steadily, not as fast as collapse

COLLAPSED = 1e-3  # last layer's std below this counts as "toward 0"
COLLAPSE_FACTOR = 0.5  # ...and it shrinks by more than half a layer
SHRINK_FACTOR = HOLDS[0]  # below "roughly constant" is shrinking


@dataclass(frozen=True)
class ProfileResult:
    layers: list[LayerProfile]  # mean, std, histogram per hidden layer
    saturated: list[float]  # share of units saturated for most samples, per hidden layer

    @property
    def stds(self) -> list[float]:
        return [p.std for p in self.layers]

    @property
    def factor(self) -> float:
        return depth_factor(self.stds)


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    claim: str
    model: ModelConfig
    expect: str  # COLLAPSES, SATURATES, HOLDS_STD or SHRINKS
    counterexample_model: ModelConfig
    counterexample: str = ""


def run_profile(
    model: ModelConfig, seed: int = 0, n_in: int = 500, n_samples: int = 1000, bins: int = 30
) -> ProfileResult:
    """engine.train.diagnostics.depth_profile, plus each layer's saturated share.

    Same draws as depth_profile with the same seed: network first, then the input."""
    rng = np.random.default_rng(seed)
    network = build_network(model, n_in, 1, rng, np.float64)
    X = rng.standard_normal((n_samples, n_in))
    layers = activation_profile(network, X, bins)
    saturated = []
    for layer in network.layers[:-1]:
        counter = layer.activation.saturated_units
        saturated.append(counter(layer.a) / layer.units if counter else 0.0)
    return ProfileResult(layers, saturated)


def judge_profile(profile: Profile, result: ProfileResult) -> Verdict:
    """Does the result show what the profile expects? Profiles need no training, so the
    answer is observed or not observed, never "not yet"."""
    stds, factor = result.stds, result.factor
    saturated = float(np.mean(result.saturated)) if result.saturated else 0.0
    numbers = {
        "std_first_layer": stds[0],
        "std_last_layer": stds[-1],
        "std_factor": factor,
        "saturated_share": saturated,
    }
    if profile.expect == COLLAPSES:
        holds = factor < COLLAPSE_FACTOR and stds[-1] < COLLAPSED
    elif profile.expect == SATURATES:
        holds = saturated >= MOST
    elif profile.expect == HOLDS_STD:
        holds = HOLDS[0] <= factor <= HOLDS[1] and saturated <= UNSATURATED
    elif profile.expect == SHRINKS:
        holds = factor < SHRINK_FACTOR and stds[-1] >= COLLAPSED
    else:
        raise ValueError(f"unknown expectation {profile.expect!r}")
    return Verdict(OBSERVED if holds else NOT_OBSERVED, profile_summary(result), numbers)


def profile_summary(result: ProfileResult) -> str:
    """One line for any profile, e.g. the lab's own architecture at a keypress."""
    stds = result.stds
    saturated = float(np.mean(result.saturated)) if result.saturated else 0.0
    return (
        f"std {stds[0]:.2g} -> {stds[-1]:.2g} over {len(stds)} layers "
        f"(x{result.factor:.2f} a layer), {saturated:.0%} saturated"
    )


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; valid: {', '.join(PROFILES)}")
    return PROFILES[name]


CS231N = [500] * 10


def _model(activation: str, init: str) -> ModelConfig:
    return ModelConfig(hidden=list(CS231N), activation=activation, init=init)


PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    PROFILES[profile.name] = profile
    return profile


for _profile in (
    Profile(
        "tanh_small",
        "tanh, N(0, 0.01^2)",
        "Small weights: the std collapses toward 0 layer by layer.",
        _model("tanh", "small_normal"),
        COLLAPSES,
        _model("tanh", "xavier_normal"),
        "Xavier init",
    ),
    Profile(
        "tanh_large",
        "tanh, N(0, 1)",
        "Large weights: almost every unit saturates at -1 or +1.",
        _model("tanh", "large_normal"),
        SATURATES,
        _model("tanh", "xavier_normal"),
        "Xavier init",
    ),
    Profile(
        "tanh_xavier",
        "tanh, Xavier",
        "Xavier init: no collapse, no saturation; the std falls only slowly "
        "(CS231n: 0.63 to 0.23 over 10 layers).",
        _model("tanh", "xavier_normal"),
        HOLDS_STD,
        _model("tanh", "small_normal"),
        "N(0, 0.01^2)",
    ),
    Profile(
        "relu_xavier",
        "ReLU, Xavier",
        "Xavier with ReLU: half the units are off, so the std shrinks layer by layer.",
        _model("relu", "xavier_normal"),
        SHRINKS,
        _model("relu", "he_normal"),
        "He init",
    ),
    Profile(
        "relu_he",
        "ReLU, He",
        "He init doubles the variance to make up for ReLU's zeros: the std holds.",
        _model("relu", "he_normal"),
        HOLDS_STD,
        _model("relu", "xavier_normal"),
        "Xavier init",
    ),
):
    register(_profile)
