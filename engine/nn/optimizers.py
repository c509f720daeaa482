"""Optimizers and learning-rate schedules by name, with PyTorch's update rules.

An optimizer turns a gradient into an update `delta` (applied as p -= delta) and keeps
its state per parameter name. The step's scalars (`factors`: lr and what the config and the
step count make of it) are computed apart from the arithmetic (`update`), in Python floats:
stacked into (M, 1) arrays they drive one update of M networks (engine.train.stacked), each
member's numbers bit for bit its own optimizer's.

Weight decay is L2 added to the gradient of the weights (not the biases), after clipping,
as torch.optim does inside step(). An optimizer writes the parameters, its state and `out`;
never the gradient it is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from engine.nn.subnormals import FLUSH_EVERY, flush_subnormals
from engine.registry import Registry

Array = np.ndarray
Factor = float | Array  # a step's scalar, or one per stacked member as an (M, 1) array


class OptimizerSettings(Protocol):
    """The optimizer fields an optimizer reads (engine.config's OptimizerConfig has them);
    nn does not import the config layer."""

    name: str
    lr: float
    momentum: float
    beta1: float
    beta2: float
    rho: float
    eps: float
    weight_decay: float
    clip_norm: float
    schedule: str
    step_size: int
    gamma: float
    decay_steps: int


class Optimizer:
    """Base: SGD. Subclasses override `delta`."""

    # State buffers that hold running averages of squared gradients: never negative.
    squares: tuple[str, ...] = ()

    def __init__(self, config: OptimizerSettings) -> None:
        self.config = config
        self.state: dict[str, Array] = {}
        self.t = 0  # updates done, for Adam's bias correction
        # Preallocated work arrays, per parameter name. Not state: a checkpoint skips them.
        self._scratch: dict[str, Array] = {}
        self._out: Array | None = None  # step_flat's delta, reused every step

    def delta(self, name: str, grad: Array, lr: float, out: Array | None = None) -> Array:
        """The update for `grad`, written into `out` when given (else a new array)."""
        return self.update(name, grad, self.factors(lr), out)

    def factors(self, lr: float) -> tuple[float, ...]:
        """The scalars this step's update multiplies by, from lr, the config and self.t."""
        return (lr,)

    def update(
        self, name: str, grad: Array, factors: Sequence[Factor], out: Array | None = None
    ) -> Array:
        """delta's arithmetic, given factors(lr): floats, or (M, 1) arrays of grad's dtype
        for M stacked members (grad and the state then have a leading member axis)."""
        (lr,) = factors
        return np.multiply(grad, lr, out=out)

    def step(
        self,
        params: dict[str, Array],
        grads: dict[str, Array],
        lr: float,
        decay_masks: dict[str, Array] | None = None,
    ) -> dict[str, Array]:
        """Update params in place; returns the deltas applied (for update/weight ratios).

        Weight decay applies where decay_masks is 1; without masks, to names ending in
        ".W". The Trainer uses step_flat, the same update on its one flat vector."""
        self.t += 1
        clip = self.config.clip_norm
        if clip > 0:
            total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
            if total > clip:
                scale = clip / (total + 1e-6)
                grads = {name: g * scale for name, g in grads.items()}
        decay = self.config.weight_decay
        deltas = {}
        for name, p in params.items():
            g = grads[name]
            if decay:
                mask = decay_masks[name] if decay_masks else float(name.endswith(".W"))
                g = g + (decay * mask) * p
            d = self.delta(name, g, lr)
            p -= d
            deltas[name] = d
        self.flush_due()
        return deltas

    def step_flat(self, theta: Array, grad: Array, lr: float, decay_mask: Array) -> Array:
        """step({"theta": theta}, {"theta": grad}, lr, {"theta": decay_mask})["theta"],
        without the dicts and into a preallocated delta: the Trainer's once-a-step path.
        The returned delta is overwritten by the next call."""
        self.t += 1
        clip = self.config.clip_norm
        if clip > 0:
            total = math.sqrt(float(np.vdot(grad, grad)))
            if total > clip:
                grad = grad * (clip / (total + 1e-6))
        decay = self.config.weight_decay
        if decay:
            grad = grad + (decay * decay_mask) * theta
        out = self._out
        if out is None or out.shape != grad.shape or out.dtype != grad.dtype:
            out = self._out = np.empty_like(grad)
        d = self.delta("theta", grad, lr, out)
        theta -= d
        self.flush_due()
        return d

    def flush_due(self) -> None:
        """Every FLUSH_EVERY updates, zero the state's subnormals (engine.nn.subnormals):
        where a gradient is zero, a running average decays into them."""
        if self.t % FLUSH_EVERY == 0:
            for buffer in self.state.values():
                flush_subnormals(buffer)

    def buffer(self, key: str, like: Array) -> Array:
        if key not in self.state:
            self.state[key] = np.zeros_like(like)
        return self.state[key]

    @property
    def n_buffers(self) -> int:
        """Arrays the size of the parameters this optimizer holds: state and work arrays."""
        return len(self.state) + len(self._scratch) + (self._out is not None)

    def scratch(self, name: str, like: Array) -> Array:
        """A work array shaped like `like`, reused across steps (contents undefined)."""
        s = self._scratch.get(name)
        if s is None or s.shape != like.shape or s.dtype != like.dtype:
            s = self._scratch[name] = np.empty_like(like)
        return s


# Each delta below does the textbook arithmetic in the same order as the one-line form
# in its comment (so results are bit for bit the same), but through `out=` and a scratch
# array: on a million-parameter net, fresh temporaries cost more than the arithmetic.


class Momentum(Optimizer):
    def factors(self, lr: float) -> tuple[float, ...]:
        return (self.config.momentum, lr)

    def update(
        self, name: str, grad: Array, factors: Sequence[Factor], out: Array | None = None
    ) -> Array:
        # buf = mu * buf + grad; delta = lr * buf
        mu, lr = factors
        buf = self.buffer(name + ".momentum", grad)
        buf *= mu
        buf += grad
        return np.multiply(buf, lr, out=out)


class Nesterov(Optimizer):
    def factors(self, lr: float) -> tuple[float, ...]:
        return (self.config.momentum, lr)

    def update(
        self, name: str, grad: Array, factors: Sequence[Factor], out: Array | None = None
    ) -> Array:
        # buf = mu * buf + grad; delta = lr * (grad + mu * buf)
        mu, lr = factors
        buf = self.buffer(name + ".momentum", grad)
        buf *= mu
        buf += grad
        out = np.multiply(buf, mu, out=out)
        out += grad
        out *= lr
        return out


class RMSProp(Optimizer):
    squares = ("square_avg",)

    def factors(self, lr: float) -> tuple[float, ...]:
        rho = self.config.rho
        return (rho, 1.0 - rho, self.config.eps, lr)

    def update(
        self, name: str, grad: Array, factors: Sequence[Factor], out: Array | None = None
    ) -> Array:
        # sq = rho * sq + (1 - rho) * grad^2; delta = lr * grad / (sqrt(sq) + eps)
        rho, one_minus_rho, eps, lr = factors
        sq = self.buffer(name + ".square_avg", grad)
        tmp = self.scratch(name, grad)
        sq *= rho
        np.multiply(grad, one_minus_rho, out=tmp)
        tmp *= grad
        sq += tmp
        np.sqrt(sq, out=tmp)
        tmp += eps
        out = np.multiply(grad, lr, out=out)
        out /= tmp
        return out


class Adam(Optimizer):
    squares = ("v",)

    def factors(self, lr: float) -> tuple[float, ...]:
        b1, b2 = self.config.beta1, self.config.beta2
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        eps = self.config.eps
        return (b1, 1.0 - b1, b2, 1.0 - b2, 1.0 / math.sqrt(correction2), eps, lr / correction1)

    def update(
        self, name: str, grad: Array, factors: Sequence[Factor], out: Array | None = None
    ) -> Array:
        # As torch.optim.Adam:
        #   m = b1 m + (1 - b1) grad;  v = b2 v + (1 - b2) grad^2
        #   delta = (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        b1, one_minus_b1, b2, one_minus_b2, inv_sqrt_correction2, eps, lr_corrected = factors
        m = self.buffer(name + ".m", grad)
        v = self.buffer(name + ".v", grad)
        tmp = self.scratch(name, grad)
        m *= b1
        np.multiply(grad, one_minus_b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(grad, one_minus_b2, out=tmp)
        tmp *= grad
        v += tmp
        denom = np.sqrt(v, out=out)  # the delta's array serves as the denominator first
        denom *= inv_sqrt_correction2
        denom += eps
        np.multiply(m, lr_corrected, out=tmp)
        return np.divide(tmp, denom, out=denom)


OPTIMIZERS = Registry[type[Optimizer]]("optimizer")
OPTIMIZERS.add("sgd", Optimizer)
OPTIMIZERS.add("momentum", Momentum)
OPTIMIZERS.add("nesterov", Nesterov)
OPTIMIZERS.add("rmsprop", RMSProp)
OPTIMIZERS.add("adam", Adam)


def make_optimizer(config: OptimizerSettings) -> Optimizer:
    """The named optimizer; an unknown name raises UnknownName listing the valid ones."""
    return OPTIMIZERS[config.name](config)


def probe(config: OptimizerSettings) -> Optimizer:
    """An optimizer of this config after one update of an empty vector: its state and
    work arrays name what a run of it keeps, without a second list of them."""
    optimizer = make_optimizer(config)
    optimizer.step_flat(np.zeros(0), np.zeros(0), 1.0, np.zeros(0))
    return optimizer


# Schedules: (base lr, step index from 0, optimizer config) -> lr at that step. A schedule's
# horizon is its own field (step_size, decay_steps), never the run's step budget.
Schedule = Callable[[float, int, OptimizerSettings], float]
SCHEDULES = Registry[Schedule]("schedule")
SCHEDULES.add("constant", lambda lr, t, c: lr)
SCHEDULES.add("step", lambda lr, t, c: lr * c.gamma ** (t // c.step_size))
SCHEDULES.add(
    "cosine",
    lambda lr, t, c: lr * 0.5 * (1.0 + math.cos(math.pi * min(t, c.decay_steps) / c.decay_steps)),
)


def learning_rate(config: OptimizerSettings, t: int) -> float:
    """The rate at step index t (from 0): config.lr under config.schedule."""
    return float(SCHEDULES[config.schedule](config.lr, t, config))
