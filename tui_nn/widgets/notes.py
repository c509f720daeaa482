"""Lecture notes cards (engine.lecture.notes) in the lab: a compact card beside the activation and
init selectors, and whole cards for the notes screen.

Cards hold literal brackets ("[0, inf)"), so they are rendered as rich Text, never as
markup.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from engine.lecture.notes import Card, activation_card, init_card

# The card lines a compact card keeps, in order, and how each is labelled there. A short
# answer is the text up to the first comma, colon, semicolon or bracket.
ACTIVATION_KEYS: tuple[tuple[str, str, bool], ...] = (
    ("Output range", "range", False),
    ("Zero-centred", "centred", True),
    ("Saturates", "saturates", True),
    ("Can die", "dies", True),
)
INIT_KEYS: tuple[tuple[str, str, bool], ...] = (
    ("Draws", "draws", False),
    ("Use with", "use with", False),
)


def card_fields(card: Card) -> tuple[dict[str, str], list[str]]:
    """A card's "Key: value" lines as a dict, and its other lines."""
    fields: dict[str, str] = {}
    other: list[str] = []
    for line in card.lines:
        key, sep, value = line.partition(": ")
        if sep and len(key) <= 20 and key[:1].isupper() and "." not in key:
            fields[key] = value
        else:
            other.append(line)
    return fields, other


def short_answer(text: str) -> str:
    """'yes: a unit pushed below 0 ...' -> 'yes'; 'no for positive input (slope 1); ...'
    -> 'no for positive input'."""
    cut = len(text)
    for mark in (",", ":", ";", " ("):
        at = text.find(mark)
        if 0 < at < cut:
            cut = at
    return text[:cut].strip()


def compact_text(card: Card, keys: tuple[tuple[str, str, bool], ...], summary: bool) -> str:
    fields, other = card_fields(card)
    parts = []
    for key, label, short in keys:
        if key in fields:
            value = short_answer(fields[key]) if short else fields[key]
            parts.append(f"{label} {value}")
    lines = [" · ".join(parts)] if parts else []
    if summary and other:
        lines.append(other[0])
    return "\n".join(lines)


def _compact(
    card_fn: Callable[[str], Card], keys: tuple[tuple[str, str, bool], ...], name: str
) -> str:
    """The card's compact text, or "" for a name without a card."""
    try:
        card = card_fn(name)
    except KeyError:
        return ""
    return compact_text(card, keys, summary=False)


def compact_activation(name: str) -> str:
    return _compact(activation_card, ACTIVATION_KEYS, name)


def compact_init(name: str) -> str:
    return _compact(init_card, INIT_KEYS, name)


def card_text(card: Card) -> Text:
    """A whole card: the title in bold, then its lines as they are (no markup)."""
    text = Text(card.title, style="bold")
    for line in card.lines:
        text.append("\n")
        key, sep, value = line.partition(": ")
        if sep and len(key) <= 20 and "." not in key:
            text.append(key + sep, style="italic")
            text.append(value)
        else:
            text.append(line)
    return text


class NoteCard(Static):
    """A compact notes card under a selector; updated only when the name changes."""

    def __init__(self, kind: str, name: str, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id, classes="note-card")
        self.kind = kind  # "activation" or "init"
        self.shown = ""
        self.show(name)

    def show(self, name: str) -> None:
        if name == self.shown:
            return
        self.shown = name
        text = compact_activation(name) if self.kind == "activation" else compact_init(name)
        self.update(Text(text))
