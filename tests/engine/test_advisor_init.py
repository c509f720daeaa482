"""The initial-loss advice blames the init only where the hidden signal shows it is too
large; He on a ReLU net, which its notes card recommends, is never called too large."""

from __future__ import annotations

from engine import ExperimentConfig, Trainer
from engine.lecture.advisor import Advice, advise
from engine.lecture.notes import init_card


def chance_advice(**model: object) -> Advice:
    trainer = Trainer(ExperimentConfig().with_changes(model=model, training={"seed": 0}))
    trainer.run(1)
    found = [a for a in advise(trainer) if a.topic == "chance"]
    assert found, "the first loss should be far above chance here"
    return found[0]


def test_he_on_relu_is_not_called_too_large() -> None:
    assert "ReLU" in init_card("he_normal").text()  # the card: He is for ReLU
    for hidden in ([64], [64, 64]):  # first losses 2.3x and 2.2x chance at seed 0
        advice = chance_advice(hidden=hidden, activation="relu", init="he_normal")
        assert "too large" not in advice.message
        assert "start healthy" in advice.message and "output layer" in advice.message


def test_an_init_that_grows_the_signal_is_called_too_large() -> None:
    advice = chance_advice(hidden=[16, 16], activation="relu", init="large_normal")
    assert "too large" in advice.message and "grows" in advice.message


def test_an_init_that_saturates_the_units_is_called_too_large() -> None:
    advice = chance_advice(hidden=[64] * 4, activation="tanh", init="large_normal")
    assert "too large" in advice.message and "saturated" in advice.message
