"""The experiment options of every command: defaults, then a --config file, then the
options given."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from engine import ExperimentConfig
from engine.config import FIELDS, Setting
from engine.config.schema import names_from_text
from engine.store.toml import load_config


def widths(text: str) -> list[int]:
    """'64,64' -> [64, 64]; '' -> [] (no hidden layer)."""
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 64,64, got {text!r}"
        ) from None


# Every config field with a command-line option, by its option (declared in the schema).
OPTIONS: dict[str, Setting] = {s.flag: s for s in FIELDS.values() if s.flag}

# How the text of an option is read, by the field's kind (a bool field is a pair of flags).
PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "widths": widths,
    "names": names_from_text,
    "choice": str,
    "path": str,
    "text": str,
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
    for flag, field in OPTIONS.items():
        text = field.summary().replace("%", "%%")  # argparse formats help with %
        if field.kind == "bool":
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                flag,
                type=PARSERS[field.kind],
                default=argparse.SUPPRESS,
                metavar=field.metavar,
                help=text,
            )


def dest(flag: str) -> str:
    """The argparse attribute of an option: "--batch-size" -> "batch_size"."""
    return flag[2:].replace("-", "_")


def given_options(args: argparse.Namespace) -> list[str]:
    """The experiment options on the command line (SUPPRESS leaves the others unset)."""
    return [flag for flag in ["--config", *OPTIONS] if hasattr(args, dest(flag))]


def changes_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The options given (not --config), by section: {"optimizer": {"lr": 0.1}}."""
    changes: dict[str, dict[str, Any]] = {}
    for flag, field in OPTIONS.items():
        value = getattr(args, dest(flag), None)
        if value is not None:
            changes.setdefault(field.section, {})[field.name] = value
    data_path = changes.get("data", {}).get("path")
    if data_path:
        # Absolute, so a run's config.toml finds the data from any working directory.
        changes["data"]["path"] = os.path.abspath(data_path)
    return changes


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Defaults, then the --config file, then the options given; raises ConfigError."""
    file = getattr(args, "config", None)
    raw: dict[str, dict[str, Any]] = load_config(file).to_dict() if file else {}
    for section, values in changes_from_args(args).items():
        raw.setdefault(section, {}).update(values)
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
