"""Notes cards: every activation and initializer in the registries has one, in plain text,
with the lecture's points."""

from __future__ import annotations

import re

import pytest

from engine.lecture.notes import (
    ACTIVATION_NOTES,
    EXAMPLE_FAN,
    INIT_NOTES,
    Card,
    activation_card,
    all_cards,
    init_card,
)
from engine.nn.activations import ACTIVATIONS, facts
from engine.nn.initializers import INITIALIZERS, expected_std

MARKUP = re.compile(r"\[/?[a-z#@][a-z0-9 #=.$_-]*\]")  # Rich/Textual tags such as [b] [/b]


def plain(card: Card) -> None:
    assert card.title and len(card.lines) >= 4
    for line in (card.title, *card.lines):
        assert line.strip() == line and line, repr(line)
        assert not MARKUP.search(line), line
        assert "\n" not in line
    assert card.text().splitlines() == [card.title, *card.lines]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_has_a_card(name: str) -> None:
    card = activation_card(name)
    plain(card)
    text = card.text()
    f = facts(name)
    assert f"Output range: {f.output_range}" in text and f"Cost: {f.cost}" in text
    for label in ("Saturates:", "Zero-centred:", "Can die:", "Parameters:", "Rule of thumb:"):
        assert label in text, label
    assert ("Zero-centred: yes" in text) == f.zero_centred


@pytest.mark.parametrize("name", INITIALIZERS)
def test_every_initializer_has_a_card(name: str) -> None:
    card = init_card(name)
    plain(card)
    text = card.text()
    for label in ("Draws:", "Keeps the signal:", "Goes wrong:", "Use with:"):
        assert label in text, label


def test_all_cards_walks_both_registries() -> None:
    cards = all_cards()
    assert set(cards) == {f"activation:{n}" for n in ACTIVATIONS} | {
        f"init:{n}" for n in INITIALIZERS
    }


def test_the_notes_tables_keep_in_step_with_the_registries() -> None:
    # Notes are data keyed by the registries' names: none missing, none for a removed name.
    assert set(ACTIVATION_NOTES) == set(ACTIVATIONS)
    assert set(INIT_NOTES) == set(INITIALIZERS)


def test_no_std_example_where_the_std_follows_init_scale() -> None:
    def shows_std(name: str) -> bool:
        return any(line.startswith("Std:") for line in init_card(name).lines)

    assert not any(shows_std(name) for name in ("normal", "uniform", "zeros", "constant"))
    assert all(shows_std(name) for name in ("small_normal", "large_normal", "he_normal"))


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="relu"):
        activation_card("nope")
    with pytest.raises(KeyError, match="he_normal"):
        init_card("nope")


def test_the_lectures_rule_of_thumb() -> None:
    rule = {name: activation_card(name).lines[-1] for name in ACTIVATIONS}
    assert "use ReLU" in rule["relu"] and "learning rate" in rule["relu"]
    assert "try" in rule["leaky_relu"] and "try" in rule["maxout"]
    assert "do not expect much" in rule["tanh"]
    assert "(0, 1) output" in rule["sigmoid"]


def test_the_lectures_activation_facts() -> None:
    assert "twice at k = 2" in activation_card("maxout").text()
    assert "Can die: yes" in activation_card("relu").text()
    for name in ("leaky_relu", "maxout"):
        assert "Can die: no" in activation_card(name).text()
    for name in ("sigmoid", "tanh"):
        assert "Saturates: yes" in activation_card(name).text()


def test_the_lectures_init_facts() -> None:
    assert "symmetry" in init_card("zeros").text() and "symmetry" in init_card("constant").text()
    assert "vanishing" in init_card("small_normal").text()
    large = init_card("large_normal").text()
    assert "saturation" in large and "explode" in large
    assert "tanh" in init_card("xavier_normal").text().split("Use with:")[1]
    assert "ReLU" in init_card("he_normal").text().split("Use with:")[1]


@pytest.mark.parametrize("name", ["xavier_normal", "he_normal", "small_normal", "orthogonal"])
def test_std_examples_follow_the_engine_formula(name: str) -> None:
    std = expected_std(name, EXAMPLE_FAN, EXAMPLE_FAN)
    assert f"Std: {std:.3g} at fan_in = fan_out = {EXAMPLE_FAN}" in init_card(name).lines
