"""Depth profiles: CS231n's experiment as presets with judges.

A 10-layer, 500-wide net on unit-Gaussian input, looked at once at initialization, no
training: per hidden layer the activations' mean, std, histogram and saturated share.

    from engine.lecture.profiles import PROFILES, run_profile, judge_profile
    result = run_profile(PROFILES["tanh_small"].model)
    judge_profile(PROFILES["tanh_small"], result)   # Verdict: std collapses toward 0

run_profile works on any ModelConfig, so the lab can show the chosen architecture too, and
profile_network on any network and input (the lab's own net on its data). Every layer's
histogram has the same bins, as CS231n's figure has one x axis, so a std that collapses or
units that saturate show layer against layer. About 0.5 s for 10 x 500 in float64 on 1000
samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.config import ModelConfig
from engine.lecture.readings import depth_factor, shares
from engine.lecture.scenarios import NOT_OBSERVED, OBSERVED, Verdict
from engine.nn.network import MLP
from engine.registry import Registry
from engine.thresholds import COLLAPSED, COLLAPSES, HOLDS, MOST, UNSATURATED
from engine.train.build import build_network
from engine.train.diagnostics import LayerProfile, saturated_units


@dataclass(frozen=True)
class ProfileResult:
    layers: list[LayerProfile]  # mean, std, histogram per hidden layer, all on `edges`
    saturated: list[float]  # share of units saturated for most samples, per hidden layer

    @property
    def edges(self) -> np.ndarray:
        """The bin edges every layer's histogram shares."""
        return self.layers[0].edges if self.layers else np.zeros(0)

    @property
    def stds(self) -> list[float]:
        return [p.std for p in self.layers]

    @property
    def factor(self) -> float:
        return depth_factor(self.stds)

    @property
    def saturated_share(self) -> float:
        return float(np.mean(self.saturated)) if self.saturated else 0.0


# What a profile is expected to show, as a test on the result.
Expectation = Callable[[ProfileResult], bool]


def collapses(result: ProfileResult) -> bool:
    """The std falls toward 0 layer by layer."""
    return result.factor < COLLAPSES and result.stds[-1] < COLLAPSED


def saturates(result: ProfileResult) -> bool:
    """Most units sit at the ends of their range."""
    return result.saturated_share >= MOST


def holds(result: ProfileResult) -> bool:
    """The std stays roughly constant with depth, unsaturated."""
    return HOLDS[0] <= result.factor <= HOLDS[1] and result.saturated_share <= UNSATURATED


def shrinks(result: ProfileResult) -> bool:
    """The std falls steadily, below roughly constant but short of collapse."""
    return result.factor < HOLDS[0] and result.stds[-1] >= COLLAPSED


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    claim: str
    model: ModelConfig
    expect: Expectation  # collapses, saturates, holds or shrinks
    counterexample_model: ModelConfig
    counterexample: str = ""


def run_profile(
    model: ModelConfig, seed: int = 0, n_in: int = 500, n_samples: int = 1000, bins: int = 31
) -> ProfileResult:
    """CS231n's experiment: unit-Gaussian input through a fresh net, profiled.

    Same draws as engine.train.diagnostics.depth_profile with the same seed: network
    first, then the input."""
    rng = np.random.default_rng(seed)
    network = build_network(model, n_in, 1, rng, np.float64)
    return profile_network(network, rng.standard_normal((n_samples, n_in)), bins)


def shared_edges(activations: list[np.ndarray], bins: int) -> np.ndarray:
    """Bin edges over every layer's finite values; symmetric about 0 when the values have
    both signs, so that with an odd `bins` 0 is the middle of the middle bin (where a
    collapsed tanh layer piles up)."""
    finite = [a[np.isfinite(a)] for a in activations]
    values = [v for v in finite if v.size]
    lo = min((float(v.min()) for v in values), default=-1.0)
    hi = max((float(v.max()) for v in values), default=1.0)
    if lo < 0 < hi:
        lo, hi = -max(-lo, hi), max(-lo, hi)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    return np.linspace(lo, hi, bins + 1)


def profile_network(network: MLP, X: np.ndarray, bins: int = 31) -> ProfileResult:
    """Forward X once: per hidden layer the activations' mean, std, saturated share, and
    a histogram on bins every layer shares."""
    with np.errstate(all="ignore"):
        network.forward(X)
    acts = [np.asarray(a, np.float64).ravel() for a in network.hidden_activations]
    edges = shared_edges(acts, bins)
    layers = []
    for a in acts:
        counts, _ = np.histogram(a[np.isfinite(a)], bins=edges)
        layers.append(LayerProfile(float(a.mean()), float(a.std()), counts, edges))
    return ProfileResult(layers, shares(saturated_units(network), network))


def judge_profile(profile: Profile, result: ProfileResult) -> Verdict:
    """Does the result show what the profile expects? Profiles need no training, so the
    answer is observed or not observed, never "not yet"."""
    numbers = {
        "std_first_layer": result.stds[0],
        "std_last_layer": result.stds[-1],
        "std_factor": result.factor,
        "saturated_share": result.saturated_share,
    }
    status = OBSERVED if profile.expect(result) else NOT_OBSERVED
    return Verdict(status, profile_summary(result), numbers)


def profile_summary(result: ProfileResult) -> str:
    """One line for any profile, e.g. the lab's own architecture at a keypress."""
    stds = result.stds
    return (
        f"std {stds[0]:.2g} -> {stds[-1]:.2g} over {len(stds)} layers "
        f"(x{result.factor:.2f} a layer), {result.saturated_share:.0%} saturated"
    )


def get_profile(name: str) -> Profile:
    """PROFILES[name]; an unknown name raises a KeyError listing the valid ones."""
    return PROFILES[name]


CS231N = [500] * 10


def _model(activation: str, init: str) -> ModelConfig:
    return ModelConfig(hidden=list(CS231N), activation=activation, init=init)


PROFILES = Registry[Profile]("profile")


for _profile in (
    Profile(
        "tanh_small",
        "tanh, N(0, 0.01^2)",
        "Small weights: the std collapses toward 0 layer by layer.",
        _model("tanh", "small_normal"),
        collapses,
        _model("tanh", "xavier_normal"),
        "Xavier init",
    ),
    Profile(
        "tanh_large",
        "tanh, N(0, 1)",
        "Large weights: almost every unit saturates at -1 or +1.",
        _model("tanh", "large_normal"),
        saturates,
        _model("tanh", "xavier_normal"),
        "Xavier init",
    ),
    Profile(
        "tanh_xavier",
        "tanh, Xavier",
        "Xavier init: no collapse, no saturation; the std falls only slowly "
        "(CS231n: 0.63 to 0.23 over 10 layers).",
        _model("tanh", "xavier_normal"),
        holds,
        _model("tanh", "small_normal"),
        "N(0, 0.01^2)",
    ),
    Profile(
        "relu_xavier",
        "ReLU, Xavier",
        "Xavier with ReLU: half the units are off, so the std shrinks layer by layer.",
        _model("relu", "xavier_normal"),
        shrinks,
        _model("relu", "he_normal"),
        "He init",
    ),
    Profile(
        "relu_he",
        "ReLU, He",
        "He init doubles the variance to make up for ReLU's zeros: the std holds.",
        _model("relu", "he_normal"),
        holds,
        _model("relu", "xavier_normal"),
        "Xavier init",
    ),
):
    PROFILES.add(_profile.name, _profile)
