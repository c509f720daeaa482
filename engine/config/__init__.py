"""The experiment config: one declarative schema (engine.config.sections declares every field
once), its validation, its dict round trip and its generated reference."""

from engine.config.experiment import ExperimentConfig
from engine.config.schema import Setting
from engine.config.sections import (
    FIELDS,
    LIVE_FIELDS,
    SECTIONS,
    DataConfig,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
)
from engine.errors import ConfigError

__all__ = [
    "FIELDS",
    "LIVE_FIELDS",
    "SECTIONS",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OptimizerConfig",
    "Setting",
    "TrainingConfig",
]
