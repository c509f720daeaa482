"""Experiment files: an ExperimentConfig as TOML, read with tomllib and written with tomli-w.

Every key is optional (missing keys take the defaults); unknown keys are errors that name
them. A relative data.path in a file is relative to the file's folder, so an experiment file
and its data can move together.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from engine.config import ConfigError, ExperimentConfig
from engine.store.atomic import atomic_write_text

HEADER = "# tui-nn experiment. Every key is optional; a missing key takes its default.\n\n"


def config_to_toml(config: ExperimentConfig) -> str:
    import tomli_w  # the one third-party import of the engine, needed only to write

    return HEADER + tomli_w.dumps(config.to_dict())


def config_from_toml(text: str, source: str = "config") -> ExperimentConfig:
    """Parse and validate; errors are ConfigErrors naming `source` (and the line, if known)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The message already says "(at line L, column C)".
        raise ConfigError(source, f"not valid TOML: {error}") from None
    try:
        return _data_seed(raw, _cosine_horizon(raw, ExperimentConfig.from_dict(raw)))
    except ConfigError as error:
        raise ConfigError(f"{source}: {error.field}", error.reason) from None


def _cosine_horizon(raw: dict[str, Any], config: ExperimentConfig) -> ExperimentConfig:
    """A cosine schedule decayed over training.steps before optimizer.decay_steps existed: a
    file without decay_steps keeps the horizon it had, so an old run resumes unchanged."""
    if config.optimizer.schedule != "cosine" or "decay_steps" in raw.get("optimizer", {}):
        return config
    return config.with_changes(optimizer={"decay_steps": config.training.steps})


def _data_seed(raw: dict[str, Any], config: ExperimentConfig) -> ExperimentConfig:
    """training.seed drew the data too before data.seed existed: a file without data.seed
    keeps the data it had, so an old run resumes on the same samples."""
    if "seed" in raw.get("data", {}):
        return config
    return config.with_changes(data={"seed": config.training.seed})


def load_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Read an experiment file; a relative data.path is taken from the file's folder and
    made absolute, so the config means the same from any working directory."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(file), "no such config file") from None
    except IsADirectoryError:
        raise ConfigError(str(file), "is a directory, not a config file") from None
    except OSError as error:
        raise ConfigError(str(file), f"cannot read: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(str(file), f"not UTF-8 text (byte {error.start})") from None
    config = config_from_toml(text, str(file))
    data_path = config.data.path
    if data_path and not Path(data_path).is_absolute():
        config = config.with_changes(data={"path": os.path.abspath(file.parent / data_path)})
    return config


def save_config(config: ExperimentConfig, path: str | os.PathLike[str]) -> None:
    atomic_write_text(path, config_to_toml(config))
