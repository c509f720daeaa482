"""tui-nn's training engine: pure NumPy, no UI.

from engine import ExperimentConfig, Trainer
trainer = Trainer(ExperimentConfig.from_dict({"model": {"hidden": [16, 16]}}))
record = trainer.step()
"""

from engine.config import (
    ConfigError,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
)
from engine.train.checkpoint import CheckpointError
from engine.train.diagnostics import LAYER_STATS, LayerStats
from engine.train.records import Diverged, EvalRecord, RunResult, StepRecord
from engine.train.trainer import Trainer

__all__ = [
    "LAYER_STATS",
    "CheckpointError",
    "ConfigError",
    "DataConfig",
    "Diverged",
    "EvalRecord",
    "ExperimentConfig",
    "LayerStats",
    "ModelConfig",
    "OptimizerConfig",
    "RunResult",
    "StepRecord",
    "Trainer",
    "TrainingConfig",
]
