"""verify: a run retrained from its config and seeds equals its checkpoint bit for bit;
a changed one is caught, named by array and index."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.train.verify import (
    VerifyError,
    machine_differences,
    machine_info,
    retrain,
    verify,
)


def config(**sections: dict) -> ExperimentConfig:
    raw: dict[str, dict] = {"training": {"steps": 400, "eval_every": 25}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return ExperimentConfig.from_dict(raw)


def test_an_untouched_run_is_equal() -> None:
    cfg = config(model={"hidden": [8, 8]})
    t = Trainer(cfg)
    t.run(130)  # stopped before its budget: retrained to the steps it saved
    result = verify(cfg, t.checkpoint())
    assert result.equal and result.steps == 130
    assert {"theta", "optimizer.state.theta.m", "history.raw", "timeline"} <= set(result.compared)


def test_a_changed_weight_is_named_by_layer_and_index() -> None:
    cfg = config(model={"hidden": [8, 8]})
    t = Trainer(cfg)
    t.run(50)
    saved = t.checkpoint()
    layer = t.network.layers[1]
    k = int(t.network.segment_starts[2]) + 3 * 8 + 5  # layers.1.W[3, 5]
    saved["theta"][k] = np.nextafter(saved["theta"][k], np.float32(np.inf))  # one ulp
    result = verify(cfg, saved)
    d = result.difference
    assert d is not None and (d.array, d.index) == ("layers.1.W", (3, 5))
    assert not result.state_equal
    assert d.checkpoint_key == f"theta[{k}]"
    assert float(d.retrained) == float(layer.W[3, 5])
    assert "layers.1.W[3, 5] (in theta[" in str(d)


def test_a_changed_seed_differs_from_the_first_array_on() -> None:
    cfg = config()
    t = Trainer(cfg)
    t.run(40)
    other = cfg.with_changes(training={"seed": 1})
    d = verify(other, t.checkpoint()).difference
    assert d is not None and d.array.startswith("layers.0.")


def test_a_changed_history_row_is_named_with_its_index() -> None:
    cfg = config()
    t = Trainer(cfg)
    t.run(40)
    saved = t.checkpoint()
    saved["history.raw"][7, 0] += 1.0  # a loss curve edited by hand
    result = verify(cfg, saved)
    d = result.difference
    assert d is not None and (d.array, d.index) == ("history.raw", (7, 0))
    assert result.state_equal and not result.equal  # the weights are the retrained ones


def test_learning_rate_changes_are_replayed_from_the_timeline() -> None:
    cfg = config()
    t = Trainer(cfg)
    t.run(60)
    t.set_learning_rate(0.05)
    t.run(40)
    t.set_learning_rate(0.002)
    t.run(20)
    saved, live = t.checkpoint(), t.config  # config.toml holds the last rate
    result = verify(live, saved)
    assert result.equal, result.difference
    assert [e.step for e in result.replayed] == [60, 100]
    np.testing.assert_array_equal(
        retrain(live, 120, result.replayed).network.theta, t.network.theta
    )


def test_a_diverged_run_verifies_to_its_divergence() -> None:
    cfg = config(optimizer={"name": "sgd", "lr": 1000.0}, model={"init": "large_normal"})
    t = Trainer(cfg)
    assert t.run(200).diverged is not None
    assert verify(cfg, t.checkpoint()).equal


def test_a_checkpoint_that_cannot_be_checked_is_refused() -> None:
    cfg = config()
    t = Trainer(cfg)
    t.run(10)
    saved = t.checkpoint()
    with pytest.raises(VerifyError, match="steps_done"):
        verify(cfg, {k: v for k, v in saved.items() if k != "steps_done"})
    with pytest.raises(VerifyError, match="timeline"):
        verify(cfg, saved | {"timeline": np.array("[]")})


def test_machines_differ_by_the_keys_that_change_results() -> None:
    here = machine_info()
    assert machine_differences(here, here) == []
    # An architecture this machine's BLAS is not (the suite runs on Haswell and SkylakeX).
    other = "Zen" if here.get("blas_architecture") != "Zen" else "Haswell"
    there = here | {"blas_architecture": other, "python": "3.0"}
    (line,) = machine_differences(there, here)
    assert line.startswith(f"blas_architecture: {other!r} there")
