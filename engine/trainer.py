"""The Trainer: data, network and optimizer built from a config, one seeded run."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from engine.config import ExperimentConfig
from engine.datasets import Dataset, make_dataset
from engine.diagnostics import LAYER_STATS, LayerStats, dead_units, step_stats
from engine.history import History
from engine.losses import get_loss
from engine.network import MLP
from engine.optimizers import learning_rate, make_optimizer
from engine.validation import check_batch_fits, check_loss_fits

Array = np.ndarray
STEP_COLUMNS = ("loss", "accuracy", "lr")


class Diverged(ArithmeticError):
    """Training produced a non-finite loss or parameter."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"diverged at step {step}: {what}")
        self.step = step
        self.what = what


@dataclass(frozen=True)
class StepRecord:
    step: int  # steps done, this one included
    epoch: float  # passes over the training set so far
    loss: float
    accuracy: float  # on the batch; NaN for regression
    lr: float
    stats: Array  # (layers, LAYER_STATS)

    @property
    def layers(self) -> list[LayerStats]:
        return [LayerStats(*row) for row in self.stats.tolist()]


@dataclass(frozen=True)
class EvalRecord:
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    dead: list[int]  # per hidden layer, over the whole training set


@dataclass(frozen=True)
class RunResult:
    steps: int
    diverged: Diverged | None = None
    stopped: bool = False


@dataclass
class _Batches:
    """Epoch-wise shuffled minibatches; the shuffle is one gather an epoch, steps are views."""

    X: Array
    y: Array
    size: int
    rng: np.random.Generator
    position: int = 0
    order_X: Array = field(init=False)
    order_y: Array = field(init=False)

    def __post_init__(self) -> None:
        self.position = len(self.X)  # forces a shuffle at the first batch

    def next(self) -> tuple[Array, Array]:
        if self.position + self.size > len(self.X):
            perm = self.rng.permutation(len(self.X))
            self.order_X, self.order_y = self.X[perm], self.y[perm]
            self.position = 0
        start, self.position = self.position, self.position + self.size
        return self.order_X[start : self.position], self.order_y[start : self.position]


class Trainer:
    def __init__(self, config: ExperimentConfig, dataset: Dataset | None = None) -> None:
        config.validate()
        self.config = config
        self.dtype = np.dtype(config.training.dtype)
        data_seed, init_seed, batch_seed = np.random.SeedSequence(config.training.seed).spawn(3)
        self.dataset = dataset or make_dataset(config.data, np.random.default_rng(data_seed))
        d = self.dataset
        # A file's task, classes and size are known only now: check what depends on them.
        check_loss_fits(config.model.loss, d.task, d.n_classes)
        check_batch_fits(config, len(d.X_train))
        self.loss = get_loss(config.model.loss, d.task)
        self.X_train, self.y_train = self._cast(d.X_train, d.y_train)
        self.X_val, self.y_val = self._cast(d.X_val, d.y_val)
        n_out = self.loss.outputs(d.n_outputs)
        self.network = MLP.from_config(
            config.model, d.n_features, n_out, np.random.default_rng(init_seed), self.dtype
        )
        self.optimizer = make_optimizer(config.optimizer)
        self.base_lr = config.optimizer.lr
        self.batches = _Batches(
            self.X_train,
            self.y_train,
            config.training.batch_size,
            np.random.default_rng(batch_seed),
        )
        self.n_layers = len(self.network.layers)
        self.columns = STEP_COLUMNS + tuple(
            f"layers.{i}.{s}" for i in range(self.n_layers) for s in LAYER_STATS
        )
        self.history = History(self.columns)
        self.evals: list[EvalRecord] = []
        self.steps_done = 0
        self.diverged: Diverged | None = None

    def _cast(self, X: Array, y: Array) -> tuple[Array, Array]:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if self.dataset.task == "regression":
            return X, np.ascontiguousarray(y, dtype=self.dtype)
        return X, np.ascontiguousarray(y, dtype=np.int64)

    @property
    def epoch(self) -> float:
        return self.steps_done * self.config.training.batch_size / len(self.X_train)

    @property
    def lr(self) -> float:
        total = self.config.training.steps
        return learning_rate(self.base_lr, self.steps_done, self.config.optimizer, total)

    def set_learning_rate(self, lr: float) -> None:
        """Change the base rate of the running run; the schedule applies on top."""
        self.base_lr = float(lr)

    def step(self) -> StepRecord:
        """One minibatch update. Raises Diverged (and keeps it in .diverged) on NaN or inf."""
        if self.diverged:
            raise self.diverged
        X, y = self.batches.next()
        lr = self.lr
        net = self.network
        with np.errstate(all="ignore"):  # divergence is reported once, below, not as warnings
            logits = net.forward(X)
            loss, dlogits = self.loss.compute(logits, y)
            accuracy = self.loss.accuracy(logits, y)
            net.backward(dlogits)
            delta = self.optimizer.step(
                {"theta": net.theta}, {"theta": net.grad}, lr, {"theta": net.decay_mask}
            )["theta"]
            row = [loss, accuracy, lr, *step_stats(net, delta)]
        self.steps_done += 1
        values = np.array(row)
        self._check_finite(values)
        self.history.append(self.steps_done, values)
        record = StepRecord(
            self.steps_done,
            self.epoch,
            loss,
            accuracy,
            lr,
            values[len(STEP_COLUMNS) :].reshape(self.n_layers, len(LAYER_STATS)),
        )
        every = self.config.training.eval_every
        if every and self.steps_done % every == 0:
            self.evals.append(self.evaluate())
        return record

    def _check_finite(self, values: Array) -> None:
        # The weight and bias-gradient norms are non-finite iff some entry is, so the
        # row already tells whether any parameter went bad: no extra pass over them.
        if math.isfinite(values[0]) and np.isfinite(values[len(STEP_COLUMNS) :]).all():
            return
        if not math.isfinite(values[0]):
            what = f"loss is {values[0]}"
        else:
            stats = values[len(STEP_COLUMNS) :].reshape(self.n_layers, len(LAYER_STATS))
            layer, column = np.argwhere(~np.isfinite(stats))[0]
            what = f"layers.{layer}.{LAYER_STATS[column]} is {stats[layer, column]}"
        self.diverged = Diverged(self.steps_done, what)
        raise self.diverged

    def run(self, n: int, stop: threading.Event | None = None) -> RunResult:
        """Up to n steps; stops early on divergence or when `stop` is set."""
        for done in range(n):
            if stop is not None and stop.is_set():
                return RunResult(done, stopped=True)
            try:
                self.step()
            except Diverged as error:
                return RunResult(done + 1, diverged=error)
        return RunResult(n)

    def evaluate(self) -> EvalRecord:
        """Loss and accuracy on the whole training and validation sets."""
        with np.errstate(all="ignore"):
            train_loss, train_acc = self._measure(self.X_train, self.y_train)
            dead = dead_units(self.network)
            val_loss, val_acc = self._measure(self.X_val, self.y_val)
        return EvalRecord(self.steps_done, train_loss, train_acc, val_loss, val_acc, dead)

    def _measure(self, X: Array, y: Array) -> tuple[float, float]:
        logits = self.network.forward(X)
        loss, _ = self.loss.compute(logits, y)
        return loss, self.loss.accuracy(logits, y)

    def predict(self, X: Array) -> Array:
        """Class probabilities (N, C) for classification, outputs for regression."""
        with np.errstate(all="ignore"):
            logits = self.network.forward(np.asarray(X, dtype=self.dtype))
            return self.loss.probabilities(logits)

    def predict_grid(
        self, width: int, height: int, margin: float = 0.1
    ) -> tuple[Array, Array, Array]:
        """Predictions over a grid covering the 2-D data: xs (width,), ys (height,),
        values (height, width, C); row 0 is the lowest y."""
        if self.dataset.n_features != 2:
            raise ValueError("predict_grid needs 2-D inputs")
        X = np.concatenate([self.X_train, self.X_val])
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = (hi - lo) * margin
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], width)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], height)
        gx, gy = np.meshgrid(xs, ys)
        values = self.predict(np.column_stack([gx.ravel(), gy.ravel()]))
        return xs, ys, values.reshape(height, width, -1)
