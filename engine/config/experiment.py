"""The experiment config: its four sections, built from a dict (TOML, JSON, the command line,
the lab) and checked field by field, and back to a dict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engine.config.sections import (
    FIELDS,
    SECTIONS,
    DataConfig,
    ModelConfig,
    OptimizerConfig,
    TrainingConfig,
)
from engine.config.validation import validate
from engine.errors import ConfigError


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
        validate(self)


def _section_from_dict(section: str, kind: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(section, "must be a table of fields")
    known = {s.name: s for s in FIELDS.values() if s.section == section}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}", f"unknown field; allowed: {', '.join(known)}")
    return kind(**{name: known[name].coerce(value) for name, value in raw.items()})
