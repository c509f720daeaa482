"""The experiment options of every command: defaults, then a --config file, then the
options given."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from engine import ExperimentConfig
from engine.store.toml import load_config


def widths(text: str) -> list[int]:
    """'64,64' -> [64, 64]; '' -> [] (no hidden layer)."""
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 64,64, got {text!r}"
        ) from None


# Command-line option -> (config field, parser). Every engine option is reachable.
OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--dataset": ("data.name", str),
    "--samples": ("data.n_samples", int),
    "--noise": ("data.noise", float),
    "--classes": ("data.n_classes", int),
    "--train-fraction": ("data.train_fraction", float),
    "--data": ("data.path", str),
    "--target": ("data.target", str),
    "--hidden": ("model.hidden", widths),
    "--activation": ("model.activation", str),
    "--leaky-slope": ("model.leaky_slope", float),
    "--elu-alpha": ("model.elu_alpha", float),
    "--maxout-k": ("model.maxout_k", int),
    "--init": ("model.init", str),
    "--init-scale": ("model.init_scale", float),
    "--bias-init": ("model.bias_init", str),
    "--bias-value": ("model.bias_value", float),
    "--loss": ("model.loss", str),
    "--optimizer": ("optimizer.name", str),
    "--lr": ("optimizer.lr", float),
    "--momentum": ("optimizer.momentum", float),
    "--beta1": ("optimizer.beta1", float),
    "--beta2": ("optimizer.beta2", float),
    "--rho": ("optimizer.rho", float),
    "--eps": ("optimizer.eps", float),
    "--weight-decay": ("optimizer.weight_decay", float),
    "--clip-norm": ("optimizer.clip_norm", float),
    "--schedule": ("optimizer.schedule", str),
    "--step-size": ("optimizer.step_size", int),
    "--gamma": ("optimizer.gamma", float),
    "--batch-size": ("training.batch_size", int),
    "--steps": ("training.steps", int),
    "--eval-every": ("training.eval_every", int),
    "--seed": ("training.seed", int),
    "--dtype": ("training.dtype", str),
    "--memory-budget-mb": ("training.memory_budget_mb", float),
}


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("experiment (a --config file, then these options)")
    # SUPPRESS: a subcommand's unset option must not erase one given before it.
    group.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="a TOML experiment file; the options below override it",
    )
    for flag, (field, kind) in OPTIONS.items():
        group.add_argument(
            flag,
            type=kind,
            default=argparse.SUPPRESS,
            metavar=field.split(".")[1].upper(),
            help=f"sets {field}",
        )


def given_options(args: argparse.Namespace) -> list[str]:
    """The experiment options on the command line (SUPPRESS leaves the others unset)."""
    flags = ["--config", *OPTIONS]
    return [flag for flag in flags if hasattr(args, flag[2:].replace("-", "_"))]


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Defaults, then the --config file, then the options given; raises ConfigError."""
    file = getattr(args, "config", None)
    raw: dict[str, dict[str, Any]] = load_config(file).to_dict() if file else {}
    for flag, (field, _) in OPTIONS.items():
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            section, key = field.split(".")
            raw.setdefault(section, {})[key] = value
    data_path = raw.get("data", {}).get("path")
    if data_path:
        # Absolute, so a run's config.toml finds the data from any working directory.
        raw["data"]["path"] = os.path.abspath(data_path)
    return ExperimentConfig.from_dict(raw)


def count(text: str) -> int:
    """A whole number >= 0, for options that are not config fields."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value
