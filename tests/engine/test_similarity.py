"""How alike the units are (cosine of incoming weight vectors) and the unit maps: each
hidden unit's activation over the boundary's grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.nn.activations import ACTIVATIONS
from engine.train.diagnostics import mean_off_diagonal, mean_similarity, unit_similarity


def trainer(**sections: dict) -> Trainer:
    raw: dict[str, dict] = {"training": {"eval_every": 20, "steps": 400}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return Trainer(ExperimentConfig.from_dict(raw))


def test_unit_similarity_is_the_cosine_of_every_two_columns() -> None:
    W = np.random.default_rng(1).standard_normal((5, 4))
    S = unit_similarity(W)
    for i in range(4):
        for j in range(4):
            u, v = W[:, i], W[:, j]
            assert S[i, j] == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_zero_vectors_are_the_same_unit_and_unlike_the_others() -> None:
    W = np.zeros((3, 3))
    W[:, 2] = [1.0, 2.0, 0.0]
    S = unit_similarity(W)
    assert S[0, 1] == S[1, 0] == 1.0
    assert S[0, 2] == S[2, 1] == 0.0
    assert S[2, 2] == pytest.approx(1.0)


def test_mean_off_diagonal_leaves_the_diagonal_out() -> None:
    S = np.array([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]])
    assert mean_off_diagonal(S) == pytest.approx(0.4)
    assert math.isnan(mean_off_diagonal(np.ones((1, 1))))


@pytest.mark.parametrize(
    "model",
    [
        {"hidden": [16, 16]},
        {"hidden": [8, 8], "activation": "maxout"},
        {"hidden": [6, 6], "init": "zeros"},
    ],
)
def test_mean_similarity_equals_the_matrix_mean_without_the_matrix(model: dict) -> None:
    t = trainer(model=model)
    t.run(60)
    for layer, mean in zip(t.network.layers[:-1], mean_similarity(t.network), strict=True):
        assert mean == pytest.approx(mean_off_diagonal(unit_similarity(layer.W)), abs=1e-12)


def test_zero_init_units_stay_one_unit() -> None:
    t = trainer(model={"hidden": [16, 16], "init": "zeros"})
    t.run(200)
    assert [step for step, _ in t.similarity] == list(range(0, 201, 20))
    assert all(means == [1.0, 1.0] for _, means in t.similarity)


def test_he_init_units_point_apart() -> None:
    t = trainer(model={"hidden": [16, 16], "init": "he_normal"})
    step, means = t.similarity[0]
    assert step == 0
    assert all(abs(m) < 0.3 for m in means), means


def test_the_similarity_survives_a_checkpoint() -> None:
    t = trainer()
    t.run(100)
    clone = Trainer.from_checkpoint(t.config, t.checkpoint())
    assert clone.similarity == t.similarity
    clone.run(40)
    t.run(40)
    assert clone.similarity == t.similarity


# ----------------------------------------------------------------------------- unit maps


@pytest.mark.parametrize(
    "data", [{"name": "spiral"}, {"name": "circles", "features": ["x1^2", "x2^2", "x1x2"]}]
)
def test_each_tile_is_the_units_own_activation_at_each_grid_point(data: dict) -> None:
    t = trainer(data=data, model={"hidden": [5, 3], "activation": "tanh"})
    t.run(50)
    xs, ys = t.grid(7, 4)
    maps = t.unit_maps(xs, ys)
    assert [m.shape for m in maps] == [(4, 7, 5), (4, 7, 3)]
    kept = [m.copy() for m in maps]
    t.run(3)  # later forwards and backwards replace the caches, never write the maps
    t.predict(np.zeros((4, 2)))
    for m, k in zip(maps, kept, strict=True):
        np.testing.assert_array_equal(m, k)
    maps = t.unit_maps(xs, ys)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            t.predict(np.array([[x, y]]))  # one point alone through the network
            for layer, tile in zip(t.network.layers[:-1], maps, strict=True):
                np.testing.assert_allclose(tile[i, j], layer.a[0], rtol=1e-5, atol=1e-6)


def test_unit_maps_lie_over_the_original_plane() -> None:
    t = trainer(data={"name": "circles", "features": ["x1^2", "x2^2"]}, model={"hidden": [3]})
    xs, ys = t.grid(5, 5)
    points = np.concatenate([t.dataset.X_train, t.dataset.X_val])
    assert xs[0] < points[:, 0].min() and xs[-1] > points[:, 0].max()
    assert ys[0] < points[:, 1].min() and ys[-1] > points[:, 1].max()
    # x1^2 + x2^2 is symmetric: the tiles are too, about the centre of the plane
    maps = t.unit_maps(np.array([-0.5, 0.5]), np.array([-0.25, 0.25]))[0]
    np.testing.assert_allclose(maps[0, 0], maps[1, 1], rtol=1e-6)


def test_mean_similarity_reads_a_wide_layer_a_chunk_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.train import diagnostics

    t = trainer(model={"hidden": [12, 9], "activation": "maxout"})
    t.run(30)
    whole = mean_similarity(t.network)
    monkeypatch.setattr(diagnostics, "_CHUNK", 5)  # a few units a chunk
    np.testing.assert_allclose(mean_similarity(t.network), whole, rtol=1e-12)
    for layer, mean in zip(t.network.layers[:-1], whole, strict=True):
        assert mean == pytest.approx(mean_off_diagonal(unit_similarity(layer.W)), abs=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_maps_stay_as_they_were_after_more_training(activation: str) -> None:
    t = trainer(model={"hidden": [4, 3], "activation": activation})
    xs, ys = t.grid(5, 3)
    maps = t.unit_maps(xs, ys)
    kept = [m.copy() for m in maps]
    t.run(2)
    t.evaluate()
    for m, k in zip(maps, kept, strict=True):
        np.testing.assert_array_equal(m, k)
