"""The lab's step budget, and experiments on disk as the lab opens them.

Both the command line (`tui-nn --config`, `--open`) and the lab's own open/save dialogs
come through here, so a file means the same thing either way.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

from engine import ExperimentConfig, Trainer
from engine.store.runs import LoadedRun, load_run
from engine.store.toml import load_config

# The lab's step budget. The engine's default (training.steps = 2000) trains in about
# 0.3 s, so a lab opened on it would show DONE almost at once. When the user gave no
# step count (no --steps, no training.steps in the experiment file) the lab trains for
# this many instead; the Optimizer panel's steps field still changes it.
LAB_STEPS = 100_000


def with_lab_budget(config: ExperimentConfig, steps_given: bool) -> ExperimentConfig:
    """The config with the lab's step budget, unless the user chose a step count."""
    if steps_given:
        return config
    return config.with_changes(training={"steps": LAB_STEPS})


def file_sets_steps(path: str | os.PathLike[str]) -> bool:
    """Whether an experiment file sets training.steps (call after load_config accepted it)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    training = raw.get("training")
    return isinstance(training, dict) and "steps" in training


def resolve(path: str) -> Path:
    """A path as typed: ~ expanded, relative to the working directory, made absolute."""
    return Path(os.path.abspath(os.path.expanduser(path.strip())))


def open_experiment(path: str | os.PathLike[str]) -> ExperimentConfig:
    """An experiment file for the lab: validated (ConfigError names the file and the key),
    with the lab's step budget when the file sets no step count."""
    config = load_config(path)
    return with_lab_budget(config, file_sets_steps(path))


def open_run(path: str | os.PathLike[str]) -> LoadedRun:
    """A run directory for the lab (RunError or ConfigError name what is wrong). A run
    that reached its step budget gets the lab's (or twice its steps, past that), so
    space trains on; a run that can still go on keeps its own."""
    run = load_run(path)
    trainer = run.trainer
    if trainer is None or trainer.diverged is not None:
        return run
    done = trainer.steps_done
    if done < trainer.config.training.steps:
        return run
    # The same run with a larger budget, from the trainer just loaded: reading the run
    # directory (weights, data) a second time would double the cost of opening it.
    config = trainer.config.with_changes(training={"steps": max(LAB_STEPS, 2 * done)})
    trainer = Trainer.from_checkpoint(config, trainer.checkpoint())
    return dataclasses.replace(
        run, config=config, trainer=trainer, history=trainer.history, evals=trainer.evals
    )
