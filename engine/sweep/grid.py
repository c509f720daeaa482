"""A sweep's grid: schema fields and the values each takes, read from `FIELD=V1,V2` texts.

A varied field is a schema field (engine.config.FIELDS), named by its key everywhere: on the
command line, in sweep.toml, in summary.csv and in the lab. Each value is read as the field's
kind and checked by the field's own rule, so a value the schema refuses is refused here,
with the same message, before anything runs.

    parse_grid(["model.activation=relu,tanh", "model.hidden=16x16,[32,32]"])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.config import FIELDS, ConfigError, Setting
from engine.config.schema import names_from_text

MAX_MEMBERS = 1000  # larger grids run only when asked (--yes)
SEED = "training.seed"  # the field a seed sweep varies (--seeds N)


@dataclass(frozen=True)
class Grid:
    """Each varied field's key and its values, in the order given."""

    fields: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return list(self.fields)

    @property
    def size(self) -> int:
        """Combinations of the values (seeds not counted)."""
        return math.prod(len(values) for values in self.fields.values())


def parse_grid(texts: Iterable[str]) -> Grid:
    """`["model.activation=relu,tanh", ...]` -> Grid; ConfigError naming the field for an
    unknown field, a field given twice, an empty list, a repeated value or a refused one."""
    fields: dict[str, list[Any]] = {}
    for text in texts:
        key, sep, rest = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("--grid", f"expected FIELD=V1,V2,... got {text!r}")
        setting = field_setting(key)
        if key in fields:
            raise ConfigError(key, "given twice in the grid; list all its values once")
        fields[key] = parse_values(setting, rest)
    return Grid(fields)


def grid_from_values(raw: dict[str, Any]) -> Grid:
    """A grid from typed values (sweep.toml): each list checked as parse_grid checks text."""
    fields: dict[str, list[Any]] = {}
    for key, values in raw.items():
        setting = field_setting(key)
        if not isinstance(values, list) or not values:
            raise ConfigError(key, "expected a non-empty list of values")
        fields[key] = _checked(setting, [setting.coerce(v) for v in values])
    return Grid(fields)


def field_setting(key: str) -> Setting:
    """The schema field `key`; ConfigError listing the known keys when there is none."""
    setting = FIELDS.get(key)
    if setting is None:
        raise ConfigError(key, f"unknown field; a grid varies a config field: {', '.join(FIELDS)}")
    return setting


def parse_values(setting: Setting, text: str) -> list[Any]:
    parts = split_values(text)
    if not parts:
        raise ConfigError(setting.key, "the grid gives no value: expected FIELD=V1,V2,...")
    return _checked(setting, [parse_value(setting, part) for part in parts])


def _checked(setting: Setting, values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        setting.check(value)
        if value in seen:
            raise ConfigError(setting.key, f"the value {value_text(value)} is given twice")
        seen.append(value)
    return values


def split_values(text: str) -> list[str]:
    """'a,b' -> ['a', 'b']; commas inside brackets stay: '[16,16],[8]' -> ['[16,16]', '[8]']."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [] if parts == [""] else parts


def parse_value(setting: Setting, text: str) -> Any:
    """One value's text as the field's kind; ConfigError naming the field if it is not one."""
    if setting.kind == "names" and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]  # [x1,x2]: brackets keep a list of names one value of the grid
    try:
        value = _READERS.get(setting.kind, str)(text)
    except ValueError:
        raise ConfigError(
            setting.key, f"{text!r} is not {_KIND_TEXT[setting.kind]}; allowed: {setting.allowed()}"
        ) from None
    return setting.coerce(value)


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _widths(text: str) -> list[int]:
    """'16x16', '[16,16]' or '16' -> [16, 16] / [16]; '[]' -> no hidden layer."""
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        parts = inner[1:-1].split(",")
    else:
        parts = inner.lower().split("x")
    parts = [part.strip() for part in parts]
    return [] if parts == [""] else [int(part) for part in parts]


_READERS: dict[str, Callable[[str], Any]] = {
    "bool": _bool,
    "int": int,
    "float": float,
    "widths": _widths,
    "names": names_from_text,
}
_KIND_TEXT = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "widths": "layer widths like 16x16 or [16,16]",
    "names": "a list of names like [x1,x2]",
}


def value_text(value: Any) -> str:
    """A value as the grid and summary.csv write it: relu, 0.01, 16x16, [] (no layer),
    [x1,x2] (a list of names)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return "x".join(map(str, value))
        return "[" + ",".join(map(str, value)) + "]"
    return str(value)


def seeds_for(grid: Grid, base_seed: int, seeds: int) -> list[int]:
    """The training seeds of a sweep: the grid's training.seed values, or `seeds` of them
    from the base config's (a seed sweep, --seeds N)."""
    if seeds < 1:
        raise ConfigError("--seeds", f"must be at least 1, got {seeds}")
    if SEED in grid.fields:
        if seeds != 1:
            raise ConfigError(SEED, "vary it with --seeds N or in the grid, not both")
        return list(grid.fields[SEED])
    last = base_seed + seeds - 1
    FIELDS[SEED].check(last)
    return list(range(base_seed, last + 1))


def varied(grid: Grid) -> list[str]:
    """The grid's keys other than the seed (the seed has its own column)."""
    return [key for key in grid.fields if key != SEED]
