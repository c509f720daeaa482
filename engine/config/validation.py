"""Config validation: every rule names its field and what is allowed.

Rules are tables (field -> check), so a new field is one line here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from engine.config import ConfigError, ExperimentConfig
from engine.data.datasets import DATASETS, training_size
from engine.nn.activations import ACTIVATIONS
from engine.nn.initializers import INITIALIZERS
from engine.nn.losses import LOSSES, get_loss
from engine.nn.optimizers import OPTIMIZERS, SCHEDULES

Check = Callable[[Any], str | None]  # returns what is allowed when the value is not


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number(
    lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False
) -> Check:
    def check(v: Any) -> str | None:
        ok = _finite(v)
        if ok and lo is not None:
            ok = v > lo if lo_open else v >= lo
        if ok and hi is not None:
            ok = v < hi if hi_open else v <= hi
        if ok:
            return None
        left = "any" if lo is None else f"{'>' if lo_open else '>='} {lo:g}"
        right = "" if hi is None else f" and {'<' if hi_open else '<='} {hi:g}"
        return f"must be a finite number {left}{right}, got {v!r}"

    return check


def whole(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
            return None
        return f"must be a whole number from {lo} to {hi}, got {v!r}"

    return check


def one_of(names: Callable[[], list[str]]) -> Check:
    def check(v: Any) -> str | None:
        valid = names()
        return None if v in valid else f"unknown name {v!r}; valid: {', '.join(valid)}"

    return check


# Fields that take a name, and the names they take (read live from the registries).
CHOICES: dict[str, Callable[[], list[str]]] = {
    "data.name": lambda: list(DATASETS),
    "model.activation": lambda: list(ACTIVATIONS),
    "model.init": lambda: list(INITIALIZERS),
    "model.bias_init": lambda: ["zeros", "constant"],
    "model.loss": lambda: ["auto", *LOSSES],
    "optimizer.name": lambda: list(OPTIMIZERS),
    "optimizer.schedule": lambda: list(SCHEDULES),
    "training.dtype": lambda: ["float32", "float64"],
}


def choices(field: str) -> list[str]:
    return CHOICES[field]()


MAX_WIDTH = 16384
MAX_LAYERS = 64

RULES: dict[str, Check] = {
    "data.n_samples": whole(4, 1_000_000),
    "data.noise": number(0.0, 10.0),
    "data.n_classes": whole(2, 10),
    "data.train_fraction": number(0.0, 1.0, lo_open=True, hi_open=True),
    "model.activation": one_of(CHOICES["model.activation"]),
    "model.leaky_slope": number(0.0, 1.0),
    "model.elu_alpha": number(0.0, 100.0, lo_open=True),
    "model.maxout_k": whole(2, 16),
    "model.init": one_of(CHOICES["model.init"]),
    "model.init_scale": number(0.0, 1e3),
    "model.bias_init": one_of(CHOICES["model.bias_init"]),
    "model.bias_value": number(-1e3, 1e3),
    "model.loss": one_of(CHOICES["model.loss"]),
    "optimizer.name": one_of(CHOICES["optimizer.name"]),
    "optimizer.lr": number(0.0, 1e3, lo_open=True),
    "optimizer.momentum": number(0.0, 1.0, hi_open=True),
    "optimizer.beta1": number(0.0, 1.0, hi_open=True),
    "optimizer.beta2": number(0.0, 1.0, hi_open=True),
    "optimizer.rho": number(0.0, 1.0, hi_open=True),
    "optimizer.eps": number(0.0, 1.0, lo_open=True),
    "optimizer.weight_decay": number(0.0, 1e3),
    "optimizer.clip_norm": number(0.0),
    "optimizer.schedule": one_of(CHOICES["optimizer.schedule"]),
    "optimizer.step_size": whole(1, 10**9),
    "optimizer.gamma": number(0.0, 1.0, lo_open=True),
    "optimizer.decay_steps": whole(1, 10**9),
    "training.batch_size": whole(1, 1_000_000),
    "training.steps": whole(1, 10**9),
    "training.eval_every": whole(0, 10**9),
    "training.seed": whole(0, 2**63 - 1),
    "training.dtype": one_of(CHOICES["training.dtype"]),
    "training.memory_budget_mb": number(0.0, 1e6, lo_open=True),
}


def validate(config: ExperimentConfig) -> None:
    """Raise ConfigError for the first value that is not allowed."""
    for name, check in RULES.items():
        section, key = name.split(".")
        problem = check(getattr(getattr(config, section), key))
        if problem:
            raise ConfigError(name, problem)
    _check_data(config)
    _check_hidden(config.model.hidden)
    _check_batch(config)
    _check_memory(config)


def _check_data(config: ExperimentConfig) -> None:
    if config.data.path:
        return  # the loader checks the file and names the line
    problem = one_of(CHOICES["data.name"])(config.data.name)
    if problem:
        raise ConfigError("data.name", problem)
    loss = config.model.loss
    task = DATASETS[config.data.name].task
    if loss != "auto" and LOSSES[loss].task != task:
        raise ConfigError(
            "model.loss", f"{loss} is for {LOSSES[loss].task}; {config.data.name} is {task}"
        )


def check_loss_fits(loss_name: str, task: str, n_classes: int) -> None:
    """The loss must match the data: binary sigmoid loss wants exactly two classes."""
    loss = get_loss(loss_name, task)
    if loss.task != task:
        raise ConfigError("model.loss", f"{loss.name} is for {loss.task}; the data is {task}")
    if loss.name == "sigmoid_cross_entropy" and n_classes != 2:
        raise ConfigError("model.loss", f"sigmoid_cross_entropy needs 2 classes, got {n_classes}")


def _check_hidden(hidden: list[int]) -> None:
    if len(hidden) > MAX_LAYERS:
        raise ConfigError("model.hidden", f"at most {MAX_LAYERS} layers, got {len(hidden)}")
    for i, width in enumerate(hidden):
        if not (isinstance(width, int) and 1 <= width <= MAX_WIDTH):
            raise ConfigError(
                f"model.hidden[{i}]", f"a width must be from 1 to {MAX_WIDTH}, got {width!r}"
            )


def _check_batch(config: ExperimentConfig) -> None:
    if config.data.path:
        return  # known once the file is read: check_batch_fits
    check_batch_fits(config, training_size(config.data.n_samples, config.data.train_fraction))


def check_batch_fits(config: ExperimentConfig, n_train: int) -> None:
    if config.training.batch_size > n_train:
        raise ConfigError(
            "training.batch_size",
            f"must be at most the training set's {n_train} samples, "
            f"got {config.training.batch_size}",
        )


def estimate_bytes(config: ExperimentConfig, n_in: int = 2, n_out: int = 10) -> int:
    """Parameters, gradients and up to two optimizer buffers, plus a batch's activations."""
    widths = [n_in, *config.model.hidden, n_out]
    k = config.model.maxout_k if config.model.activation == "maxout" else 1
    params = sum((a + 1) * b * k for a, b in pairwise(widths))
    itemsize = 4 if config.training.dtype == "float32" else 8
    activations = config.training.batch_size * sum(widths) * k * 3
    return (params * 5 + activations) * itemsize


def _check_memory(config: ExperimentConfig) -> None:
    need = estimate_bytes(config) / 2**20
    budget = config.training.memory_budget_mb
    if need > budget:
        raise ConfigError(
            "model.hidden",
            f"this net needs about {need:.0f} MB, over the memory budget of {budget:g} MB "
            "(training.memory_budget_mb)",
        )
