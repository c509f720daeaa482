"""The Trainer: data, network and optimizer built from a config, one seeded run."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.config import ConfigError, ExperimentConfig
from engine.config.validation import RULES, check_batch_fits, check_loss_fits
from engine.data.datasets import Dataset, make_dataset
from engine.nn.losses import get_loss
from engine.nn.optimizers import learning_rate, make_optimizer
from engine.train.build import build_network
from engine.train.diagnostics import LAYER_STATS, LayerStats, dead_units, step_stats
from engine.train.history import History

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
    perm: Array = field(init=False)  # this epoch's order, kept so a checkpoint can store it
    order_X: Array = field(init=False)
    order_y: Array = field(init=False)

    def __post_init__(self) -> None:
        self.position = len(self.X)  # forces a shuffle at the first batch
        self.perm = np.zeros(0, np.int64)

    def next(self) -> tuple[Array, Array]:
        if self.position + self.size > len(self.X):
            self.set_order(self.rng.permutation(len(self.X)), 0)
        start, self.position = self.position, self.position + self.size
        return self.order_X[start : self.position], self.order_y[start : self.position]

    def set_order(self, perm: Array, position: int) -> None:
        self.perm = perm
        self.order_X, self.order_y = self.X[perm], self.y[perm]
        self.position = position


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
        self.network = build_network(
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
        self._digest: str | None = None

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
        problem = RULES["optimizer.lr"](lr)
        if problem:
            raise ConfigError("optimizer.lr", problem)
        self.base_lr = float(lr)

    def step(self) -> StepRecord:
        """One minibatch update. Raises Diverged (and keeps it in .diverged) on NaN or inf."""
        if self.diverged:
            raise self.diverged
        X, y = self.batches.next()
        lr = self.lr
        net = self.network
        loss_fn = self.loss
        with np.errstate(all="ignore"):  # divergence is reported once, below, not as warnings
            logits = net.forward(X)
            accuracy = loss_fn.accuracy(logits, y)
            loss, dlogits = loss_fn.compute(logits, y)
            net.backprop(dlogits)
            delta = self.optimizer.step_flat(net.theta, net.grad, lr, net.decay_mask)
            stats = step_stats(net, delta)
        self.steps_done += 1
        self._check_finite(loss, stats)
        values = np.array([loss, accuracy, lr, *stats])
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

    def _check_finite(self, loss: float, stats: list[float]) -> None:
        # The weight and bias-gradient norms are non-finite iff some entry is, so the
        # stats already tell whether any parameter went bad: no extra pass over them.
        # A sum of floats is finite when every one is (unless it overflows: look closer).
        if math.isfinite(loss + sum(stats)) or (
            math.isfinite(loss) and all(map(math.isfinite, stats))
        ):
            return
        if not math.isfinite(loss):
            what = f"loss is {loss}"
        else:
            k = next(k for k, value in enumerate(stats) if not math.isfinite(value))
            layer, column = divmod(k, len(LAYER_STATS))
            what = f"layers.{layer}.{LAYER_STATS[column]} is {stats[k]}"
        self.diverged = Diverged(self.steps_done, what)
        raise self.diverged

    def run(self, n: int, stop: threading.Event | None = None) -> RunResult:
        """Up to n steps; stops early on divergence or when `stop` is set."""
        if self.diverged:
            return RunResult(0, diverged=self.diverged)
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

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> dict[str, Array]:
        """The whole training state as plain numeric and text arrays (np.savez needs no
        pickle for any of them). restore() on a Trainer built from the same config continues
        to exactly the result of an uninterrupted run."""
        net, opt, batches = self.network, self.optimizer, self.batches
        arrays: dict[str, Array] = {
            "format": np.array(CHECKPOINT_FORMAT, np.int64),
            "data_digest": np.array(self._data_digest()),
            "theta": net.theta.copy(),
            "grad": net.grad.copy(),  # not needed to step on, but what the last step left
            "steps_done": np.array(self.steps_done, np.int64),
            "base_lr": np.array(self.base_lr, np.float64),
            "optimizer.t": np.array(opt.t, np.int64),
            "batches.position": np.array(batches.position, np.int64),
            # The order as indices: the shuffled copies of X and y follow from it.
            "batches.perm": batches.perm.astype(np.int64),
            "batches.rng": np.array(json.dumps(batches.rng.bit_generator.state)),
            "evals": self._evals_array(self.evals),
            "diverged.step": np.array(self.diverged.step if self.diverged else -1, np.int64),
            "diverged.what": np.array(self.diverged.what if self.diverged else ""),
        }
        for key, buffer in opt.state.items():
            arrays[f"optimizer.state.{key}"] = buffer.copy()
        for key, value in self.history.state().items():
            arrays[f"history.{key}"] = value
        return arrays

    @classmethod
    def from_checkpoint(cls, config: ExperimentConfig, arrays: Mapping[str, Array]) -> Trainer:
        trainer = cls(config)
        trainer.restore(arrays)
        return trainer

    def restore(self, arrays: Mapping[str, Array]) -> None:
        """Load a checkpoint() of a trainer with the same config (its training.steps may be
        larger). Everything is checked before anything changes: on CheckpointError (which
        names the array) this trainer is left as it was."""
        c = _Checked(arrays)
        if c.scalar("format", "i") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"format: version {arrays['format']}, expected 1")
        if str(c.text("data_digest")) != self._data_digest():
            raise CheckpointError("data_digest: the dataset differs from the checkpoint's")
        net, n = self.network, len(self.X_train)
        theta = c.array("theta", net.theta.dtype, net.theta.shape)
        grad = c.array("grad", net.grad.dtype, net.grad.shape)
        steps_done = c.scalar("steps_done", "i")
        if not 0 <= steps_done <= self.config.training.steps:
            raise CheckpointError(
                f"steps_done: {steps_done} steps done, more than the config's "
                f"training.steps = {self.config.training.steps}"
            )
        base_lr = c.scalar("base_lr", "f")
        t = c.scalar("optimizer.t", "i")
        prefix = "optimizer.state."
        state = {
            key[len(prefix) :]: c.array(key, net.theta.dtype, net.theta.shape)
            for key in arrays
            if key.startswith(prefix)
        }
        expected = self._optimizer_buffers() if t > 0 else set()
        if set(state) != expected:
            raise CheckpointError(
                f"optimizer.state: buffers {sorted(state)}, expected {sorted(expected)} "
                f"for {self.config.optimizer.name}"
            )
        position = c.scalar("batches.position", "i")
        perm = c.array("batches.perm", np.dtype(np.int64), None)
        if perm.size == 0:
            if position != n:  # no epoch drawn yet: the next batch must draw one
                raise CheckpointError(f"batches.position: {position} with no order drawn")
        elif perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise CheckpointError(f"batches.perm: not a permutation of the {n} training rows")
        elif not 0 <= position <= n:
            raise CheckpointError(f"batches.position: {position}, expected 0 to {n}")
        rng_state = _rng_state(c.text("batches.rng"), self.batches.rng)
        evals = self._evals_from_array(c.array("evals", np.dtype(np.float64), None))
        history = _history_from(arrays, self.history)
        diverged_step = c.scalar("diverged.step", "i")
        diverged = (
            Diverged(diverged_step, str(c.text("diverged.what"))) if diverged_step >= 0 else None
        )

        # Everything checked: now change the trainer. theta and grad are copied in place
        # because every layer's W, b, dW and db are views into them.
        net.theta[...] = theta
        net.grad[...] = grad
        self.optimizer.t = t
        self.optimizer.state = {key: value.copy() for key, value in state.items()}
        self.steps_done = steps_done
        self.base_lr = base_lr
        self.batches.rng.bit_generator.state = rng_state
        if perm.size:
            self.batches.set_order(perm.copy(), position)
        self.evals = evals
        self.history = history
        self.diverged = diverged

    def _data_digest(self) -> str:
        """A fingerprint of the training and validation data, computed once: resuming on
        changed data (an edited CSV file) cannot give the same run."""
        if self._digest is None:
            h = hashlib.sha256()
            for a in (self.X_train, self.y_train, self.X_val, self.y_val):
                h.update(str((a.dtype.str, a.shape)).encode())
                h.update(np.ascontiguousarray(a).tobytes())
            self._digest = h.hexdigest()
        return self._digest

    def _optimizer_buffers(self) -> set[str]:
        """The state keys this optimizer has after a step: ask a fresh one, on an empty
        vector, instead of keeping a second list of them here."""
        probe = make_optimizer(self.config.optimizer)
        probe.t = 1
        probe.delta("theta", np.zeros(0, self.network.theta.dtype), 1.0)
        return set(probe.state)

    def _evals_array(self, evals: list[EvalRecord]) -> Array:
        """One row an evaluation: step, four losses/accuracies, dead units per hidden layer."""
        width = len(EVAL_COLUMNS) + self.n_layers - 1
        table = np.zeros((len(evals), width))
        for i, ev in enumerate(evals):
            table[i] = [
                ev.step,
                ev.train_loss,
                ev.train_accuracy,
                ev.val_loss,
                ev.val_accuracy,
                *ev.dead,
            ]
        return table

    def _evals_from_array(self, table: Array) -> list[EvalRecord]:
        width = len(EVAL_COLUMNS) + self.n_layers - 1
        if table.ndim != 2 or table.shape[1] != width:
            raise CheckpointError(f"evals: shape {table.shape}, expected (evaluations, {width})")
        k = len(EVAL_COLUMNS)
        return [
            EvalRecord(int(row[0]), row[1], row[2], row[3], row[4], [int(d) for d in row[k:]])
            for row in table.tolist()
        ]


CHECKPOINT_FORMAT = 1
EVAL_COLUMNS = ("step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


class CheckpointError(ValueError):
    """Checkpoint arrays that do not fit the trainer; the message names the array."""


class _Checked:
    """Typed reads from checkpoint arrays, each failure a CheckpointError naming the key."""

    def __init__(self, arrays: Mapping[str, Array]) -> None:
        self.arrays = arrays

    def get(self, key: str) -> Array:
        if key not in self.arrays:
            raise CheckpointError(f"{key}: missing")
        value = self.arrays[key]
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"{key}: not an array")
        return value

    def array(self, key: str, dtype: np.dtype, shape: tuple[int, ...] | None) -> Array:
        value = self.get(key)
        if value.dtype != dtype:
            raise CheckpointError(f"{key}: dtype {value.dtype}, expected {dtype}")
        if shape is not None and value.shape != shape:
            raise CheckpointError(f"{key}: shape {value.shape}, expected {shape}")
        if shape is None and value.ndim == 0:
            raise CheckpointError(f"{key}: a single value, expected an array")
        return value

    def scalar(self, key: str, kind: str) -> Any:
        """A 0-d integer ("i") or float ("f") value as a Python number."""
        value = self.get(key)
        if value.shape != () or value.dtype.kind != kind:
            raise CheckpointError(
                f"{key}: {value.dtype} of shape {value.shape}, expected a single "
                + ("whole number" if kind == "i" else "float")
            )
        return value.item()

    def text(self, key: str) -> str:
        value = self.get(key)
        if value.shape != () or value.dtype.kind != "U":
            raise CheckpointError(f"{key}: {value.dtype} of shape {value.shape}, expected text")
        return str(value)


def _rng_state(text: str, like: np.random.Generator) -> dict[str, Any]:
    """Parse a bit generator's state and try it on a scratch generator of the same kind."""
    try:
        state = json.loads(text)
        probe = type(like.bit_generator)()
        probe.state = state
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(f"batches.rng: not a usable generator state ({error})") from None
    return dict(probe.state)


# dtype kind and dimensions of each History.state() array; levels repeat the level fields.
_HISTORY_ARRAYS = {
    "columns": ("U", 1),
    "first_step": ("i", 1),
    "first_row": ("f", 2),
    "meta": ("i", 1),
    "raw_steps": ("i", 1),
    "raw": ("f", 2),
    "first": ("i", 1),
    "last": ("i", 1),
    "count": ("i", 1),
    "sum": ("f", 2),
    "min": ("f", 2),
    "max": ("f", 2),
}


_TOP_ARRAYS = ("columns", "meta", "raw_steps", "raw", "first_step", "first_row")
_REQUIRED_ARRAYS = ("columns", "meta", "raw_steps", "raw")


def _history_from(arrays: Mapping[str, Array], like: History) -> History:
    """History.from_state with every array checked first: sizes come from the file, and a
    hostile capacity must not make us allocate terabytes."""
    prefix = "history."
    state = {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
    for key in _REQUIRED_ARRAYS:
        if key not in state:
            raise CheckpointError(f"history.{key}: missing")
    levels = [f"level{i}." for i in range(1, like.max_levels + 1)]
    for key, value in state.items():
        level, _, name = key.rpartition(".")
        known = (not level and name in _TOP_ARRAYS) or (
            f"{level}." in levels and name not in _TOP_ARRAYS
        )
        if not known or not isinstance(value, np.ndarray):
            raise CheckpointError(f"history.{key}: not a history array")
        kind, ndim = _HISTORY_ARRAYS[name]
        if value.dtype.kind != kind or value.ndim != ndim:
            raise CheckpointError(f"history.{key}: {value.dtype} {value.shape} is not expected")
        if ndim == 2 and value.shape[1] != len(like.columns):
            raise CheckpointError(
                f"history.{key}: {value.shape[1]} columns, expected {len(like.columns)}"
            )
        if len(value) > like.capacity:
            raise CheckpointError(f"history.{key}: {len(value)} rows, more than {like.capacity}")
    if tuple(str(c) for c in state["columns"]) != like.columns:
        raise CheckpointError("history.columns: not this network's columns")
    meta = state["meta"]
    if meta.shape != (3,) or (int(meta[0]), int(meta[1])) != (like.capacity, like.max_levels):
        raise CheckpointError(f"history.meta: {meta.tolist()} does not fit this history")
    try:
        return History.from_state(state)
    except (ValueError, KeyError, IndexError) as error:
        raise CheckpointError(f"history: inconsistent arrays ({error})") from None
