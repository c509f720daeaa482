"""Weight initializers by name. Fans are passed explicitly, so Maxout's are right too.

Each draws float64 from the given Generator; the layer casts to the training dtype,
so the same seed gives the same weights in float32 and float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.random import Generator

Array = np.ndarray

Shape = tuple[int, ...]
Initializer = Callable[[Shape, int, int, np.random.Generator, float], np.ndarray]
INITIALIZERS: dict[str, Initializer] = {}
# What each draws from, for notes and tests: name -> (std or formula, when to use it).
DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str) -> Callable[[Initializer], Initializer]:
    def add(init: Initializer) -> Initializer:
        INITIALIZERS[name] = init
        DESCRIPTIONS[name] = description
        return init

    return add


def initialize(
    name: str,
    shape: Shape,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    scale: float = 0.01,
) -> np.ndarray:
    if name not in INITIALIZERS:
        raise KeyError(f"unknown initializer {name!r}; valid: {', '.join(INITIALIZERS)}")
    return INITIALIZERS[name](shape, fan_in, fan_out, rng, scale)


def expected_std(name: str, fan_in: int, fan_out: int, scale: float = 0.01) -> float:
    """The std each random initializer aims for (the formula the tests check against)."""
    return _STD[name](fan_in, fan_out, scale)


_STD: dict[str, Callable[[int, int, float], float]] = {
    "zeros": lambda fi, fo, s: 0.0,
    "constant": lambda fi, fo, s: 0.0,
    "normal": lambda fi, fo, s: s,
    "small_normal": lambda fi, fo, s: 0.01,
    "large_normal": lambda fi, fo, s: 1.0,
    "uniform": lambda fi, fo, s: s / math.sqrt(3.0),
    "xavier_normal": lambda fi, fo, s: math.sqrt(2.0 / (fi + fo)),
    "xavier_uniform": lambda fi, fo, s: math.sqrt(2.0 / (fi + fo)),
    "he_normal": lambda fi, fo, s: math.sqrt(2.0 / fi),
    "he_uniform": lambda fi, fo, s: math.sqrt(2.0 / fi),
    "lecun_normal": lambda fi, fo, s: math.sqrt(1.0 / fi),
    "orthogonal": lambda fi, fo, s: math.sqrt(1.0 / max(fi, fo)),
}


def _normal(std: float, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(shape) * std


def _uniform(limit: float, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-limit, limit, shape)


@register("zeros", "all weights 0: every unit computes the same thing (symmetry)")
def _zeros(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return np.zeros(shape)


@register("constant", "all weights equal to the scale: symmetry as with zeros")
def _constant(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return np.full(shape, float(s))


@register("normal", "N(0, scale^2)")
def _normal_init(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(s, shape, rng)


@register("small_normal", "N(0, 0.01^2): signal shrinks layer by layer in deep nets")
def _small(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(0.01, shape, rng)


@register("large_normal", "N(0, 1): tanh and sigmoid units saturate")
def _large(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(1.0, shape, rng)


@register("uniform", "U(-scale, scale)")
def _uniform_init(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _uniform(s, shape, rng)


@register("xavier_normal", "N(0, 2/(fan_in+fan_out)): keeps tanh's signal through depth")
def _xavier_normal(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)), shape, rng)


@register("xavier_uniform", "U(+-sqrt(6/(fan_in+fan_out))): Glorot's uniform form")
def _xavier_uniform(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _uniform(math.sqrt(6.0 / (fan_in + fan_out)), shape, rng)


@register("he_normal", "N(0, 2/fan_in): keeps ReLU's signal through depth")
def _he_normal(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(math.sqrt(2.0 / fan_in), shape, rng)


@register("he_uniform", "U(+-sqrt(6/fan_in)): He's uniform form")
def _he_uniform(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _uniform(math.sqrt(6.0 / fan_in), shape, rng)


@register("lecun_normal", "N(0, 1/fan_in): for SELU-like and linear units")
def _lecun_normal(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    return _normal(math.sqrt(1.0 / fan_in), shape, rng)


@register("orthogonal", "a random orthogonal matrix (Saxe et al.): preserves norms")
def _orthogonal(shape: Shape, fan_in: int, fan_out: int, rng: Generator, s: float) -> Array:
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the draw uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return q.reshape(shape)
