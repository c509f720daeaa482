"""Activations by name: forward, backward from the cached output, and the lecture's facts.

The contract every entry keeps (tests/engine/test_kernels.py checks it):
- forward(z) may overwrite z and return it: the layer hands over its own fresh
  pre-activation, and keeps a copy first when backward needs z (needs_input).
- backward(dout, z, a) may overwrite dout (the caller hands over a fresh array), never
  z or a. Most derivatives come from the output `a`; only GELU and SiLU need `z`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.registry import Registry
from engine.thresholds import MOST_SAMPLES, SATURATION

Array = np.ndarray
Forward = Callable[[Array], Array]
Backward = Callable[[Array, Array, Array], Array]


@dataclass(frozen=True)
class Facts:
    """What the lecture says of an activation, for notes, advice and tests."""

    output_range: str
    zero_centred: bool
    saturates: bool
    can_die: bool
    cost: str
    note: str


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Forward
    backward: Backward
    needs_input: bool  # backward reads z, so the layer must cache it
    facts: Facts
    # Per-unit predicates over a batch of outputs (samples x units), counting units;
    # None: cannot happen. dead_units is THE definition of a dead unit: zero for every
    # sample it is given (the Trainer gives it the whole training set).
    dead_units: Callable[[Array], int] | None = None
    saturated_units: Callable[[Array], int] | None = None
    pieces: int = 1  # affine pieces per unit: k for maxout (the layer takes their max)
    kinked: bool = False  # not differentiable at 0 (gradient checks excuse more error)


@dataclass(frozen=True)
class ActivationParams:
    leaky_slope: float = 0.01
    elu_alpha: float = 1.0
    maxout_k: int = 2


Factory = Callable[[ActivationParams], Activation]
ACTIVATIONS = Registry[Factory]("activation")
register = ACTIVATIONS.register


def get_activation(name: str, params: ActivationParams | None = None) -> Activation:
    """The named activation; an unknown name raises UnknownName listing the valid ones."""
    return ACTIVATIONS[name](params or ActivationParams())


def facts(name: str) -> Facts:
    return get_activation(name).facts


def stable_sigmoid(z: Array) -> Array:
    """Two branches so that exp never overflows: e = exp(-|z|) is in (0, 1]."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _relu_dead(a: Array) -> int:
    """A ReLU unit is dead when it is zero for every sample: no gradient reaches it."""
    return int(np.count_nonzero(a.max(axis=0) <= 0))


def _most_samples(outside: Array) -> int:
    """Units (columns) that are `outside` for over MOST_SAMPLES of the samples (rows). A
    sum of the booleans: the same test as their mean, at half np.mean's cost a step."""
    return int(np.count_nonzero(outside.sum(axis=0) > MOST_SAMPLES * len(outside)))


def _tanh_saturated(a: Array) -> int:
    return _most_samples(np.abs(a) > SATURATION)


def _sigmoid_saturated(a: Array) -> int:
    return _most_samples((a < 1.0 - SATURATION) | (a > SATURATION))


@register("sigmoid")
def _sigmoid(p: ActivationParams) -> Activation:
    def backward(dout: Array, z: Array, a: Array) -> Array:
        dout *= a * (1.0 - a)
        return dout

    return Activation(
        "sigmoid",
        stable_sigmoid,
        backward,
        needs_input=False,
        facts=Facts(
            "(0, 1)",
            zero_centred=False,
            saturates=True,
            can_die=False,
            cost="an exp per unit",
            note="Saturates and kills gradients; outputs are not zero-centred. "
            "Use only where a (0, 1) output is wanted.",
        ),
        saturated_units=_sigmoid_saturated,
    )


@register("tanh")
def _tanh(p: ActivationParams) -> Activation:
    def backward(dout: Array, z: Array, a: Array) -> Array:
        dout *= 1.0 - a * a
        return dout

    return Activation(
        "tanh",
        np.tanh,
        backward,
        needs_input=False,
        facts=Facts(
            "(-1, 1)",
            zero_centred=True,
            saturates=True,
            can_die=False,
            cost="an exp per unit",
            note="Zero-centred, but still saturates and kills gradients. Try it, expect little.",
        ),
        saturated_units=_tanh_saturated,
    )


# np.maximum against a scalar takes NumPy's slow loop (NumPy 2.4: 4-5x the time against a
# zeros array of z's shape, with the same bits). The few shapes a run uses keep theirs,
# read-only; at most 16 of up to 2**20 entries, so the memory they hold stays small.
_ZEROS_MAX = 2**20


@lru_cache(maxsize=16)
def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    zeros = np.zeros(shape, dtype)
    zeros.setflags(write=False)
    return zeros


def _relu_forward(z: Array) -> Array:
    zero = _zeros(z.shape, z.dtype) if z.size <= _ZEROS_MAX else 0.0
    return np.maximum(z, zero, out=z)


@register("relu")
def _relu(p: ActivationParams) -> Activation:
    forward = _relu_forward

    def backward(dout: Array, z: Array, a: Array) -> Array:
        # A multiply by the mask, not dout[a <= 0] = 0: masked assignment is 20x slower
        # on big random masks.
        np.multiply(dout, a > 0, out=dout)
        return dout

    return Activation(
        "relu",
        forward,
        backward,
        needs_input=False,
        facts=Facts(
            "[0, inf)",
            zero_centred=False,
            saturates=False,
            can_die=True,
            cost="a comparison",
            note="Does not saturate for positive input, cheap, converges fast. "
            "Units can die at a high learning rate: mind it.",
        ),
        dead_units=_relu_dead,
        kinked=True,
    )


@register("leaky_relu")
def _leaky_relu(p: ActivationParams) -> Activation:
    slope = float(p.leaky_slope)

    def forward(z: Array) -> Array:
        return np.where(z > 0, z, z * slope)

    def backward(dout: Array, z: Array, a: Array) -> Array:
        dout[a <= 0] *= slope
        return dout

    return Activation(
        "leaky_relu",
        forward,
        backward,
        needs_input=False,
        facts=Facts(
            "(-inf, inf)",
            zero_centred=False,
            saturates=False,
            can_die=False,
            cost="a comparison",
            note="ReLU with a small slope for negative input: no saturation, will not die.",
        ),
        kinked=True,
    )


@register("elu")
def _elu(p: ActivationParams) -> Activation:
    alpha = float(p.elu_alpha)

    def forward(z: Array) -> Array:
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))

    def backward(dout: Array, z: Array, a: Array) -> Array:
        # For z <= 0, a = alpha * (e^z - 1), so da/dz = e^z * alpha = a + alpha.
        neg = a <= 0
        dout[neg] *= a[neg] + alpha
        return dout

    return Activation(
        "elu",
        forward,
        backward,
        needs_input=False,
        facts=Facts(
            "(-alpha, inf)",
            zero_centred=False,
            saturates=False,
            can_die=False,
            cost="an exp for negative input",
            note="Smooth ReLU whose negative side tends to -alpha; mean output closer to zero.",
        ),
    )


@register("linear")
def _linear(p: ActivationParams) -> Activation:
    def forward(z: Array) -> Array:
        return z

    def backward(dout: Array, z: Array, a: Array) -> Array:
        return dout

    return Activation(
        "linear",
        forward,
        backward,
        needs_input=False,
        facts=Facts(
            "(-inf, inf)",
            zero_centred=True,
            saturates=False,
            can_die=False,
            cost="none",
            note="No nonlinearity: any depth of linear layers is still one linear map.",
        ),
    )


_GELU_C = math.sqrt(2.0 / math.pi)


@register("gelu")
def _gelu(p: ActivationParams) -> Activation:
    # The tanh approximation (PyTorch's approximate="tanh"): NumPy has no erf.
    # z * z * z, not z**3: NumPy's power is ~100x slower on float arrays.
    def forward(z: Array) -> Array:
        return 0.5 * z * (1.0 + np.tanh(_GELU_C * (z + 0.044715 * (z * z * z))))

    def backward(dout: Array, z: Array, a: Array) -> Array:
        t = np.tanh(_GELU_C * (z + 0.044715 * (z * z * z)))
        dt = (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * z * z)
        dout *= 0.5 * (1.0 + t) + 0.5 * z * dt
        return dout

    return Activation(
        "gelu",
        forward,
        backward,
        needs_input=True,
        facts=Facts(
            "(-0.17, inf)",
            zero_centred=False,
            saturates=False,
            can_die=False,
            cost="a tanh and a cube per unit",
            note="A smooth ReLU weighted by a Gaussian's CDF (tanh form); used in transformers.",
        ),
    )


@register("silu")
def _silu(p: ActivationParams) -> Activation:
    def forward(z: Array) -> Array:
        return z * stable_sigmoid(z)

    def backward(dout: Array, z: Array, a: Array) -> Array:
        s = stable_sigmoid(z)
        dout *= s * (1.0 + z * (1.0 - s))
        return dout

    return Activation(
        "silu",
        forward,
        backward,
        needs_input=True,
        facts=Facts(
            "(-0.28, inf)",
            zero_centred=False,
            saturates=False,
            can_die=False,
            cost="an exp per unit",
            note="z * sigmoid(z), also called swish: smooth, non-monotone near zero.",
        ),
    )


@register("maxout")
def _maxout(p: ActivationParams) -> Activation:
    # The max over k pieces happens in the Maxout layer; what follows it is the identity.
    linear = _linear(p)
    return Activation(
        "maxout",
        linear.forward,
        linear.backward,
        needs_input=False,
        facts=Facts(
            "(-inf, inf)",
            zero_centred=False,
            saturates=False,
            can_die=False,
            cost="k times the weights and the matmul",
            note="max(w1.x + b1, w2.x + b2): generalizes ReLU and leaky ReLU, does not saturate, "
            "does not die, but doubles the parameters at k = 2.",
        ),
        pieces=int(p.maxout_k),
    )
