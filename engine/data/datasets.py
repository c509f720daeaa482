"""Toy datasets (spiral, circles, moons, ...) by name, and the Dataset: a file or a generated
set, shuffled, split and standardized, its labels and targets checked."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.data.checks import (
    as_targets,
    features_problem,
    labels_problem,
    rows_problem,
    targets_problem,
)
from engine.data.loaders import Table, fail, load_file
from engine.errors import ConfigError
from engine.registry import Registry, UnknownName

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


TASKS = ("classification", "regression")


@dataclass
class Dataset:
    """Checked when built (a ConfigError on "dataset" names the array and entry): labels
    whole numbers 0..n_classes-1, stored int64; targets (n, t), a 1-D y becoming (n, 1);
    features and targets finite; one label or target a row; a sample in each part."""

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

    def __post_init__(self) -> None:
        if self.task == "regression":
            self.y_train, self.y_val = as_targets(self.y_train), as_targets(self.y_val)
        problem = self._problem()
        if problem:
            raise ConfigError("dataset", problem)
        if self.task == "classification":  # whole numbers, checked: now class indices
            self.y_train, self.y_val = self.y_train.astype(np.int64), self.y_val.astype(np.int64)

    def _problem(self) -> str | None:
        if self.task not in TASKS:
            return f"task must be one of {', '.join(TASKS)}, got {self.task!r}"
        classify = self.task == "classification"
        if classify and self.n_classes < 2:
            return f"classification needs n_classes >= 2, got {self.n_classes}"
        if classify and len(self.class_names) not in (0, self.n_classes):
            return f"{len(self.class_names)} class_names for n_classes = {self.n_classes}"
        for part in ("train", "val"):
            X, y = getattr(self, f"X_{part}"), getattr(self, f"y_{part}")
            problem = features_problem(f"X_{part}", X) or rows_problem(
                f"X_{part}", X, f"y_{part}", y
            )
            if problem:
                return problem
            if len(X) == 0:
                return f"X_{part} has no rows; each part needs at least one sample"
            counted = f"n_classes = {self.n_classes}"
            problem = (
                labels_problem(f"y_{part}", y, self.n_classes, counted)
                if classify
                else targets_problem(f"y_{part}", y)
            )
            if problem:
                return problem
        if self.X_val.shape[1] != self.X_train.shape[1]:
            return f"X_val has {self.X_val.shape[1]} features, X_train {self.X_train.shape[1]}"
        if not classify and self.y_val.shape[1] != self.y_train.shape[1]:
            return f"y_val has {self.y_val.shape[1]} outputs, y_train {self.y_train.shape[1]}"
        return None

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


DATASETS = Registry[DatasetSpec]("dataset")


def register(
    name: str, task: str, description: str, takes_n_classes: bool = False
) -> Callable[[GenerateFn], GenerateFn]:
    def wrap(fn: GenerateFn) -> GenerateFn:
        DATASETS.add(name, DatasetSpec(name, task, description, fn, takes_n_classes))
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


# TensorFlow Playground's xor pads its [-5, 5] quadrants by 0.3 away from the axes; the
# same share of our [0, 1] quadrants.
XOR_MARGIN = 0.3 / 5


@register("xor", "classification", "four quadrants, opposite corners share a class")
def xor(n: int, noise: float, n_classes: int, rng: Rng) -> XY:
    y = np.repeat([0, 1], _class_sizes(n, 2))
    # Class 0 has signs (+,+) or (-,-); class 1 has mixed signs: balanced by construction.
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = np.where(y == 0, s1, -s1)
    # Kept XOR_MARGIN off the axes, where the classes meet: with points on the axes even
    # one hidden layer of 16 tops out near 95% on validation at noise 0.
    size = XOR_MARGIN + rng.uniform(0.0, 1.0, (n, 2))
    X = size * np.c_[s1, s2] + noise * rng.standard_normal((n, 2))
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
        if len(table.X) < 2:
            raise fail(config.path, f"need at least 2 samples to split, got {len(table.X)}")
    else:
        table = _generate(config, rng)  # it checks data.n_samples >= 2
        name = config.name
    X, y = table.X, table.y
    n = X.shape[0]

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
    try:
        spec = DATASETS[config.name]
    except UnknownName as error:
        raise ConfigError("data.name", str(error)) from None
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


def training_size(n: int, train_fraction: float) -> int:
    """Samples in the training part of n; each part keeps at least one."""
    return min(max(round(n * train_fraction), 1), n - 1)
