"""Feature crosses: data.features, computed inside the Trainer, with the boundary and the
data over the original plane; a single neuron on x1^2, x2^2 separates the circles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import ConfigError, ExperimentConfig, Trainer
from engine.data.features import FEATURES, IDENTITY, cross


def config(**sections: dict) -> ExperimentConfig:
    raw: dict[str, dict] = {"training": {"steps": 2000, "eval_every": 100}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return ExperimentConfig.from_dict(raw)


def test_the_registry_holds_playgrounds_inputs() -> None:
    assert list(FEATURES) == ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
    X = np.array([[2.0, 3.0], [-1.0, 0.5]])
    np.testing.assert_array_equal(
        cross(X, list(FEATURES)),
        [
            [2.0, 3.0, 4.0, 9.0, 6.0, np.sin(2.0), np.sin(3.0)],
            [-1.0, 0.5, 1.0, 0.25, -0.5, np.sin(-1.0), np.sin(0.5)],
        ],
    )


def test_one_neuron_on_squares_separates_the_circles() -> None:
    cfg = config(
        data={"name": "circles", "features": ["x1^2", "x2^2"]},
        model={"hidden": []},
        optimizer={"lr": 0.05},
    )
    t = Trainer(cfg)
    assert t.X_train.shape[1] == 2 and len(t.network.layers) == 1
    t.run(600)
    assert t.evals[-1].val_accuracy >= 0.95
    # the same neuron on x1, x2 cannot: a line through two rings
    line = Trainer(cfg.with_changes(data={"features": list(IDENTITY)}))
    line.run(600)
    assert line.evals[-1].val_accuracy < 0.8


def test_the_network_reads_the_features_and_everything_else_the_points() -> None:
    names = ["x1", "x2", "x1x2", "sin_x2"]
    t = Trainer(config(data={"name": "moons", "features": names}, model={"hidden": [4]}))
    np.testing.assert_array_equal(t.X_train, cross(t.dataset.X_train, names).astype(np.float32))
    assert t.network.layers[0].W.shape == (4, 4)
    points = t.dataset.X_val[:5]
    logits = t.network.forward(cross(points, names).astype(np.float32))
    np.testing.assert_allclose(t.predict(points), t.loss.probabilities(logits), rtol=1e-6)
    xs, ys, probs = t.predict_grid(6, 4)
    span = np.concatenate([t.dataset.X_train, t.dataset.X_val])
    assert xs[0] < span[:, 0].min() < span[:, 0].max() < xs[-1]
    assert ys[0] < span[:, 1].min() < span[:, 1].max() < ys[-1]
    assert probs.shape == (4, 6, 2)


def test_the_default_is_the_identity_and_old_checkpoints_load() -> None:
    cfg = config()
    assert cfg.data.features == ["x1", "x2"]
    t = Trainer(cfg)
    np.testing.assert_array_equal(t.X_train, t.dataset.X_train.astype(np.float32))
    t.run(60)
    # a checkpoint from before the timeline, the similarity and the distributions
    old = {
        k: v
        for k, v in t.checkpoint().items()
        if k not in ("timeline", "similarity") and not k.startswith("distributions.")
    }
    clone = Trainer.from_checkpoint(cfg, old)
    np.testing.assert_array_equal(clone.network.theta, t.network.theta)
    assert clone.events == [] and clone.similarity == []
    clone.run(10)


def test_one_dimensional_data_keeps_the_default() -> None:
    Trainer(config(data={"name": "sine"}))  # the default: no crosses asked
    with pytest.raises(ConfigError) as info:
        Trainer(config(data={"name": "sine", "features": ["x1", "x1^2"]}))
    assert info.value.field == "data.features"
    assert "need 2-D data" in info.value.reason and "sine has 1 input" in info.value.reason


def test_a_file_of_another_width_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "three.csv"
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        f"{x:.3f},{y:.3f},{z:.3f},{int(x > 0)}" for x, y, z in rng.standard_normal((200, 3))
    ]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ConfigError) as info:
        Trainer(config(data={"path": str(path), "features": ["x1^2", "x2^2"]}))
    assert info.value.field == "data.features" and "three.csv has 3 inputs" in info.value.reason


@pytest.mark.parametrize(
    ("value", "field"),
    [(["x1", "x3"], "data.features[1]"), ([], "data.features"), (["x1", "x1"], "data.features")],
)
def test_bad_names_are_refused_naming_the_field_and_the_names(value: list, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        config(data={"features": value})
    assert info.value.field == field
    assert "x1^2" in str(info.value) or "distinct" in str(info.value)


def test_the_features_go_through_toml_and_the_command_line(tmp_path: Path) -> None:
    from engine.store.toml import load_config, save_config
    from tui_nn.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train", "--features", "x1,x2,x1^2,x2^2"])
    cfg = config_from_args(args)
    assert cfg.data.features == ["x1", "x2", "x1^2", "x2^2"]
    save_config(cfg, tmp_path / "c.toml")
    assert load_config(tmp_path / "c.toml").data.features == cfg.data.features
