"""Datasets: every registered set by name, the split, standardization, CSV and NPZ loaders."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.config import ConfigError, DataConfig
from engine.data.datasets import DATASETS, Dataset, make_dataset
from engine.data.loaders import load_csv, load_npz


def make(rng_seed: int = 0, **fields: Any) -> Dataset:
    return make_dataset(DataConfig(**fields), np.random.default_rng(rng_seed))


def all_rows(d: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val])


def test_the_readme_lists_every_dataset() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text().replace("\n", " ")
    listed = re.search(r"Datasets: (.*?), or a file", readme)
    assert listed, "README.md: no 'Datasets: ..., or a file' sentence"
    assert [name.strip() for name in listed.group(1).split(",")] == list(DATASETS)
    for name, spec in DATASETS.items():
        assert spec.name == name and spec.description and "\n" not in spec.description
        assert spec.task in ("classification", "regression")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_set_by_name(name: str) -> None:
    d = make(name=name, n_samples=301, n_classes=4, train_fraction=0.8)
    spec = DATASETS[name]
    assert d.name == name and d.task == spec.task
    assert len(d.X_train) == 241 and len(d.X_val) == 60
    assert d.X_train.dtype == np.float64 and d.X_train.ndim == 2
    assert d.n_features == d.X_train.shape[1] == d.X_val.shape[1] == len(d.feature_names)
    assert np.all(np.isfinite(d.X_train)) and np.all(np.isfinite(d.X_val))
    y = all_rows(d)[1]
    if d.task == "classification":
        expected = 4 if spec.takes_n_classes else 2
        assert d.n_classes == d.n_outputs == expected == len(d.class_names)
        assert y.dtype == np.int64 and y.shape == (301,)
        counts = np.bincount(y, minlength=expected)
        assert len(counts) == expected and counts.min() >= 301 // expected  # balanced
    else:
        assert d.n_classes == 0 and y.dtype == np.float64 and y.shape == (301, 1)
        assert d.n_outputs == 1
    # standardized on the training part
    np.testing.assert_allclose(d.X_train.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_same_seed_same_data_and_noise_zero_allowed(name: str) -> None:
    a, b, c = make(1, name=name), make(1, name=name), make(2, name=name)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_train, c.X_train)
    clean = make(name=name, noise=0.0)
    assert np.all(np.isfinite(clean.X_train))


def test_no_global_random_state_used() -> None:
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    for name in DATASETS:
        make(name=name)
    assert np.random.random() == before


def test_spiral_has_k_arms() -> None:
    d = make(name="spiral", n_classes=5, n_samples=500, noise=0.0, standardize=False)
    X, y = all_rows(d)
    assert d.n_classes == 5 and set(np.unique(y)) == set(range(5))
    # noise 0: radius grows linearly along each arm, so every point lies on its arm's curve
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() == pytest.approx(1.0) and r.min() == pytest.approx(0.0)


def test_noise_free_geometry() -> None:
    X, y = all_rows(make(name="circles", noise=0.0, standardize=False))
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.where(y == 0, 1.0, 0.5))
    X, y = all_rows(make(name="xor", noise=0.0, standardize=False))
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    X, y = all_rows(make(name="sine", noise=0.0, standardize=False))
    np.testing.assert_allclose(y[:, 0], np.sin(X[:, 0]))
    X, y = all_rows(make(name="ripple", noise=0.0, standardize=False))
    np.testing.assert_allclose(y[:, 0], np.sin(X[:, 0]) * np.cos(X[:, 1]))
    X, y = all_rows(make(name="gaussians", noise=0.0, n_classes=3, standardize=False))
    assert len(np.unique(X.round(12), axis=0)) == 3


@pytest.mark.parametrize("noise", [0.0, 0.1, 1.0, 10.0])
def test_linear_stays_separable_at_any_noise(noise: float) -> None:
    X, y = all_rows(make(name="linear", noise=noise, standardize=False))
    normal = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    side = X @ normal
    assert np.all(side[y == 1] >= 0.1 - 1e-12) and np.all(side[y == 0] <= -0.1 + 1e-12)


def test_noise_spreads_points() -> None:
    def spread(noise: float) -> float:
        X, y = all_rows(make(name="circles", noise=noise, standardize=False, n_samples=2000))
        return float(np.std(np.hypot(X[:, 0], X[:, 1])[y == 0]))

    assert spread(0.0) < 1e-12 < spread(0.05) < spread(0.2)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as info:
        make(name="swirl")
    assert info.value.field == "data.name"
    assert (
        "'swirl'" in str(info.value) and "spiral" in str(info.value) and "ripple" in str(info.value)
    )


@pytest.mark.parametrize(("n", "fraction"), [(2, 0.99), (2, 0.01), (10, 1.0), (10, 0.0), (7, 0.5)])
def test_split_keeps_a_sample_each_side(n: int, fraction: float) -> None:
    d = make(name="moons", n_samples=n, train_fraction=fraction)
    assert len(d.X_train) >= 1 and len(d.X_val) >= 1
    assert len(d.X_train) + len(d.X_val) == n


def test_split_is_a_shuffle_of_the_data() -> None:
    raw = make(name="gaussians", n_samples=200, standardize=False, train_fraction=0.5)
    # the split is shuffled: validation is not just the last class
    assert len(np.unique(raw.y_val)) == 3
    # standardization uses training statistics only and applies them to both parts
    std = make(name="gaussians", n_samples=200, train_fraction=0.5)
    mean, scale = raw.X_train.mean(0), raw.X_train.std(0)
    np.testing.assert_allclose(std.X_val, (raw.X_val - mean) / scale)
    np.testing.assert_allclose(std.x_mean, mean)
    np.testing.assert_allclose(std.x_std, scale)
    assert all_rows(raw)[0].shape == (200, 2)


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"n_samples": 1}, "data.n_samples"),
        ({"n_samples": -5}, "data.n_samples"),
        ({"noise": -0.1}, "data.noise"),
        ({"name": "spiral", "n_classes": 1}, "data.n_classes"),
    ],
)
def test_bad_generator_settings(fields: dict[str, object], field_name: str) -> None:
    with pytest.raises(ConfigError) as info:
        make(0, **{"name": "moons", **fields})
    assert info.value.field == field_name


def test_file_with_one_row(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 2 samples"):
        make(path=str(write(tmp_path, "1,2,3.5\n")))


# ----------------------------------------------------------------------------- CSV


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def csv_error(path: Path, target: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        load_csv(path, target)
    assert info.value.field == "data.path"
    return str(info.value)


def test_csv_with_header_and_text_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "width,height,kind\n1.0,2,dog\n3,4.5,cat\n\n5,6,dog\n0,0,bird\n")
    X, y, task, names, classes = load_csv(path)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4.5], [5, 6], [0, 0]])
    assert X.dtype == np.float64 and task == "classification"
    assert names == ["width", "height"] and classes == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(y, [2, 1, 2, 0])
    assert y.dtype == np.int64


def test_csv_without_header_integer_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "0.5,1,3\n2,3,10\n-1,1e-3,3\n")
    X, y, task, names, classes = load_csv(path)
    assert task == "classification" and names == ["x1", "x2"]
    assert classes == ["3", "10"]  # sorted as numbers, not as text
    np.testing.assert_array_equal(y, [0, 1, 0])
    assert X.shape == (3, 2)


def test_csv_regression_and_named_target(tmp_path: Path) -> None:
    path = write(tmp_path, "price,rooms,area\n100.5,3,70\n80.25,2,55\n300,5,120\n")
    X, y, task, names, classes = load_csv(path, target="price")
    assert task == "regression" and classes == []
    assert names == ["rooms", "area"]
    np.testing.assert_array_equal(y, [[100.5], [80.25], [300.0]])
    np.testing.assert_array_equal(X, [[3, 70], [2, 55], [5, 120]])


def test_make_dataset_from_csv(tmp_path: Path) -> None:
    rows = "".join(f"{i},7,{'ab'[i % 2]}\n" for i in range(40))
    path = write(tmp_path, "a,const,label\n" + rows)
    d = make(path=str(path), name="ignored")
    assert d.name == "data.csv" and d.task == "classification" and d.n_classes == 2
    assert d.class_names == ["a", "b"] and d.feature_names == ["a", "const"]
    assert len(d.X_train) == 32 and len(d.X_val) == 8
    assert np.all(np.isfinite(d.X_train)) and np.all(d.X_train[:, 1] == 0.0)  # std 0 -> 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,x\n3,4\n", "line 3: expected 3 cells, found 2"),
        ("1,2,x\n3,4,y,5\n", "line 2: expected 3 cells, found 4"),
        ("a,b,c\n1,2,x\n3,hello,y\n", "line 3: 'hello' in column 'b' is not a number"),
        ("a,b,c\n1,,x\n", "line 2: missing value ('') in column 'b'"),
        ("a,b,c\n1,2,x\n\n1,nan,y\n", "line 4: missing value ('nan') in column 'b'"),
        ("1,2,x\nNA,3,y\n", "line 2: missing value ('NA') in column 'x1'"),
        ("NA,1,x\n3,4,y\n", "line 1: missing value ('NA') in column 'x1'"),
        ("a,b,c\n1,2,x\n3,4,\n", "line 3: missing label"),
        ("a,b,c\n1,inf,x\n", "line 2: 'inf' in column 'b' is not a finite number"),
        ("a,b,c\n1,2,x\n3,4,x\n", "at least 2 classes"),
        ("a,b,c\n", "no data rows"),
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("1;2;3\n4;5;6\n", "line 1: need a feature and a label column separated by commas"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in csv_error(write(tmp_path, text))


def test_csv_file_problems(tmp_path: Path) -> None:
    assert "file not found" in csv_error(tmp_path / "missing.csv")
    assert "unknown target column 'y'; columns: a, b, c" in csv_error(
        write(tmp_path, "a,b,c\n1,2,3\n"), target="y"
    )
    assert "no header row" in csv_error(write(tmp_path, "1,2,3\n4,5,6\n"), target="y")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00")
    assert "data.path" in csv_error(binary)


# ----------------------------------------------------------------------------- NPZ


def npz_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_npz(path)
    assert info.value.field == "data.path"
    return str(info.value)


def test_npz_classification_and_regression(tmp_path: Path) -> None:
    X = np.arange(12.0).reshape(6, 2)
    np.savez(tmp_path / "c.npz", X=X, y=np.array([5, 1, 5, 1, 9, 9]))
    X2, y, task, names, classes = load_npz(tmp_path / "c.npz")
    np.testing.assert_array_equal(X2, X)
    assert task == "classification" and classes == ["1", "5", "9"] and names == ["x1", "x2"]
    np.testing.assert_array_equal(y, [1, 0, 1, 0, 2, 2])

    np.savez(tmp_path / "f.npz", X=X, y=np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0]))
    assert load_npz(tmp_path / "f.npz").task == "classification"

    np.savez(tmp_path / "r.npz", X=X.astype(np.float32), y=np.linspace(0, 1, 6))
    table = load_npz(tmp_path / "r.npz")
    assert table.task == "regression" and table.y.shape == (6, 1) and table.X.dtype == np.float64

    np.savez(tmp_path / "r2.npz", X=X, y=np.ones((6, 3)), feature_names=np.array(["a", "b"]))
    table = load_npz(tmp_path / "r2.npz")
    assert (
        table.task == "regression" and table.y.shape == (6, 3) and table.feature_names == ["a", "b"]
    )

    np.savez(tmp_path / "s.npz", X=X, y=np.array(["b", "a", "b", "a", "a", "c"]))
    table = load_npz(tmp_path / "s.npz")
    assert table.class_names == ["a", "b", "c"]
    np.testing.assert_array_equal(table.y, [1, 0, 1, 0, 0, 2])

    d = make(path=str(tmp_path / "s.npz"))
    assert d.n_classes == 3 and d.class_names == ["a", "b", "c"] and d.name == "s.npz"


def test_npz_bad_contents(tmp_path: Path) -> None:
    X = np.zeros((4, 2))
    cases: dict[str, dict[str, Any]] = {
        "object.npz": dict(X=np.array([[1, "a"]] * 4, dtype=object), y=np.zeros(4)),
        "no_y.npz": dict(X=X),
        "lengths.npz": dict(X=X, y=np.zeros(5)),
        "flat_x.npz": dict(X=np.zeros(4), y=np.zeros(4)),
        "text_x.npz": dict(X=np.array([["a", "b"]] * 4), y=np.zeros(4)),
        "nan.npz": dict(X=np.full((4, 2), np.nan), y=np.zeros(4)),
        "one_class.npz": dict(X=X, y=np.ones(4, dtype=int)),
        "y3d.npz": dict(X=X, y=np.zeros((4, 1, 1))),
    }
    messages = {}
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
        messages[name] = npz_error(tmp_path / name)
    assert "cannot read array 'X'" in messages["object.npz"]
    assert "missing array 'y'; found: X" in messages["no_y.npz"]
    assert "one entry per row" in messages["lengths.npz"]
    assert "2-D numeric" in messages["flat_x.npz"] and "2-D numeric" in messages["text_x.npz"]
    assert "X[0, 0] = nan, features must be finite numbers" in messages["nan.npz"]
    assert "at least 2 classes" in messages["one_class.npz"]
    assert "y must be 1-D labels or 2-D targets" in messages["y3d.npz"]


def test_npz_bad_files(tmp_path: Path) -> None:
    assert "file not found" in npz_error(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps({"X": [[1.0]], "y": [0]}))
    assert "is not an .npz archive" in npz_error(pickled)
    npy = tmp_path / "single.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros((3, 2)))
    assert "single .npy array" in npz_error(npy)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert "data.path" in npz_error(empty)


def test_npz_truncated_or_corrupt_never_leaks_a_traceback(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    rng = np.random.default_rng(0)
    np.savez_compressed(good, X=rng.standard_normal((50, 3)), y=rng.integers(0, 2, 50))
    data = good.read_bytes()
    bad = tmp_path / "bad.npz"
    for cut in range(0, len(data), max(1, len(data) // 60)):
        bad.write_bytes(data[:cut])
        npz_error(bad)
    for seed in range(40):
        flipped = bytearray(data)
        where = np.random.default_rng(seed).integers(0, len(data), 8)
        for i in where:
            flipped[i] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            load_npz(bad)  # a flip may land somewhere harmless
        except ConfigError as e:
            assert e.field == "data.path"


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.path: .*use \.csv or \.npz"):
        make(path=str(write(tmp_path, "1,2\n", "data.txt")))
