"""One registry type for every named choice: activations, initializers, losses, optimizers,
schedules, datasets, scenarios, profiles.

    ACTIVATIONS = Registry[Factory]("activation")
    @ACTIVATIONS.register("relu")
    def _relu(...): ...
    ACTIVATIONS["relu"]          # KeyError naming the valid names when unknown
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A name no entry has; the message lists the valid names."""

    def __init__(self, kind: str, name: object, valid: list[str]) -> None:
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(valid)}")
        self.kind, self.name, self.valid = kind, name, valid

    def __str__(self) -> str:  # KeyError's own str() adds quotes around the message
        return str(self.args[0])


class Registry(Mapping[str, T], Generic[T]):
    """Names to entries, in the order they were registered."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator: @REGISTRY.register("name")."""
        return lambda entry: self.add(name, entry)

    def names(self) -> list[str]:
        return list(self._entries)

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownName(self.kind, name, self.names()) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
