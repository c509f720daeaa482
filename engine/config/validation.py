"""Config validation: each field's own rule (declared in engine.config.sections), then the
rules between fields. Every error names its field and what is allowed."""

from __future__ import annotations

from typing import Protocol

from engine.config.sections import (
    FIELDS,
    DataConfig,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
)
from engine.data.datasets import DATASETS, training_size
from engine.errors import ConfigError
from engine.nn.losses import LOSSES, get_loss


class Sections(Protocol):
    """What validation reads of an ExperimentConfig (engine.config.experiment, which uses
    this module)."""

    data: DataConfig
    model: ModelConfig
    optimizer: OptimizerConfig
    training: TrainingConfig


def validate(config: Sections) -> None:
    """Raise ConfigError for the first value that is not allowed."""
    for field in FIELDS.values():
        field.check(field.value_in(config))
    if config.data.path:
        return  # the file's task and size are known once it is read: see the Trainer
    _check_loss_for_dataset(config)
    check_batch_fits(config, training_size(config.data.n_samples, config.data.train_fraction))


def _check_loss_for_dataset(config: Sections) -> None:
    loss, name = config.model.loss, config.data.name
    task = DATASETS[name].task
    if loss != "auto" and LOSSES[loss].task != task:
        raise ConfigError("model.loss", f"{loss} is for {LOSSES[loss].task}; {name} is {task}")


def check_loss_fits(loss_name: str, task: str, n_classes: int) -> None:
    """The loss must match the data: binary sigmoid loss wants exactly two classes."""
    loss = get_loss(loss_name, task)
    if loss.task != task:
        raise ConfigError("model.loss", f"{loss.name} is for {loss.task}; the data is {task}")
    if loss.name == "sigmoid_cross_entropy" and n_classes != 2:
        raise ConfigError("model.loss", f"sigmoid_cross_entropy needs 2 classes, got {n_classes}")


def check_batch_fits(config: Sections, n_train: int) -> None:
    if config.training.batch_size > n_train:
        raise ConfigError(
            "training.batch_size",
            f"must be at most the training set's {n_train} samples, "
            f"got {config.training.batch_size}",
        )
