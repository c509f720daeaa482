"""Weight initializers by name. Fans are passed explicitly, so Maxout's are right too.

Each draws float64 from the given Generator; the layer casts to the training dtype,
so the same seed gives the same weights in float32 and float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.random import Generator

from engine.registry import Registry

Array = np.ndarray
Shape = tuple[int, ...]
# (shape, fan_in, fan_out, rng, scale) -> float64 weights
Draw = Callable[[Shape, int, int, Generator, float], Array]
# (fan_in, fan_out, scale) -> a number: a std, or a uniform draw's limit
Formula = Callable[[int, int, float], float]


@dataclass(frozen=True)
class Initializer:
    draw: Draw
    std: Formula  # the std the draw aims for (what the tests check it against)
    description: str  # what it draws from, and when to use it


INITIALIZERS = Registry[Initializer]("initializer")


def initialize(
    name: str,
    shape: Shape,
    fan_in: int,
    fan_out: int,
    rng: Generator,
    scale: float = 0.01,
) -> Array:
    """Weights drawn by the named initializer; an unknown name raises UnknownName."""
    return INITIALIZERS[name].draw(shape, fan_in, fan_out, rng, scale)


def expected_std(name: str, fan_in: int, fan_out: int, scale: float = 0.01) -> float:
    return INITIALIZERS[name].std(fan_in, fan_out, scale)


def _gaussian(std: Formula) -> Draw:
    return lambda shape, fan_in, fan_out, rng, s: (
        rng.standard_normal(shape) * std(fan_in, fan_out, s)
    )


def _uniform(limit: Formula) -> Draw:
    def draw(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
        bound = limit(fan_in, fan_out, s)
        return rng.uniform(-bound, bound, shape)

    return draw


def _add(name: str, description: str, std: Formula, draw: Draw | None = None) -> None:
    """A Gaussian of that std unless another draw is given."""
    INITIALIZERS.add(name, Initializer(draw or _gaussian(std), std, description))


def _orthogonal(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the draw uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return q.reshape(shape)


_add(
    "zeros",
    "all weights 0: every unit computes the same thing (symmetry)",
    std=lambda fi, fo, s: 0.0,
    draw=lambda shape, fi, fo, rng, s: np.zeros(shape),
)
_add(
    "constant",
    "all weights equal to the scale: symmetry as with zeros",
    std=lambda fi, fo, s: 0.0,
    draw=lambda shape, fi, fo, rng, s: np.full(shape, float(s)),
)
_add("normal", "N(0, scale^2)", std=lambda fi, fo, s: s)
_add(
    "small_normal",
    "N(0, 0.01^2): signal shrinks layer by layer in deep nets",
    std=lambda fi, fo, s: 0.01,
)
_add("large_normal", "N(0, 1): tanh and sigmoid units saturate", std=lambda fi, fo, s: 1.0)
_add(
    "uniform",
    "U(-scale, scale)",
    std=lambda fi, fo, s: s / math.sqrt(3.0),
    draw=_uniform(lambda fi, fo, s: s),
)
_add(
    "xavier_normal",
    "N(0, 2/(fan_in+fan_out)): keeps tanh's signal through depth",
    std=lambda fi, fo, s: math.sqrt(2.0 / (fi + fo)),
)
_add(
    "xavier_uniform",
    "U(+-sqrt(6/(fan_in+fan_out))): Glorot's uniform form",
    std=lambda fi, fo, s: math.sqrt(2.0 / (fi + fo)),
    draw=_uniform(lambda fi, fo, s: math.sqrt(6.0 / (fi + fo))),
)
_add(
    "he_normal",
    "N(0, 2/fan_in): keeps ReLU's signal through depth",
    std=lambda fi, fo, s: math.sqrt(2.0 / fi),
)
_add(
    "he_uniform",
    "U(+-sqrt(6/fan_in)): He's uniform form",
    std=lambda fi, fo, s: math.sqrt(2.0 / fi),
    draw=_uniform(lambda fi, fo, s: math.sqrt(6.0 / fi)),
)
_add(
    "lecun_normal",
    "N(0, 1/fan_in): for SELU-like and linear units",
    std=lambda fi, fo, s: math.sqrt(1.0 / fi),
)
_add(
    "orthogonal",
    "a random orthogonal matrix (Saxe et al.): preserves norms",
    std=lambda fi, fo, s: math.sqrt(1.0 / max(fi, fo)),
    draw=_orthogonal,
)
