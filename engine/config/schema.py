"""How a config field is declared: once, with everything that is said about it.

    lr: float = setting(0.01, "the base learning rate", rule=Number(0, 1e3, lo_open=True),
                        flag="--lr", label="lr", live=True)

engine.config.sections declares every field this way. Validation, the dict and TOML round
trip, the command line and its --help, the lab's panels and docs/config-reference.md all
read these declarations, so adding a hyperparameter is one `setting(...)` plus the code
that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

from engine.errors import ConfigError

SETTING = "setting"  # the dataclass field metadata key that holds a field's Setting

# ------------------------------------------------------------------ rules


class Rule(Protocol):
    """What a field's value may be."""

    def allowed(self) -> str:
        """What is allowed, e.g. "a whole number from 2 to 10"."""
        ...

    def check(self, name: str, value: Any) -> None:
        """Raise ConfigError naming the field (`name`) and what is allowed."""
        ...


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _finite(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or math.isfinite(v)  # isfinite overflows on a huge int


@dataclass(frozen=True)
class Number:
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def allowed(self) -> str:
        bounds = []
        if self.lo is not None:
            bounds.append(f"{'>' if self.lo_open else '>='} {_number(self.lo)}")
        if self.hi is not None:
            bounds.append(f"{'<' if self.hi_open else '<='} {_number(self.hi)}")
        return " ".join(["a finite number", " and ".join(bounds)]).strip()

    def check(self, name: str, value: Any) -> None:
        ok = _finite(value)
        if ok and self.lo is not None:
            ok = value > self.lo if self.lo_open else value >= self.lo
        if ok and self.hi is not None:
            ok = value < self.hi if self.hi_open else value <= self.hi
        if not ok:
            raise ConfigError(name, f"must be {self.allowed()}, got {value!r}")


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Whole:
    lo: int
    hi: int

    def allowed(self) -> str:
        return f"a whole number from {self.lo} to {self.hi}"

    def check(self, name: str, value: Any) -> None:
        if not (_whole(value) and self.lo <= value <= self.hi):
            raise ConfigError(name, f"must be {self.allowed()}, got {value!r}")


@dataclass(frozen=True)
class OneOf:
    names: Callable[[], list[str]]  # read when asked: the registries may grow

    def allowed(self) -> str:
        return "one of " + ", ".join(self.names())

    def check(self, name: str, value: Any) -> None:
        valid = self.names()
        if value not in valid:
            raise ConfigError(name, f"unknown name {value!r}; valid: {', '.join(valid)}")


@dataclass(frozen=True)
class Widths:
    """Layer widths: at most `layers` of them, each from 1 to `width`."""

    layers: int
    width: int

    def allowed(self) -> str:
        return f"at most {self.layers} widths, each from 1 to {self.width}"

    def check(self, name: str, value: Any) -> None:
        if not isinstance(value, list):
            raise ConfigError(name, f"must be a list of whole numbers, got {value!r}")
        if len(value) > self.layers:
            raise ConfigError(name, f"at most {self.layers} layers, got {len(value)}")
        for i, width in enumerate(value):
            if not (_whole(width) and 1 <= width <= self.width):
                raise ConfigError(
                    f"{name}[{i}]", f"a width must be from 1 to {self.width}, got {width!r}"
                )


@dataclass(frozen=True)
class Names:
    """A list of distinct names, each one of `names()` (read when asked), at least one."""

    names: Callable[[], list[str]]

    def allowed(self) -> str:
        return "a list of distinct names, at least one, from " + ", ".join(self.names())

    def check(self, name: str, value: Any) -> None:
        if not isinstance(value, list) or not value:
            raise ConfigError(name, f"must be {self.allowed()}, got {value!r}")
        valid = self.names()
        for i, item in enumerate(value):
            if item not in valid:
                raise ConfigError(
                    f"{name}[{i}]", f"unknown name {item!r}; valid: {', '.join(valid)}"
                )
        if len(set(value)) < len(value):
            raise ConfigError(name, f"names must be distinct, got {value!r}")


def names_from_text(text: str) -> list[str]:
    """'x1, x2,x1^2' -> ['x1', 'x2', 'x1^2']: how the command line and the lab type a list."""
    return [part.strip() for part in text.split(",") if part.strip()]


# ------------------------------------------------------------------ relevance


def value_at(config: object, key: str) -> Any:
    """config.<section>.<name> for the key "section.name"."""
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def literal(value: Any) -> str:
    """A value as TOML writes it: "spiral", [16, 16], true, 0.01."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


@dataclass(frozen=True)
class Clause:
    """The field `key` holds one of `values()` (or, when `negate`, none of them)."""

    key: str
    values: Callable[[], Collection[object]]
    negate: bool = False

    def holds(self, config: object) -> bool:
        return (value_at(config, self.key) in self.values()) != self.negate

    def text(self) -> str:
        names = ["empty" if v == "" else str(v) for v in self.values()]
        names = [", ".join(names[:-1]), names[-1]] if len(names) > 2 else names
        return f"{self.key} is {'not ' if self.negate else ''}{' or '.join(names)}"


@dataclass(frozen=True)
class When:
    """When a field applies: every clause holds. When() always applies."""

    clauses: tuple[Clause, ...] = ()

    def __call__(self, config: object) -> bool:
        return all(clause.holds(config) for clause in self.clauses)

    def __and__(self, other: When) -> When:
        return When(self.clauses + other.clauses)

    def text(self) -> str:
        """E.g. "model.activation is leaky_relu"; empty when the field always applies."""
        return " and ".join(clause.text() for clause in self.clauses)


ALWAYS = When()


def when(key: str, *values: object) -> When:
    """Applies when the field `key` holds one of `values`."""
    return When((Clause(key, lambda: values),))


def unless(key: str, *values: object) -> When:
    """Applies when the field `key` holds none of `values`."""
    return When((Clause(key, lambda: values, negate=True),))


def when_one_of(key: str, names: Callable[[], Collection[object]]) -> When:
    """Applies when the field `key` holds one of `names()`, read when asked."""
    return When((Clause(key, names),))


# ------------------------------------------------------------------ settings

# How the lab edits a field and the command line reads it; a field's kind follows from its
# default (and its choices) unless it is declared, as "path" is.
KINDS = ("bool", "int", "float", "widths", "names", "choice", "path", "text")
METAVARS = {
    "int": "N",
    "float": "X",
    "widths": "W,W",
    "names": "NAME,NAME",
    "choice": "NAME",
    "path": "FILE",
}
# What a field without a rule allows.
ANY_VALUE = {"bool": "true or false", "path": "a file path, or empty", "text": "any text"}


@dataclass(frozen=True)
class Setting:
    """Everything said about one config field. `section` and `name` are filled in when its
    dataclass is read (settings_of)."""

    default: Any
    help: str  # one line, no final period
    rule: Rule | None = None
    choices: Callable[[], list[str]] | None = None
    flag: str | None = None  # the command-line option; None: none
    label: str | None = None  # the lab's label; None: not in the lab
    panel: str = ""  # the lab panel; empty: the field's section
    kind: str = ""  # one of KINDS; empty: from the default
    when: When = ALWAYS  # where the field applies (the lab hides it elsewhere)
    live: bool = False  # a change applies to a running run (else it starts a new one)
    section: str = ""
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def metavar(self) -> str:
        return METAVARS.get(self.kind, self.name.upper())

    def value_in(self, config: object) -> Any:
        return value_at(config, self.key)

    def allowed(self) -> str:
        return self.rule.allowed() if self.rule else ANY_VALUE[self.kind]

    def check(self, value: Any) -> None:
        """Raise ConfigError naming the field when the rule refuses `value`."""
        if self.rule:
            self.rule.check(self.key, value)

    def summary(self) -> str:
        """Help, key, what is allowed, the default and where it applies: --help's text."""
        parts = [f"{self.key}: {self.allowed()}", f"default {literal(self.default)}"]
        if self.when.clauses:
            parts.append(f"used when {self.when.text()}")
        if self.live:
            parts.append("applies to a running run")
        return f"{self.help} ({'; '.join(parts)})"

    def coerce(self, value: Any) -> Any:
        """`value` as the default's type (ints for floats too); ConfigError for the rest."""
        return _coerce(self.key, self.default, value)


def _kind_of(default: Any, choices: object) -> str:
    if choices is not None:
        return "choice"
    if _names(default):
        return "names"
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("widths", list)):
        if isinstance(default, types):
            return kind
    return "text"


def setting(
    default: Any,
    help: str,
    *,
    rule: Rule | None = None,
    choices: Callable[[], list[str]] | None = None,
    flag: str | None = None,
    label: str | None = None,
    panel: str = "",
    kind: str = "",
    when: When = ALWAYS,
    live: bool = False,
) -> Any:
    """A dataclass field declared with everything said about it (see Setting); a field
    with choices is checked against them."""
    if rule is None and choices is not None:
        rule = OneOf(choices)
    kind = kind or _kind_of(default, choices)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    if rule is None and kind not in ANY_VALUE:
        raise ValueError(f"a {kind} field needs a rule: what is allowed")
    info = Setting(default, help, rule, choices, flag, label, panel, kind, when, live)
    metadata = {SETTING: info}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def settings_of(section: str, cls: type) -> tuple[Setting, ...]:
    """The Settings of a section's dataclass, in declaration order, with section and name."""
    found = []
    for f in fields(cls):
        info = f.metadata.get(SETTING)
        if not isinstance(info, Setting):
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting()")
        found.append(replace(info, section=section, name=f.name, panel=info.panel or section))
    return tuple(found)


def _names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _coerce(name: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(name, f"must be true or false, got {value!r}")
    if isinstance(default, int):
        if _whole(value):
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
    if _names(default):
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ConfigError(name, f"must be a list of names, got {value!r}")
    if isinstance(default, list):
        if isinstance(value, (list, tuple)) and all(_whole(v) for v in value):
            return list(value)
        raise ConfigError(name, f"must be a list of whole numbers, got {value!r}")
    raise ConfigError(name, "is not a configurable field")
