"""Labels, targets and files are checked before the loss sees them: every refusal names the
array (and its entry) or the file as given and where it was looked for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import ConfigError, ExperimentConfig, Trainer
from engine.config import DataConfig
from engine.data.datasets import DATASETS, Dataset, make_dataset, register
from engine.data.loaders import load_csv, load_file, load_npz
from engine.registry import UnknownName
from engine.store.toml import load_config

RNG = np.random.default_rng(0)
X40 = RNG.standard_normal((40, 2))


def labels40() -> np.ndarray:
    return np.arange(40) % 3  # 0, 1, 2, 0, ...


def error(call: Any, *args: Any, **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        call(*args, **kwargs)
    return info.value


def dataset(**fields: Any) -> Dataset:
    """A small valid classification set, with `fields` changed."""
    values: dict[str, Any] = {
        "name": "made",
        "task": "classification",
        "X_train": X40[:30],
        "y_train": labels40()[:30],
        "X_val": X40[30:],
        "y_val": labels40()[30:],
        "n_classes": 3,
        "feature_names": ["a", "b"],
    }
    return Dataset(**(values | fields))


def trainer_config(**training: Any) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {"model": {"hidden": [8]}, "training": {"batch_size": 10, "steps": 5, **training}}
    )


# ----------------------------------------------------------------------------- NPZ labels


def save_npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


def test_npz_class_names_make_y_class_indices(tmp_path: Path) -> None:
    y = np.array([2, 0, 2, 0, 0, 2])  # class 1 has no sample: the indices stay as they are
    path = save_npz(tmp_path / "d.npz", X=X40[:6], y=y, class_names=np.array(["a", "b", "c"]))
    table = load_npz(path)
    assert table.task == "classification" and table.class_names == ["a", "b", "c"]
    np.testing.assert_array_equal(table.y, y, strict=False)
    assert table.y.dtype == np.int64
    d = make_dataset(DataConfig(path=str(path), train_fraction=0.5), np.random.default_rng(0))
    assert d.n_classes == 3 and d.n_outputs == 3


@pytest.mark.parametrize(
    ("bad", "shown"),
    [(3, "y[17] = 3"), (-1, "y[17] = -1"), (1.5, "y[17] = 1.5"), (np.nan, "y[17] = nan")],
)
def test_npz_labels_outside_the_class_names_are_refused(
    tmp_path: Path, bad: float, shown: str
) -> None:
    y = labels40().astype(np.float64)
    y[17] = bad
    path = save_npz(tmp_path / "d.npz", X=X40, y=y, class_names=np.array(["a", "b", "c"]))
    message = str(error(load_npz, path))
    assert message == (
        f"data.path: {path}: {shown}, labels must be whole numbers 0..2 (3 class_names)"
    )


def test_npz_class_names_must_be_strings_for_two_classes_or_more(tmp_path: Path) -> None:
    path = save_npz(tmp_path / "d.npz", X=X40, y=labels40(), class_names=np.array([1, 2, 3]))
    assert "class_names must be a 1-D array of strings" in str(error(load_npz, path))
    path = save_npz(tmp_path / "e.npz", X=X40, y=np.zeros(40), class_names=np.array(["only"]))
    assert "class_names must name at least 2 classes, got 1" in str(error(load_npz, path))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": X40, "y": np.r_[np.nan, np.ones(39)]}, "y[0] = nan, labels and targets must be"),
        ({"X": X40, "y": np.c_[np.ones(40), np.r_[np.ones(39), np.inf]]}, "y[39, 1] = inf"),
        ({"X": np.r_[X40[:3], [[1.0, np.inf]], X40[4:]], "y": labels40()}, "X[3, 1] = inf"),
        ({"X": X40, "y": np.zeros((40, 0))}, "y must be a 2-D numeric array (rows, outputs)"),
        ({"X": X40, "y": np.zeros((40, 1, 1))}, "y must be 1-D labels or 2-D targets"),
        ({"X": X40, "y": labels40()[:39]}, "y must have one entry per row of X"),
    ],
)
def test_npz_targets_and_features_are_checked(
    tmp_path: Path, arrays: dict[str, Any], message: str
) -> None:
    path = save_npz(tmp_path / "d.npz", **arrays)
    assert message in str(error(load_npz, path))


def test_a_file_with_one_sample_is_refused(tmp_path: Path) -> None:
    path = save_npz(tmp_path / "one.npz", X=X40[:1], y=np.array([0.5]))
    config = DataConfig(path=str(path))
    message = str(error(make_dataset, config, np.random.default_rng(0)))
    assert message == f"data.path: {path}: need at least 2 samples to split, got 1"


def test_a_1d_target_is_n_by_1_everywhere(tmp_path: Path) -> None:
    t = np.linspace(-1.0, 1.0, 40) + 0.01  # not whole: a regression target
    (tmp_path / "d.csv").write_text(
        "".join(
            f"{float(a)!r},{float(b)!r},{float(v)!r}\n" for (a, b), v in zip(X40, t, strict=True)
        )
    )
    tables = [
        load_csv(tmp_path / "d.csv"),
        load_npz(save_npz(tmp_path / "flat.npz", X=X40, y=t)),
        load_npz(save_npz(tmp_path / "col.npz", X=X40, y=t[:, None])),
    ]
    for table in tables:
        assert table.task == "regression" and table.y.shape == (40, 1)
        np.testing.assert_array_equal(table.y[:, 0], t)
    made = dataset(task="regression", n_classes=0, y_train=t[:30], y_val=t[30:])
    assert made.y_train.shape == (30, 1) and made.y_val.shape == (10, 1) and made.n_outputs == 1


# ----------------------------------------------------------------------------- Dataset


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"y_train": np.r_[labels40()[:17], 3, labels40()[18:30]]}, "y_train[17] = 3, labels"),
        ({"y_val": np.r_[-1, labels40()[31:]]}, "y_val[0] = -1, labels must be whole numbers"),
        ({"y_train": np.r_[0.5, labels40()[1:30]]}, "y_train[0] = 0.5, labels must be whole"),
        ({"y_train": np.r_[np.nan, labels40()[1:30]]}, "y_train[0] = nan"),
        ({"y_train": np.array(["a"] * 30)}, "y_train must hold whole numbers"),
        ({"y_train": labels40()[:30, None]}, "y_train must be 1-D (one label a row)"),
        ({"y_train": labels40()[:29]}, "y_train must have one entry per row of X_train"),
        ({"X_val": X40[30:, :1]}, "X_val has 1 features, X_train 2"),
        ({"X_train": np.r_[X40[:29], [[np.nan, 0.0]]]}, "X_train[29, 0] = nan, features must"),
        ({"X_train": X40[:30, 0]}, "X_train must be a 2-D numeric array"),
        ({"X_val": X40[:0], "y_val": labels40()[:0]}, "X_val has no rows"),
        ({"n_classes": 1}, "classification needs n_classes >= 2, got 1"),
        ({"class_names": ["a", "b"]}, "2 class_names for n_classes = 3"),
        ({"task": "ranking"}, "task must be one of classification, regression, got 'ranking'"),
    ],
)
def test_a_dataset_refuses_what_the_loss_would_misread(
    fields: dict[str, Any], message: str
) -> None:
    raised = error(dataset, **fields)
    assert raised.field == "dataset" and message in str(raised), str(raised)


def test_the_message_says_where_the_range_comes_from() -> None:
    y = labels40()[:30].copy()
    y[17] = 3
    assert str(error(dataset, y_train=y)) == (
        "dataset: y_train[17] = 3, labels must be whole numbers 0..2 (n_classes = 3)"
    )


def test_regression_targets_are_checked() -> None:
    t = np.linspace(0.0, 1.0, 40)[:, None]
    fields = {"task": "regression", "n_classes": 0, "y_train": t[:30]}
    bad = t[30:].copy()
    bad[2, 0] = np.nan
    assert "y_val[2, 0] = nan, targets must be finite numbers" in str(
        error(dataset, **fields, y_val=bad)
    )
    assert "y_val has 2 outputs, y_train 1" in str(
        error(dataset, **fields, y_val=np.c_[t[30:], t[30:]])
    )


def test_whole_float_labels_are_stored_as_integers() -> None:
    d = dataset(y_train=labels40()[:30].astype(np.float32))
    assert d.y_train.dtype == np.int64
    np.testing.assert_array_equal(d.y_train, labels40()[:30])


def test_a_trainer_refuses_a_label_past_the_last_class() -> None:
    y = labels40()[:30].copy()
    y[4] = 3  # flat indexing would read the next row's first logit
    with pytest.raises(ConfigError, match=r"y_train\[4\] = 3"):
        Trainer(trainer_config(), dataset=dataset(y_train=y))


def test_a_1d_regression_target_trains_like_an_n_by_1_one() -> None:
    """y (N,) against outputs (N, 1) broadcast to (N, N) in the loss."""
    t = np.sin(X40[:, 0])
    cfg = trainer_config()
    losses = []
    for y in (t, t[:, None]):
        made = dataset(task="regression", n_classes=0, y_train=y[:30], y_val=y[30:])
        trainer = Trainer(cfg, dataset=made)
        losses.append([trainer.step().loss for _ in range(3)])
    assert losses[0] == losses[1]


# ----------------------------------------------------------------------------- file errors


def test_a_missing_file_is_named_as_given_with_its_folder(tmp_path: Path) -> None:
    nope = tmp_path / "nope" / "mine.csv"
    assert str(error(load_file, nope)) == (
        f"data.path: {nope}: file not found: there is no folder {tmp_path / 'nope'}"
    )
    there = tmp_path / "mine.npz"
    assert str(error(load_file, there)) == f"data.path: {there}: file not found: not in {tmp_path}"


def test_a_relative_path_names_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    cwd = Path.cwd()
    assert str(error(load_file, "mine.csv")) == (
        f"data.path: mine.csv: file not found: not in the working directory {cwd}"
    )
    assert str(error(load_file, os.path.join("data", "mine.npz"))) == (
        f"data.path: {os.path.join('data', 'mine.npz')}: file not found: "
        f"not in {cwd / 'data'} (relative to the working directory {cwd})"
    )


def test_a_path_from_an_experiment_file_is_looked_for_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "experiment"
    folder.mkdir()
    (folder / "exp.toml").write_text('[data]\npath = "points/mine.csv"\n')
    config = load_config(folder / "exp.toml")
    message = str(error(Trainer, config))
    assert message == (
        f"data.path: {folder / 'points' / 'mine.csv'}: file not found: "
        f"there is no folder {folder / 'points'}"
    )


def test_every_file_error_names_the_whole_path(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bad.csv"
    path.parent.mkdir()
    path.write_text("a,b,c\n1,2,x\n3,4\n")
    assert str(error(load_csv, path)) == (f"data.path: {path}, line 3: expected 3 cells, found 2")
    assert str(error(load_file, tmp_path)).startswith(f"data.path: {tmp_path}: unsupported")
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    assert str(error(load_csv, folder)) == f"data.path: {folder}: is a directory, not a file"


# ----------------------------------------------------------------------------- registry


def test_datasets_is_a_registry_that_lists_the_valid_names() -> None:
    assert "spiral" in DATASETS and "swirl" not in DATASETS
    assert list(DATASETS)[:3] == ["spiral", "circles", "moons"]  # in registration order
    with pytest.raises(UnknownName) as info:
        DATASETS["swirl"]
    assert str(info.value) == f"unknown dataset 'swirl'; valid: {', '.join(DATASETS)}"
    with pytest.raises(ValueError, match="dataset 'spiral' is registered twice"):
        register("spiral", "classification", "again")(DATASETS["spiral"].generate)
