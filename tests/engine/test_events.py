"""The timeline: events detected from the diagnostics as they happen, at the step the
diagnostics show them, kept across a checkpoint, and its thresholds stated once."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.lecture.scenarios import SCENARIOS, run_scenario
from engine.thresholds import DEAD, DYING, HEALTHY_UPDATE, MOST
from engine.train.diagnostics import LAYER_STATS
from engine.train.events import Event, Timeline
from engine.train.records import EvalRecord, StepRecord


def test_the_dead_relu_event_comes_at_the_step_the_evaluations_show_it() -> None:
    trainer, verdict = run_scenario(SCENARIOS["dead_relu"])
    assert verdict.status == "observed"
    units = [layer.units for layer in trainer.network.layers[:-1]]
    dead = [e for e in trainer.events if e.kind == "dead" and e.values["level"] == DEAD]
    assert dead, [e.message for e in trainer.events]
    for layer, n in enumerate(units):
        shown = [ev for ev in trainer.evals if ev.dead[layer] / n >= DEAD]
        reported = [e for e in dead if e.layer == layer]
        assert [e.step for e in reported] == [ev.step for ev in shown[:1]], layer
        for event, ev in zip(reported, shown, strict=False):  # the first over 40%, once
            share = ev.dead[layer] / n
            assert event.values == {"share": share, "dead": ev.dead[layer], "level": DEAD}
            assert f"hidden layer {layer + 1} went {share:.0%} dead" in event.message


def evaluation(step: int, dead: list[int], train: float = 1.0, val: float = 1.0) -> EvalRecord:
    return EvalRecord(step, train, 0.5, val, 0.5, dead)


def test_dead_levels_are_reported_when_crossed_both_ways() -> None:
    timeline = Timeline([10, 3])
    for step, dead in [(0, 0), (10, 1), (20, 2), (30, 5), (40, 6), (50, 0)]:
        timeline.evaluation(evaluation(step, [dead]))
    got = [(e.step, e.values["level"]) for e in timeline.events]
    assert got == [(10, DYING), (30, DEAD), (50, DYING)]
    assert "fell back under 10% dead" in timeline.events[-1].message


def test_a_dead_event_says_how_long_after_the_rate_changed() -> None:
    timeline = Timeline([10, 3])
    timeline.evaluation(evaluation(0, [0]))
    timeline.learning_rate(120, 0.01, 0.5)
    timeline.evaluation(evaluation(140, [6]))
    assert timeline.events[-1].message == (
        "hidden layer 1 went 60% dead (6 of 10 units) at step 140, "
        "20 steps after the learning rate changed to 0.5"
    )


def test_set_learning_rate_is_an_event_with_both_rates() -> None:
    t = Trainer(ExperimentConfig())
    t.run(30)
    t.set_learning_rate(0.5)
    t.set_learning_rate(0.5)  # no change: no event
    (event,) = [e for e in t.events if e.kind == "lr"]
    assert (event.step, event.values) == (30, {"from": 0.01, "to": 0.5})


def test_the_validation_loss_turning_up_is_overfitting() -> None:
    timeline = Timeline([4, 2])
    losses = [(0, 1.0, 1.0), (10, 0.5, 0.6), (20, 0.3, 0.5), (30, 0.2, 0.52), (40, 0.1, 0.6)]
    for step, train, val in losses:
        timeline.evaluation(evaluation(step, [0], train, val))
    (event,) = timeline.events
    assert event.kind == "overfitting" and event.step == 40
    assert event.values["best_val_loss"] == 0.5 and event.values["best_step"] == 20
    timeline.evaluation(evaluation(50, [0], 0.05, 0.7))  # still overfitting: no new event
    assert len(timeline.events) == 1


def test_a_loss_spike_is_far_above_the_running_mean() -> None:
    timeline = Timeline([4, 2])
    for step in range(1, 60):
        timeline.loss(step, 1.0 if step < 30 else 0.3)
    assert timeline.events == []
    timeline.loss(60, 2.5)
    (event,) = timeline.events
    assert event.kind == "loss_spike" and event.step == 60
    assert event.values["loss"] == 2.5 and 0.3 < event.values["mean"] < 0.4


def step_record(step: int, ratio: float, saturated: float) -> StepRecord:
    stats = np.zeros((2, len(LAYER_STATS)))
    stats[:, LAYER_STATS.index("update_ratio")] = ratio
    stats[0, LAYER_STATS.index("saturated")] = saturated
    return StepRecord(step, 0.0, 1.0, 0.5, 0.01, stats)


def test_most_units_saturating_and_the_ratio_leaving_the_band() -> None:
    timeline = Timeline([10, 3])
    low, high = HEALTHY_UPDATE
    timeline.stats(step_record(25, 1e-3, 2))
    assert timeline.events == []
    timeline.stats(step_record(50, high * 1.5, MOST * 10 + 1))
    kinds = [(e.kind, e.layer) for e in timeline.events]
    assert kinds == [("saturated", 0), ("update_ratio", 0), ("update_ratio", 1)]
    assert "rose above the healthy band" in timeline.events[1].message
    timeline.stats(step_record(75, high * 0.9, 0))  # just inside the edge: not back yet
    assert [e.kind for e in timeline.events[3:]] == ["saturated"]
    timeline.stats(step_record(100, 1e-3, 0))
    assert [e.message.split(" the healthy")[0][-14:] for e in timeline.events[4:]] == [
        "came back into",
        "came back into",
    ]
    timeline.stats(step_record(125, low / 10, 0))
    assert "fell below" in timeline.events[-1].message


def test_a_divergence_is_on_the_timeline() -> None:
    cfg = ExperimentConfig.from_dict(
        {"optimizer": {"name": "sgd", "lr": 1000.0}, "model": {"init": "large_normal"}}
    )
    t = Trainer(cfg)
    result = t.run(200)
    assert result.diverged is not None
    assert t.events[-1].kind == "diverged" and t.events[-1].step == result.diverged.step


def test_the_timeline_resumes_as_one_run() -> None:
    config = SCENARIOS["dead_relu"].config
    part = Trainer(config)
    part.run(90)
    part.set_learning_rate(0.2)
    whole_lr = Trainer(config)
    whole_lr.run(90)
    whole_lr.set_learning_rate(0.2)
    whole_lr.run(110)
    resumed = Trainer.from_checkpoint(part.config, part.checkpoint())
    resumed.run(110)
    assert resumed.events == whole_lr.events
    assert any(e.kind == "lr" for e in resumed.events)


def test_events_read_back_from_their_dicts() -> None:
    event = Event(3, "dead", 1, "text", {"share": 0.5})
    assert Event.from_dict(event.to_dict()) == event
    for bad in [{"step": -1}, {"kind": "nope"}, {"layer": "x"}, {"values": {"a": "b"}}]:
        with pytest.raises(ValueError):
            Event.from_dict(event.to_dict() | bad)


def test_a_tampered_timeline_is_refused_naming_what() -> None:
    t = Trainer(ExperimentConfig())
    t.run(60)
    arrays = t.checkpoint()
    arrays["timeline"] = np.array('{"events": [], "state": {"band": 3}}')
    with pytest.raises(ValueError, match="timeline: state"):
        Trainer.from_checkpoint(t.config, arrays)


def test_the_state_keeps_infinities_and_nan() -> None:
    timeline = Timeline([3, 2])
    assert math.isinf(timeline.best_val) and math.isnan(timeline.mean_loss)
    clone = Timeline([3, 2])
    clone.load_json(timeline.to_json(), 0)
    assert math.isinf(clone.best_val) and math.isnan(clone.mean_loss)


def test_tui_nn_train_prints_the_events_as_they_happen() -> None:
    import io
    import json

    from tui_nn.cli import build_parser
    from tui_nn.cli.train import run_train

    config = SCENARIOS["dead_relu"].config
    for flags in ([], ["--json"], ["--quiet"]):
        args = build_parser().parse_args(["train", "--no-save", *flags])
        buf = io.StringIO()
        assert run_train(args, config, out=buf) == 0
        lines = buf.getvalue().splitlines()
        if flags == ["--json"]:
            events = [json.loads(line)["event"] for line in lines if '"event"' in line]
            assert any(e["kind"] == "dead" and e["step"] == 25 for e in events)
        elif flags == ["--quiet"]:
            assert not any(line.startswith("event: ") for line in lines)
        else:
            pattern = r"event: hidden layer \d went \d+% dead \(\d+ of 32 units\) at step 25"
            dead = [line for line in lines if re.fullmatch(pattern, line)]
            assert dead, lines
            # in order: the event comes before the report of a later step
            assert lines.index(dead[0]) < next(
                i for i, line in enumerate(lines) if line.startswith("step 50 ")
            )


def test_a_run_of_any_length_keeps_a_bounded_timeline() -> None:
    from engine.train.events import KEEP_FIRST, MAX_EVENTS

    timeline = Timeline([4, 2])
    timeline.learning_rate(0, 0.01, 0.02)
    loss = 0.1
    for step in range(1, 200_001):
        # a spike every 40 steps: 5000 events in all, more than the timeline keeps
        timeline.loss(step, 10.0 if step % 40 == 0 else loss)
    assert len(timeline.events) == MAX_EVENTS
    assert timeline.dropped == 200_000 // 40 + 1 - MAX_EVENTS
    assert [e.kind for e in timeline.events].count("lr") == 1  # never dropped
    assert timeline.events[KEEP_FIRST - 1].step < 5000  # the beginning is kept
    assert timeline.events[-1].step == 200_000  # and the newest
    steps = [e.step for e in timeline.events]
    assert steps == sorted(steps)


def test_the_cli_tells_each_new_event_once_when_the_timeline_is_full() -> None:
    from engine.train.events import MAX_EVENTS
    from tui_nn.cli.train import _noted, _tell_new

    t = Trainer(ExperimentConfig.from_dict({"training": {"eval_every": 0}}))
    told: list[str] = []
    for i in range(MAX_EVENTS + 50):
        t.timeline.events.append(Event(i, "loss_spike", None, f"e{i}"))
    seen = _tell_new(t, 0, lambda e: told.append(e.message))
    assert len(told) == MAX_EVENTS + 50
    t.timeline.events[:] = t.timeline.events[-MAX_EVENTS:]  # as the timeline keeps them
    t.timeline.dropped = 50
    for i in range(MAX_EVENTS + 50, MAX_EVENTS + 53):
        t.timeline._add(Event(i, "loss_spike", None, f"e{i}"))
    assert len(t.events) == MAX_EVENTS and _noted(t) == MAX_EVENTS + 53
    told.clear()
    _tell_new(t, seen, lambda e: told.append(e.message))
    assert told == [f"e{i}" for i in range(MAX_EVENTS + 50, MAX_EVENTS + 53)]
