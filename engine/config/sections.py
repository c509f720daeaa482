"""Experiment configuration: dataclasses, validation and dict round trip."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from engine.errors import ConfigError


@dataclass
class DataConfig:
    name: str = "spiral"
    n_samples: int = 300
    noise: float = 0.1
    n_classes: int = 3  # spiral and gaussians; the other sets fix their own
    train_fraction: float = 0.8
    standardize: bool = True
    path: str = ""  # a CSV or NPZ file; empty means the named synthetic set
    target: str = ""  # CSV column holding the label; empty means the last one


@dataclass
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [16, 16])
    activation: str = "relu"
    leaky_slope: float = 0.01
    elu_alpha: float = 1.0
    maxout_k: int = 2
    init: str = "he_normal"
    init_scale: float = 0.01  # std of "normal", limit of "uniform", value of "constant"
    bias_init: str = "zeros"
    bias_value: float = 0.0
    loss: str = "auto"  # auto: softmax cross-entropy to classify, MSE to regress


@dataclass
class OptimizerConfig:
    name: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9  # momentum and nesterov
    beta1: float = 0.9
    beta2: float = 0.999
    rho: float = 0.99  # RMSProp's decay, PyTorch's alpha
    eps: float = 1e-8
    weight_decay: float = 0.0  # L2 on weights, added to the gradient
    clip_norm: float = 0.0  # clip by global norm; 0 turns it off
    schedule: str = "constant"
    step_size: int = 1000  # step decay: multiply by gamma every step_size steps
    gamma: float = 0.5
    decay_steps: int = 2000  # cosine: steps to decay over; the rate then stays at 0


@dataclass
class TrainingConfig:
    batch_size: int = 64
    steps: int = 2000
    eval_every: int = 50
    seed: int = 0
    dtype: str = "float32"
    memory_budget_mb: float = 1024.0


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "optimizer": OptimizerConfig,
    "training": TrainingConfig,
}


@dataclass
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ExperimentConfig:
        """Build and validate; unknown keys and wrong types raise ConfigError."""
        if not isinstance(raw, dict):
            raise ConfigError("config", "must be a table of sections")
        unknown = sorted(set(raw) - set(SECTIONS))
        if unknown:
            raise ConfigError(unknown[0], f"unknown section; allowed: {', '.join(SECTIONS)}")
        parts = {
            name: _section_from_dict(name, kind, raw.get(name, {}))
            for name, kind in SECTIONS.items()
        }
        config = cls(**parts)
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, **sections: dict[str, Any]) -> ExperimentConfig:
        """A validated copy with some fields changed, e.g. with_changes(optimizer={"lr": 0.1})."""
        merged = self.to_dict()
        for name, values in sections.items():
            if name not in SECTIONS:
                raise ConfigError(name, f"unknown section; allowed: {', '.join(SECTIONS)}")
            if not isinstance(values, dict):
                raise ConfigError(name, "must be a table of fields")
            merged[name].update(values)
        return ExperimentConfig.from_dict(merged)

    def validate(self) -> None:
        from engine.config.validation import validate  # validation needs these classes

        validate(self)


def _section_from_dict(section: str, kind: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(section, "must be a table of fields")
    known = {f.name: f for f in fields(kind)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}", f"unknown field; allowed: {', '.join(known)}")
    values = {}
    default = kind()
    for name, value in raw.items():
        values[name] = _coerce(f"{section}.{name}", getattr(default, name), value)
    return replace(default, **values)


def _coerce(name: str, default: Any, value: Any) -> Any:
    """Accept a value of the default's type (ints for floats too); refuse the rest."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(name, f"must be true or false, got {value!r}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(name, f"must be a whole number, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise ConfigError(name, f"is too large: {value!r}") from None
        raise ConfigError(name, f"must be a number, got {value!r}")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ConfigError(name, f"must be a string, got {value!r}")
    if isinstance(default, list):
        if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            return list(value)
        raise ConfigError(name, f"must be a list of whole numbers, got {value!r}")
    raise ConfigError(name, "is not a configurable field")
