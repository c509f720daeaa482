"""The experiment config: one declarative schema, its validation and its dict round trip."""

from engine.config.sections import (
    SECTIONS,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
)
from engine.errors import ConfigError

__all__ = [
    "SECTIONS",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OptimizerConfig",
    "TrainingConfig",
]
