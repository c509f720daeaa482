"""A sweep's members: one config for each combination of the grid's values and each seed.

Members are numbered in the grid's order, the seed varying fastest, so the seeds of one
combination sit side by side. A member's name is its run directory's name."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from engine.config import ExperimentConfig
from engine.sweep.grid import SEED, Grid, seeds_for, value_text, varied


@dataclass(frozen=True)
class Member:
    index: int
    name: str  # its run directory in the sweep's runs/
    config: ExperimentConfig
    values: dict[str, Any]  # the varied fields (not the seed) by key
    seed: int  # training.seed


def members(base: ExperimentConfig, grid: Grid, seeds: int = 1) -> list[Member]:
    """Every member of the grid over `seeds` training seeds (see grid.seeds_for); each
    config is validated (ConfigError naming the field for a combination refused)."""
    seed_values = seeds_for(grid, base.training.seed, seeds)
    keys = varied(grid)
    combos = list(itertools.product(*(grid.fields[key] for key in keys)))
    width = len(str(len(combos) * len(seed_values) - 1))
    found: list[Member] = []
    for combo in combos:
        values = dict(zip(keys, combo, strict=True))
        for seed in seed_values:
            changes: dict[str, dict[str, Any]] = {}
            for key, value in [*values.items(), (SEED, seed)]:
                section, name = key.split(".")
                changes.setdefault(section, {})[name] = value
            index = len(found)
            name = member_name(index, width, values, seed, keys)
            found.append(Member(index, name, base.with_changes(**changes), values, seed))
    return found


def short_names(keys: list[str]) -> dict[str, str]:
    """Each key by its field name (activation), or whole where two would read the same
    (data.seed beside the training seed)."""
    names = [key.split(".")[1] for key in [*keys, SEED]]
    return {key: key.split(".")[1] if names.count(key.split(".")[1]) == 1 else key for key in keys}


def member_name(index: int, width: int, values: dict[str, Any], seed: int, keys: list[str]) -> str:
    """'03-activation=relu-init=he_normal-seed=1', safe as a file name."""
    short = short_names(keys)
    parts = [f"{index:0{width}d}", *(f"{short[k]}={value_text(v)}" for k, v in values.items())]
    name = "-".join([*parts, f"seed={seed}"])
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)
