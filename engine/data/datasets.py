"""Toy datasets (spiral, circles, moons, ...), CSV/NPZ loaders, and the seeded train/val split."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from engine.errors import ConfigError

XY = tuple[np.ndarray, np.ndarray]
Rng = np.random.Generator
# (n_samples, noise, n_classes, rng) -> (X (n, d), y)
GenerateFn = Callable[[int, float, int, Rng], XY]


class DataSpec(Protocol):
    """The data fields of a config (engine.config's DataConfig has them): data does not
    import the config layer, it reads what it needs."""

    name: str
    n_samples: int
    noise: float
    n_classes: int
    train_fraction: float
    standardize: bool
    path: str
    target: str


@dataclass
class Dataset:
    name: str
    task: str  # "classification" or "regression"
    X_train: np.ndarray  # (n, d) float64
    y_train: np.ndarray  # classification: (n,) int64 in 0..C-1; regression: (n, t) float64
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int  # 0 for regression
    feature_names: list[str]
    class_names: list[str] = field(default_factory=list)  # label of each class index
    # What standardization subtracted and divided by (0 and 1 when it was off).
    x_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x_std: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else int(self.y_train.shape[1])


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str
    description: str
    generate: GenerateFn
    takes_n_classes: bool  # False: a fixed number of classes (or regression)


class Table(NamedTuple):
    """A loaded file before the split: what load_csv and load_npz return."""

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str]
    class_names: list[str]


DATASETS: dict[str, DatasetSpec] = {}


def register(
    name: str, task: str, description: str, takes_n_classes: bool = False
) -> Callable[[GenerateFn], GenerateFn]:
    def wrap(fn: GenerateFn) -> GenerateFn:
        DATASETS[name] = DatasetSpec(name, task, description, fn, takes_n_classes)
        return fn

    return wrap


def _class_sizes(n: int, k: int) -> list[int]:
    """Split n samples over k classes as evenly as possible."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


# ----------------------------------------------------------------------------- generators


@register("spiral", "classification", "K interleaved spiral arms (CS231n)", takes_n_classes=True)
def spiral(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    xs, ys = [], []
    for j, size in enumerate(_class_sizes(n, n_classes)):
        r = np.linspace(0.0, 1.0, size)
        # CS231n jitters the angle by randn * 0.2 radians; noise 0.1 reproduces that picture.
        t = np.linspace(j * 4.0, (j + 1) * 4.0, size) + rng.standard_normal(size) * 2.0 * noise
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(size, j))
    return np.concatenate(xs), np.concatenate(ys)


@register("circles", "classification", "a small circle inside a large one")
def circles(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat([0, 1], _class_sizes(n, 2))
    radius = np.where(y == 0, 1.0, 0.5)
    t = rng.uniform(0.0, 2 * np.pi, n)
    # noise is the std of Gaussian jitter on each coordinate, as in scikit-learn.
    X = np.c_[radius * np.cos(t), radius * np.sin(t)] + noise * rng.standard_normal((n, 2))
    return X, y


@register("moons", "classification", "two interleaving half circles")
def moons(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat([0, 1], _class_sizes(n, 2))
    t = rng.uniform(0.0, np.pi, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1.0 - np.cos(t), 0.5 - np.sin(t)]
    X = np.where((y == 0)[:, None], upper, lower) + noise * rng.standard_normal((n, 2))
    return X, y


@register("xor", "classification", "four quadrants, opposite corners share a class")
def xor(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat([0, 1], _class_sizes(n, 2))
    # Class 0 has signs (+,+) or (-,-); class 1 has mixed signs: balanced by construction.
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = np.where(y == 0, s1, -s1)
    X = rng.uniform(0.0, 1.0, (n, 2)) * np.c_[s1, s2] + noise * rng.standard_normal((n, 2))
    return X, y


@register("gaussians", "classification", "K Gaussian blobs on a circle", takes_n_classes=True)
def gaussians(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat(np.arange(n_classes), _class_sizes(n, n_classes))
    angle = 2 * np.pi * y / n_classes
    centres = np.c_[np.cos(angle), np.sin(angle)]
    # Blob std 3*noise: the default 0.1 gives clear blobs, 0.3 and up makes them overlap.
    return centres + 3.0 * noise * rng.standard_normal((n, 2)), y


_LINE_NORMAL = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])  # a fixed, tilted boundary
_LINE_ALONG = np.array([-_LINE_NORMAL[1], _LINE_NORMAL[0]])


@register("linear", "classification", "two classes a straight line separates")
def linear(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat([0, 1], _class_sizes(n, 2))
    # Distance from the line is at least 0.1; noise only moves points along the line,
    # so the set stays linearly separable for any noise (the single-neuron scenario needs it).
    side = np.where(y == 1, 1.0, -1.0) * (0.1 + rng.uniform(0.0, 1.0, n))
    along = rng.uniform(-1.0, 1.0, n) + noise * rng.standard_normal(n)
    return np.outer(side, _LINE_NORMAL) + np.outer(along, _LINE_ALONG), y


@register("sine", "regression", "y = sin(x) + noise on [-pi, pi]")
def sine(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    return X, np.sin(X) + noise * rng.standard_normal((n, 1))


@register("ripple", "regression", "y = sin(x1) * cos(x2) + noise on [-pi, pi]^2")
def ripple(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    X = rng.uniform(-np.pi, np.pi, (n, 2))
    y = np.sin(X[:, :1]) * np.cos(X[:, 1:]) + noise * rng.standard_normal((n, 1))
    return X, y


# ----------------------------------------------------------------------------- building


def make_dataset(config: DataSpec, rng: np.random.Generator) -> Dataset:
    """Load config.path or generate config.name, then shuffle, split and standardize."""
    if config.path:
        table = load_file(config.path, config.target)
        name = Path(config.path).name
    else:
        table = _generate(config, rng)
        name = config.name
    X, y = table.X, table.y
    n = X.shape[0]
    if n < 2:
        raise ConfigError("data.path", f"need at least 2 samples to split, got {n}")

    order = rng.permutation(n)
    n_train = training_size(n, config.train_fraction)
    train, val = order[:n_train], order[n_train:]
    X_train, X_val = X[train], X[val]

    mean, std = np.zeros(X.shape[1]), np.ones(X.shape[1])
    if config.standardize:
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0] = 1.0  # a constant feature stays put instead of becoming NaN
        X_train, X_val = (X_train - mean) / std, (X_val - mean) / std

    n_classes = len(table.class_names) if table.task == "classification" else 0
    return Dataset(
        name=name,
        task=table.task,
        X_train=X_train,
        y_train=y[train],
        X_val=X_val,
        y_val=y[val],
        n_classes=n_classes,
        feature_names=table.feature_names,
        class_names=table.class_names,
        x_mean=mean,
        x_std=std,
    )


def _generate(config: DataSpec, rng: np.random.Generator) -> Table:
    spec = DATASETS.get(config.name)
    if spec is None:
        valid = ", ".join(DATASETS)
        raise ConfigError("data.name", f"unknown dataset {config.name!r}; valid: {valid}")
    if config.n_samples < 2:
        raise ConfigError("data.n_samples", f"need at least 2 samples, got {config.n_samples}")
    if not (math.isfinite(config.noise) and config.noise >= 0):
        raise ConfigError("data.noise", f"must be a number >= 0, got {config.noise!r}")
    n_classes = config.n_classes if spec.takes_n_classes else 2
    if spec.takes_n_classes and n_classes < 2:
        raise ConfigError("data.n_classes", f"must be at least 2, got {n_classes}")
    X, y = spec.generate(config.n_samples, config.noise, n_classes, rng)
    feature_names = [f"x{i + 1}" for i in range(X.shape[1])]
    if spec.task == "regression":
        return Table(X.astype(np.float64), y.astype(np.float64), spec.task, feature_names, [])
    names = [str(c) for c in range(n_classes)]
    return Table(X.astype(np.float64), y.astype(np.int64), spec.task, feature_names, names)


# ----------------------------------------------------------------------------- loaders

_MISSING = {"", "nan", "na", "n/a", "null", "none"}


def _fail(path: str | Path, message: str, line: int | None = None) -> ConfigError:
    where = f"{Path(path).name}, line {line}" if line is not None else Path(path).name
    return ConfigError("data.path", f"{where}: {message}")


def training_size(n: int, train_fraction: float) -> int:
    """Samples in the training part of n; each part keeps at least one."""
    return min(max(round(n * train_fraction), 1), n - 1)


def load_file(path: str | Path, target: str = "") -> Table:
    """Load a .csv or .npz file by its suffix."""
    if "\x00" in str(path):
        raise _fail(path, "a file name cannot contain a NUL character")
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_csv(path, target)
    if suffix == ".npz":
        return load_npz(path)
    raise _fail(path, f"unsupported file type {suffix or '(none)'!r}; use .csv or .npz")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_rows(path: str | Path) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a CSV file with their line numbers, cells stripped."""
    rows: list[tuple[int, list[str]]] = []
    line = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for cells in reader:
                line = reader.line_num
                if len(cells) == 0 or (len(cells) == 1 and not cells[0].strip()):
                    continue
                rows.append((line, [c.strip() for c in cells]))
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not a file") from None
    except UnicodeDecodeError:
        raise _fail(path, "is not a UTF-8 text file") from None
    except csv.Error as e:
        raise _fail(path, str(e), line + 1) from None
    except OSError as e:
        raise _fail(path, f"cannot read: {e.strerror}") from None
    return rows


def load_csv(path: str | Path, target: str = "") -> Table:
    """Features in every column but the label: the last one, or the column named `target`.

    A header row is optional. Integer or text labels classify (sorted labels become
    0..C-1, kept in class_names); real-valued labels regress.
    """
    rows = _read_rows(path)
    if not rows:
        raise _fail(path, "the file is empty")
    first_line, first = rows[0]
    width = len(first)
    if width < 2:
        raise _fail(path, "need a feature and a label column separated by commas", first_line)

    if target:
        if target not in first:
            shown = ", ".join(first) if any(not _is_number(c) for c in first) else "no header row"
            raise _fail(path, f"unknown target column {target!r}; columns: {shown}")
        header: list[str] | None = first
        label_col = first.index(target)
    else:
        label_col = width - 1
        # A header has a non-numeric feature cell; a missing value ("", "NA") does not count.
        looks_like_header = any(
            not _is_number(c) and c.lower() not in _MISSING for c in first[:label_col]
        )
        header = first if looks_like_header else None
    data = rows[1:] if header is not None else rows
    if not data:
        raise _fail(path, "no data rows after the header")

    columns = header if header is not None else [f"x{i + 1}" for i in range(width)]
    feature_cols = [i for i in range(width) if i != label_col]
    X = np.empty((len(data), len(feature_cols)))
    labels: list[str] = []
    for r, (line, cells) in enumerate(data):
        if len(cells) != width:
            raise _fail(path, f"expected {width} cells, found {len(cells)}", line)
        for j, col in enumerate(feature_cols):
            X[r, j] = _parse_feature(path, cells[col], columns[col], line)
        label = cells[label_col]
        if label.lower() in _MISSING:
            raise _fail(path, f"missing label ({label!r})", line)
        if _is_number(label) and not math.isfinite(float(label)):
            raise _fail(path, f"label {label!r} is not a finite number", line)
        labels.append(label)

    y, task, class_names = _encode_labels(path, labels)
    return Table(X, y, task, [columns[i] for i in feature_cols], class_names)


def _parse_feature(path: str | Path, text: str, column: str, line: int) -> float:
    if text.lower() in _MISSING:
        raise _fail(path, f"missing value ({text!r}) in column {column!r}", line)
    try:
        value = float(text)
    except ValueError:
        raise _fail(path, f"{text!r} in column {column!r} is not a number", line) from None
    if not math.isfinite(value):
        raise _fail(path, f"{text!r} in column {column!r} is not a finite number", line)
    return value


def _encode_labels(path: str | Path, labels: list[str]) -> tuple[np.ndarray, str, list[str]]:
    """Text labels -> classes, whole numbers -> classes, other numbers -> a regression target."""
    if all(_is_number(s) for s in labels):
        values = np.array([float(s) for s in labels])
        if not np.all(values == np.round(values)):
            return values.reshape(-1, 1), "regression", []
        return _classes(path, values.astype(np.int64))
    return _classes(path, np.array(labels))


def _classes(path: str | Path, labels: np.ndarray) -> tuple[np.ndarray, str, list[str]]:
    names, y = np.unique(labels, return_inverse=True)
    if len(names) < 2:
        raise _fail(path, f"every label is {names[0]!s}; classification needs at least 2 classes")
    return y.reshape(-1).astype(np.int64), "classification", [str(s) for s in names]


def load_npz(path: str | Path) -> Table:
    """Arrays X (n, d) and y: 1-D labels classify (unless real-valued), 2-D targets regress.

    An optional array feature_names (d strings) names the columns.
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not a file") from None
    except OSError as e:
        raise _fail(path, f"cannot read: {e.strerror}") from None
    # Check the magic ourselves: numpy's own message for a pickle suggests unsafe loading.
    if magic.startswith(b"\x93NUMPY"):
        raise _fail(path, "holds a single .npy array; save X and y with np.savez")
    if not magic.startswith(b"PK"):
        raise _fail(path, "is not an .npz archive; save X and y with np.savez")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy and zipfile raise many kinds of error on a bad file
        raise _fail(path, f"corrupt .npz file ({e})") from None

    with archive:
        arrays: dict[str, np.ndarray] = {}
        for key in ("X", "y", "feature_names"):
            if key not in archive.files:
                if key == "feature_names":
                    continue
                found = ", ".join(archive.files) or "nothing"
                raise _fail(path, f"missing array {key!r}; found: {found}")
            try:
                arrays[key] = archive[key]
            except Exception as e:  # a corrupt or truncated member, or a pickled object array
                raise _fail(path, f"cannot read array {key!r}: {e}") from None

    X, y = arrays["X"], arrays["y"]
    if X.ndim != 2 or X.dtype.kind not in "biuf" or X.shape[1] == 0:
        raise _fail(path, f"X must be a 2-D numeric array, got {X.ndim}-D {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise _fail(path, "X holds NaN or infinite values")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise _fail(path, f"y must have one entry per row of X: X {X.shape}, y {y.shape}")

    d = X.shape[1]
    feature_names = [f"x{i + 1}" for i in range(d)]
    if "feature_names" in arrays:
        names = arrays["feature_names"]
        if names.shape != (d,) or names.dtype.kind != "U":
            raise _fail(path, f"feature_names must be {d} strings")
        feature_names = [str(s) for s in names]

    if y.dtype.kind in "US" and y.ndim == 1:
        y_text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y
        y_out, task, class_names = _classes(path, y_text)
        return Table(X, y_out, task, feature_names, class_names)
    if y.dtype.kind not in "biuf":
        raise _fail(path, f"y must hold numbers or text labels, got {y.dtype}")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise _fail(path, "y holds NaN or infinite values")
    if y.ndim == 2 or not np.all(y == np.round(y)):
        y_out = y if y.ndim == 2 else y.reshape(-1, 1)
        return Table(X, y_out, "regression", feature_names, [])
    y_out, task, class_names = _classes(path, y.astype(np.int64))
    return Table(X, y_out, task, feature_names, class_names)
