"""Distributions over time: bounded memory for any run length, shared bins across layers,
columns that tile the run, and the sample a trainer takes every SAMPLE_EVERY steps."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.train.distributions import (
    COLUMNS,
    EDGES,
    KINDS,
    MAX_VALUES,
    SAMPLE_EVERY,
    DistributionStore,
    histograms,
)


def sample(rng: np.random.Generator, scale: float = 1.0) -> dict[str, list[np.ndarray]]:
    return {
        "activations": [rng.standard_normal((8, 4)) * scale, np.tanh(rng.standard_normal((8, 3)))],
        "gradients": [rng.standard_normal(20) * 1e-3, rng.standard_normal(15) * 1e-5],
    }


def test_a_million_step_run_stays_in_constant_memory() -> None:
    store = DistributionStore(2)
    rng = np.random.default_rng(0)
    values = sample(rng)  # the same sample each time: the counts are what is tested
    sizes = set()
    steps = range(SAMPLE_EVERY, 1_000_001, SAMPLE_EVERY)
    for step in steps:
        store.add(step, values)
        if step % 100_000 == 0:
            sizes.add(store.nbytes)
    assert len(sizes) == 1
    assert store.nbytes < 300_000
    for kind in KINDS:
        strips = store.strips(kind)
        assert len(strips) == 2
        for strip in strips:
            assert strip.density.shape[1] <= COLUMNS + 1
            assert np.all(np.diff(strip.steps) > 0)
            np.testing.assert_allclose(strip.density.sum(axis=0), 1.0)
    # The columns tile the run: the first starts at the first sample, the last (full or
    # pending) ends at the last; every full column holds `stride` samples.
    assert store.first[0] == SAMPLE_EVERY
    assert store.pending_last == steps[-1] or store.last[store.n - 1] == steps[-1]
    widths = store.last[: store.n] - store.first[: store.n]
    assert set(widths.tolist()) == {(store.stride - 1) * SAMPLE_EVERY}
    assert store.n * store.stride + store.pending == len(steps)


def test_every_layer_of_a_kind_shares_the_bins() -> None:
    store = DistributionStore(2)
    store.add(1, sample(np.random.default_rng(1)))
    for kind in KINDS:
        a, b = store.strips(kind)
        assert a.bin_edges is b.bin_edges or np.array_equal(a.bin_edges, b.bin_edges)
        np.testing.assert_array_equal(a.bin_edges, EDGES[kind])


def test_vanishing_reads_at_zero_and_saturation_at_plus_minus_one() -> None:
    store = DistributionStore(2)
    zeros = np.zeros((16, 4))
    saturated = np.where(np.arange(48).reshape(16, 3) % 2, 0.9999, -0.9999)
    store.add(1, {"activations": [zeros, saturated], "gradients": [zeros, np.full(9, 1e-9)]})
    vanished, at_ends = store.strips("activations")
    edges = vanished.bin_edges
    centre = np.searchsorted(edges, 0.0) - 1
    assert vanished.density[centre, 0] == 1.0
    plus, minus = np.searchsorted(edges, 1.0) - 1, np.searchsorted(edges, -1.0) - 1
    assert at_ends.density[plus, 0] == at_ends.density[minus, 0] == 0.5
    for strip in store.strips("gradients"):  # exactly 0 and 1e-9: the "vanished" bin
        middle = np.searchsorted(strip.bin_edges, 0.0) - 1
        assert strip.density[middle, 0] == 1.0


def test_values_beyond_the_axis_count_in_the_end_bins() -> None:
    store = DistributionStore(1)
    store.add(1, {"activations": [np.array([-50.0, 50.0])], "gradients": [np.array([1e3])]})
    (acts,) = store.strips("activations")
    assert acts.density[0, 0] == acts.density[-1, 0] == 0.5
    assert store.strips("gradients")[0].density[-1, 0] == 1.0


def test_a_trainer_samples_its_batch_every_sample_every_steps() -> None:
    config = ExperimentConfig.from_dict(
        {"model": {"hidden": [6, 5]}, "training": {"steps": 500, "batch_size": 32}}
    )
    t = Trainer(config)
    t.run(4 * SAMPLE_EVERY + 3)
    strips = t.distributions.strips("activations")
    assert len(strips) == 3  # two hidden layers and the output
    np.testing.assert_array_equal(strips[0].steps, SAMPLE_EVERY * np.arange(1, 5))
    # the column of step 4 * SAMPLE_EVERY counts the batch's activations of that step
    counts = t.distributions.counts["activations"]
    assert counts[0, :4].sum(axis=1).tolist() == [32 * 6] * 4
    assert counts[1, :4].sum(axis=1).tolist() == [32 * 5] * 4
    n_grad = [layer.W.size + layer.b.size for layer in t.network.layers]
    assert t.distributions.counts["gradients"][:, 0].sum(axis=1).tolist() == n_grad


def test_distributions_survive_a_checkpoint_and_resume_as_one_run() -> None:
    config = ExperimentConfig.from_dict({"training": {"steps": 5000}})
    whole = Trainer(config)
    whole.run(700)
    part = Trainer(config)
    part.run(330)
    resumed = Trainer.from_checkpoint(config, part.checkpoint())
    resumed.run(370)
    for kind in KINDS:
        for a, b in zip(
            whole.distributions.strips(kind), resumed.distributions.strips(kind), strict=True
        ):
            np.testing.assert_array_equal(a.steps, b.steps)
            np.testing.assert_array_equal(a.density, b.density)


def test_a_small_store_coarsens_to_uniform_columns() -> None:
    store = DistributionStore(1, columns=4)
    values = {"activations": [np.zeros(3)], "gradients": [np.zeros(3)]}
    for step in range(1, 12):
        store.add(step, values)
    # Columns of 1 sample fill at step 4; step 5 merges them to [1,2] [3,4] (stride 2);
    # [5,6] [7,8] fill them again, and step 10 merges to [1..4] [5..8] (stride 4): steps
    # 9, 10, 11 wait in the pending column
    assert store.stride == 4 and store.n == 2
    assert store.first[:2].tolist() == [1, 5] and store.last[:2].tolist() == [4, 8]
    assert store.pending == 3
    (strip,) = store.strips("activations")
    assert strip.steps.tolist() == [2.5, 6.5, 10.0]


def test_a_tampered_state_is_refused_naming_the_array() -> None:
    store = DistributionStore(2)
    store.add(1, sample(np.random.default_rng(2)))
    state = store.state()
    state["activations.counts"] = state["activations.counts"][:1]
    with pytest.raises(ValueError, match=r"activations\.counts"):
        DistributionStore(2).restore(state)


@pytest.mark.parametrize("kind", KINDS)
def test_the_bins_are_the_edges_bins(kind: str) -> None:
    """The binning arithmetic puts each value where np.histogram over EDGES does (values
    beyond the axis clipped into the end bins)."""
    rng = np.random.default_rng(3)
    edges = EDGES[kind]
    if kind == "activations":
        values = rng.uniform(-5.0, 5.0, 2 * MAX_VALUES)
    else:
        values = rng.choice([-1.0, 1.0], 2 * MAX_VALUES) * 10.0 ** rng.uniform(
            -9, 2, 2 * MAX_VALUES
        )
        values[:10] = 0.0
    parts = [values[:MAX_VALUES], values[MAX_VALUES:]]
    got = histograms(kind, parts)
    for layer, part in enumerate(parts):
        expected, _ = np.histogram(np.clip(part, edges[0], edges[-1]), edges)
        np.testing.assert_array_equal(got[layer], expected)


def test_a_big_layer_counts_a_fixed_spread_subset() -> None:
    big = np.arange(100_000, dtype=np.float64) / 100_000.0  # 0 .. 1: bins 15 to 20
    counts = histograms("activations", [big, big])
    assert counts.sum(axis=1).tolist() == [MAX_VALUES, MAX_VALUES]
    np.testing.assert_array_equal(counts[0], counts[1])  # the same subset each time
    share = counts[0][15:21] / MAX_VALUES  # spread: each bin near its share of [0, 1)
    expected = np.diff(np.clip(EDGES["activations"][15:22], 0.0, 1.0))
    np.testing.assert_allclose(share, expected, atol=0.03)


@pytest.mark.parametrize("n_layers", [1, 3, 12])
def test_max_nbytes_is_what_a_store_holds_from_the_start(n_layers: int) -> None:
    """The memory guard counts max_nbytes: it must be the store's real size, fixed."""
    store = DistributionStore(n_layers)
    assert store.nbytes == DistributionStore.max_nbytes(n_layers)
