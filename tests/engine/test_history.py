"""History: exact min/max/mean under merging, gapless rows, bounded memory, save/load, CSV."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.train.history import History


def fill(history: History, values: np.ndarray, first_step: int = 1) -> None:
    for i, row in enumerate(values):
        history.append(first_step + i, row)


def level_buckets(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """first, last, count of every stored bucket, oldest first, read from state()."""
    state = history.state()
    n_levels = sum(1 for key in state if key.endswith(".first"))
    keys = [f"level{i}" for i in range(n_levels, 0, -1)]
    raw = state["raw_steps"]
    first = np.concatenate([*(state[k + ".first"] for k in keys), raw])
    last = np.concatenate([*(state[k + ".last"] for k in keys), raw])
    count = np.concatenate([*(state[k + ".count"] for k in keys), np.ones(len(raw), np.int64)])
    return first, last, count


def test_empty_history() -> None:
    h = History(["loss", "acc"])
    assert len(h) == 0
    assert h.last() is None
    s = h.series("loss")
    assert len(s) == 0 and s.mean.shape == (0,) and s.min.shape == (0,) and s.max.shape == (0,)
    assert list(h.rows()) == []
    assert History.from_state(h.state()).state().keys() == h.state().keys()


def test_short_history_is_raw() -> None:
    h = History(["a", "b"])
    values = np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]])
    fill(h, values, first_step=5)
    s = h.series("b")
    np.testing.assert_array_equal(s.steps, [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(s.mean, values[:, 1])
    np.testing.assert_array_equal(s.min, values[:, 1])
    np.testing.assert_array_equal(s.max, values[:, 1])
    np.testing.assert_array_equal(s.count, [1, 1, 1])
    assert h.last() == {"a": 2.0, "b": 20.0}
    assert len(h) == 3


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="capacity"):
        History(["a"], capacity=10)
    h = History(["a", "b"])
    with pytest.raises(ValueError, match="expected 2 values"):
        h.append(1, np.array([1.0]))
    with pytest.raises(KeyError, match="unknown column 'c'"):
        h.series("c")
    with pytest.raises(ValueError, match="max_points"):
        h.series("a", max_points=0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 3000),
    capacity=st.sampled_from([8, 12, 16, 64]),
    max_levels=st.integers(1, 4),
    max_points=st.integers(1, 300),
)
def test_series_stats_are_exact(
    seed: int, n: int, capacity: int, max_levels: int, max_points: int
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n, 3)) * rng.uniform(0.1, 100.0, 3)
    h = History(["x", "y", "z"], capacity=capacity, max_levels=max_levels)
    fill(h, values)
    for col, name in enumerate(h.columns):
        s = h.series(name, max_points=max_points)
        truth = values[:, col]
        assert 1 <= len(s) <= max_points
        assert s.min.min() == truth.min()
        assert s.max.max() == truth.max()
        assert s.count.sum() == n
        assert np.all(s.min <= s.mean + 1e-9 * np.abs(s.mean)) and np.all(
            s.mean <= s.max + 1e-9 * np.abs(s.max)
        )
        weighted = (s.mean * s.count).sum() / s.count.sum()
        assert weighted == pytest.approx(truth.mean(), rel=1e-9, abs=1e-9)
        assert np.all(np.diff(s.steps) > 0)
        # The newest row is always in the last point: a live plot never lags.
        assert s.min[-1] <= truth[-1] <= s.max[-1]
    assert h.last() == pytest.approx(dict(zip(h.columns, values[-1], strict=True)))


def test_each_bucket_is_exact_against_brute_force() -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal((5000, 2))
    h = History(["a", "b"], capacity=16, max_levels=3)
    fill(h, values)
    s = h.series("b", max_points=10**9)  # no reduction: the stored buckets themselves
    first, last, count = level_buckets(h)
    for i in range(len(first)):
        chunk = values[first[i] - 1 : last[i], 1]  # steps start at 1
        assert len(chunk) == count[i]
        assert s.min[i] == chunk.min() and s.max[i] == chunk.max()
        assert s.mean[i] == pytest.approx(chunk.mean(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("max_levels", [1, 2, 8])
def test_rows_cover_the_run_without_gaps_or_overlaps(max_levels: int) -> None:
    rng = np.random.default_rng(max_levels)
    n = 3001
    values = rng.uniform(-1.0, 1.0, (n, 2))
    h = History(["a", "b"], capacity=32, max_levels=max_levels)
    fill(h, values)
    first, last, count = level_buckets(h)
    assert first[0] == 1 and last[-1] == n
    np.testing.assert_array_equal(first[1:], last[:-1] + 1)  # each bucket starts where one ends
    np.testing.assert_array_equal(count, last - first + 1)
    rows = list(h.rows())
    assert len(rows) == len(first)
    steps = np.array([step for step, _ in rows])
    means = np.array([row for _, row in rows])
    np.testing.assert_array_equal(steps, (first + last) / 2)
    np.testing.assert_allclose((means * count[:, None]).sum(0) / n, values.mean(0), rtol=1e-12)
    # The newest rows stay raw.
    np.testing.assert_array_equal(means[-1], values[-1])


def test_range_query() -> None:
    rng = np.random.default_rng(3)
    n = 20000
    values = rng.standard_normal((n, 1))
    h = History(["a"], capacity=64)
    fill(h, values)
    # Inside the raw tail the answer is exact, row by row.
    s = h.series("a", start=n - 10, end=n - 5)
    np.testing.assert_array_equal(s.steps, np.arange(n - 10, n - 4))
    np.testing.assert_array_equal(s.mean, values[n - 11 : n - 5, 0])
    # Older ranges come back as the whole buckets that touch them: a superset, never less.
    start, end = 1000, 3000
    s = h.series("a", start=start, end=end, max_points=50)
    inside = values[start - 1 : end, 0]
    assert len(s) <= 50
    assert s.min.min() <= inside.min() and s.max.max() >= inside.max()
    assert end - start + 1 <= s.count.sum() < end - start + 1 + 2 * 64 * 2**8
    assert s.steps[0] <= start + 64 * 2**8 and s.steps[-1] >= end - 64 * 2**8
    assert len(h.series("a", start=n + 1)) == 0


def test_spike_in_the_newest_step_is_visible() -> None:
    h = History(["loss"], capacity=64)
    for step in range(1, 50_001):
        h.append(step, np.array([1.0]))
    h.append(50_001, np.array([1e6]))
    s = h.series("loss", max_points=100)
    assert s.max[-1] == 1e6 and s.max[:-1].max() == 1.0


def test_memory_stops_growing() -> None:
    h = History([f"c{i}" for i in range(30)], capacity=256, max_levels=4)
    row = np.arange(30, dtype=float)
    for step in range(100_000):
        h.append(step, row)
    at_100k = h.nbytes
    for step in range(100_000, 200_000):
        h.append(step, row + step)
    assert h.nbytes == at_100k
    s = h.series("c0", max_points=500)
    assert s.count.sum() == 200_000 and s.max.max() == 199_999.0


def test_million_steps_thirty_columns() -> None:
    columns = [f"c{i}" for i in range(30)]
    h = History(columns)
    block = np.random.default_rng(0).standard_normal((4096, 30))
    n = 1_000_000
    for step in range(n):
        h.append(step, block[step & 4095])
    assert len(h) == n
    assert h.nbytes < 50e6
    s = h.series("c7", max_points=2000)
    assert len(s) <= 2000 and s.count.sum() == n
    assert s.max.max() == block[:, 7].max() and s.min.min() == block[:, 7].min()


def test_state_round_trip_through_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    values = rng.standard_normal((2500, 4))
    h = History(["loss", "acc", "lr", "layers.0.dead"], capacity=16, max_levels=3)
    fill(h, values)
    np.savez(tmp_path / "h.npz", allow_pickle=False, **h.state())
    with np.load(tmp_path / "h.npz", allow_pickle=False) as f:
        loaded = History.from_state({key: f[key] for key in f.files})
    assert loaded.columns == h.columns and len(loaded) == len(h) and loaded.nbytes == h.nbytes
    a, b = h.state(), loaded.state()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    # A resumed history goes on exactly like the original.
    more = rng.standard_normal((700, 4))
    fill(h, more, first_step=2501)
    fill(loaded, more, first_step=2501)
    for key, value in h.state().items():
        np.testing.assert_array_equal(value, loaded.state()[key])


def test_to_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    values = rng.standard_normal((1000, 2))
    h = History(["loss", "acc"], capacity=16)
    fill(h, values)
    path = tmp_path / "metrics.csv"
    path.write_text("old contents\n")
    h.to_csv(path)
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["step", "loss", "acc"]
    rows = list(h.rows())
    assert len(table) - 1 == len(rows)
    got = np.array(table[1:], dtype=float)
    np.testing.assert_allclose(got[:, 0], [step for step, _ in rows])
    np.testing.assert_allclose(got[:, 1:], np.array([m for _, m in rows]), rtol=1e-9)
    assert os.listdir(tmp_path) == ["metrics.csv"]  # no temp file left behind


def test_to_csv_failure_leaves_old_file(tmp_path: Path) -> None:
    h = History(["loss"])
    h.append(1, np.array([0.5]))
    target = tmp_path / "metrics.csv"
    target.mkdir()  # os.replace onto a directory fails
    with pytest.raises(OSError):
        h.to_csv(target)
    assert os.listdir(tmp_path) == ["metrics.csv"] and target.is_dir()


# ----------------------------------------------------------------------------- checked state


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3000),
    capacity=st.sampled_from([8, 12, 16, 64]),
    max_levels=st.integers(1, 4),
)
def test_every_state_passes_its_own_checks(
    seed: int, n: int, capacity: int, max_levels: int
) -> None:
    """The checks refuse only what append() never makes."""
    rng = np.random.default_rng(seed)
    h = History(["a", "b"], capacity=capacity, max_levels=max_levels)
    fill(h, rng.standard_normal((n, 2)))
    loaded = History.from_state(h.state(), like=History(["a", "b"], capacity, max_levels))
    for key, value in h.state().items():
        np.testing.assert_array_equal(value, loaded.state()[key], err_msg=key)
    more = rng.standard_normal((capacity * 3, 2))  # and it goes on appending and merging
    fill(h, more, first_step=n + 1)
    fill(loaded, more, first_step=n + 1)
    assert loaded.series("b").max.max() == h.series("b").max.max()
    assert loaded.last_step == h.last_step == n + capacity * 3


def broken(h: History, **changes: np.ndarray) -> dict[str, np.ndarray]:
    state = h.state()
    state.update(changes)
    return state


def test_a_bad_state_raises_naming_the_array() -> None:
    h = History(["loss", "accuracy"], capacity=16, max_levels=2)
    fill(h, np.column_stack([np.linspace(1, 0, 100), np.full(100, np.nan)]))
    like = History(["loss", "accuracy"], capacity=16, max_levels=2)
    ok = History.from_state(h.state(), like, nan_columns=("accuracy",))
    first = ok.first()
    assert first is not None and first["loss"] == 1.0 and np.isnan(first["accuracy"])
    state = h.state()
    cases = {
        "accuracy NaN not allowed": (state, "raw: holds nan"),
        "missing raw": ({k: v for k, v in state.items() if k != "raw"}, "raw: missing"),
        "unknown array": (broken(h, extra=np.zeros(2)), "extra: not a history array"),
        "a level too many": (broken(h, **{"level3.first": np.zeros(4, np.int64)}), "level3"),
        "wrong kind": (broken(h, raw_steps=state["raw_steps"].astype(float)), "raw_steps: float64"),
        "other columns": (broken(h, columns=np.array(["loss", "acc"])), "columns: not this"),
        "other capacity": (broken(h, meta=np.array([32, 2, 100])), "meta: capacity 32 and 2"),
        "inf in a level": (
            broken(h, **{"level1.min": np.full_like(state["level1.min"], np.inf)}),
            "level1.min: holds inf",
        ),
    }
    for name, (bad, expected) in cases.items():
        nan_columns = () if name == "accuracy NaN not allowed" else ("accuracy",)
        with pytest.raises(ValueError, match=expected):
            History.from_state(bad, like, nan_columns)


def test_max_nbytes_is_what_a_full_history_holds() -> None:
    columns = [f"c{i}" for i in range(7)]
    h = History(columns, capacity=16, max_levels=3)
    assert h.nbytes < History.max_nbytes(7, 16, 3)
    fill(h, np.ones((5000, 7)))
    assert h.nbytes == History.max_nbytes(7, 16, 3)
    fill(h, np.ones((5000, 7)), first_step=5001)
    assert h.nbytes == History.max_nbytes(7, 16, 3)
    assert h.last_step == 10000 and History(columns).last_step is None
