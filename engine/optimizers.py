"""Optimizers and learning-rate schedules by name, with PyTorch's update rules.

An optimizer turns a gradient into an update `delta` (applied as p -= delta) and keeps
its state per parameter name. Weight decay is L2 added to the gradient of the weights
(not the biases), after clipping, as torch.optim does inside step().
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.config import OptimizerConfig

Array = np.ndarray


class Optimizer:
    """Base: SGD. Subclasses override `delta`."""

    def __init__(self, config: OptimizerConfig) -> None:
        self.config = config
        self.state: dict[str, Array] = {}
        self.t = 0  # updates done, for Adam's bias correction

    def delta(self, name: str, grad: Array, lr: float) -> Array:
        return grad * lr

    def step(
        self,
        params: dict[str, Array],
        grads: dict[str, Array],
        lr: float,
        decay_masks: dict[str, Array] | None = None,
    ) -> dict[str, Array]:
        """Update params in place; returns the deltas applied (for update/weight ratios).

        Weight decay applies where decay_masks is 1; without masks, to names ending in
        ".W". The Trainer passes one flat vector with its mask, so this runs once a step."""
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
        return deltas

    def buffer(self, key: str, like: Array) -> Array:
        if key not in self.state:
            self.state[key] = np.zeros_like(like)
        return self.state[key]


class Momentum(Optimizer):
    def delta(self, name: str, grad: Array, lr: float) -> Array:
        buf = self.buffer(name + ".momentum", grad)
        buf *= self.config.momentum
        buf += grad
        return buf * lr


class Nesterov(Optimizer):
    def delta(self, name: str, grad: Array, lr: float) -> Array:
        mu = self.config.momentum
        buf = self.buffer(name + ".momentum", grad)
        buf *= mu
        buf += grad
        return (grad + mu * buf) * lr


class RMSProp(Optimizer):
    def delta(self, name: str, grad: Array, lr: float) -> Array:
        rho = self.config.rho
        sq = self.buffer(name + ".square_avg", grad)
        sq *= rho
        sq += (1.0 - rho) * grad * grad
        return grad * lr / (np.sqrt(sq) + self.config.eps)


class Adam(Optimizer):
    def delta(self, name: str, grad: Array, lr: float) -> Array:
        b1, b2 = self.config.beta1, self.config.beta2
        m = self.buffer(name + ".m", grad)
        v = self.buffer(name + ".v", grad)
        m *= b1
        m += (1.0 - b1) * grad
        v *= b2
        v += (1.0 - b2) * grad * grad
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        denom = np.sqrt(v) * (1.0 / math.sqrt(correction2))
        denom += self.config.eps
        return m * (lr / correction1) / denom


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": Optimizer,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def make_optimizer(config: OptimizerConfig) -> Optimizer:
    if config.name not in OPTIMIZERS:
        raise KeyError(f"unknown optimizer {config.name!r}; valid: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[config.name](config)


# Schedules: (base lr, step index from 0, optimizer config, total steps) -> lr at that step.
Schedule = Callable[[float, int, OptimizerConfig, int], float]
SCHEDULES: dict[str, Schedule] = {
    "constant": lambda lr, t, c, total: lr,
    "step": lambda lr, t, c, total: lr * c.gamma ** (t // c.step_size),
    "cosine": lambda lr, t, c, total: lr * 0.5 * (1.0 + math.cos(math.pi * min(t, total) / total)),
}


def learning_rate(base: float, t: int, config: OptimizerConfig, total_steps: int) -> float:
    return float(SCHEDULES[config.schedule](base, t, config, max(total_steps, 1)))
