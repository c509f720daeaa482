"""The Trainer: data, network and optimizer built from a config, one seeded run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np

from engine.config import ConfigError, ExperimentConfig
from engine.config.validation import check_batch_fits, check_loss_fits
from engine.data.datasets import Dataset, make_dataset
from engine.data.features import crossing
from engine.nn.losses import get_loss
from engine.nn.network import MLP
from engine.nn.optimizers import learning_rate, make_optimizer, probe
from engine.train.build import build_network
from engine.train.checkpoint import (
    CHECKPOINT_FORMAT,
    Checked,
    CheckpointError,
    evals_from_table,
    evals_table,
    history_from,
    migrate_v1,
    rng_state,
)
from engine.train.diagnostics import (
    LAYER_STATS,
    dead_units,
    mean_similarity,
    step_stats,
    unit_maps,
)
from engine.train.distributions import SAMPLE_EVERY, DistributionStore
from engine.train.events import Event, Timeline
from engine.train.history import History
from engine.train.memory import check_memory
from engine.train.records import (
    EVAL_COLUMNS,
    STEP_COLUMNS,
    Diverged,
    EvalRecord,
    RunResult,
    StepRecord,
    history_columns,
)

__all__ = [  # the records and the checkpoint error are importable from here too
    "EVAL_COLUMNS",
    "STEP_COLUMNS",
    "CheckpointError",
    "Diverged",
    "EvalRecord",
    "RunResult",
    "StepRecord",
    "Trainer",
]

Array = np.ndarray


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
    """One run. `config` is the run's one live config: set_learning_rate replaces it.

    With training.eval_every > 0, evals[0] is the evaluation of the initial network (step
    0), then one every eval_every steps; `similarity` holds each evaluation's mean
    similarity of the units of every hidden layer. `distributions` samples the layers'
    activations and gradients every SAMPLE_EVERY steps; `events` is the run's timeline.

    The network reads data.features of each point: X_train and X_val are the network's
    inputs, `dataset` holds the points (the plane the boundary is drawn over), and
    predict(), predict_grid() and unit_maps() take points."""

    def __init__(self, config: ExperimentConfig, dataset: Dataset | None = None) -> None:
        config.validate()
        self.config = config
        self.dtype = np.dtype(config.training.dtype)
        # Each seed spawns three streams (data, weights, batches), as one seed did before
        # data.seed existed: with data.seed == training.seed a run is what it was.
        data_seed = np.random.SeedSequence(config.data.seed).spawn(3)[0]
        _, self._init_seed, batch_seed = np.random.SeedSequence(config.training.seed).spawn(3)
        self.dataset = dataset or make_dataset(config.data, np.random.default_rng(data_seed))
        d = self.dataset
        # A file's task, classes, size and width are known only now: check what depends on
        # them, before the big allocations.
        check_loss_fits(config.model.loss, d.task, d.n_classes)
        check_batch_fits(config, len(d.X_train))
        # The network's inputs: data.features of each point (the points themselves by
        # default, so old configs and checkpoints read the same arrays).
        self._cross, self.n_inputs = crossing(config.data.features, d.n_features, d.name)
        self.loss = get_loss(config.model.loss, d.task)
        self._n_out = self.loss.outputs(d.n_outputs)
        check_memory(config, self.n_inputs, self._n_out, len(d.X_train), len(d.X_val))
        self.X_train, self.y_train = self._cast(self._cross(d.X_train), d.y_train)
        self.X_val, self.y_val = self._cast(self._cross(d.X_val), d.y_val)
        self.network = self._initial_network()
        self.optimizer = make_optimizer(config.optimizer)
        self.batches = _Batches(
            self.X_train,
            self.y_train,
            config.training.batch_size,
            np.random.default_rng(batch_seed),
        )
        self.n_layers = len(self.network.layers)
        self.columns = history_columns(self.n_layers)
        self.history = History(self.columns)
        self.evals: list[EvalRecord] = []
        # (step, per hidden layer mean_off_diagonal(unit_similarity(W))) at each evaluation
        self.similarity: list[tuple[int, list[float]]] = []
        self.distributions = DistributionStore(self.n_layers)
        self.timeline = Timeline([layer.units for layer in self.network.layers])
        self.steps_done = 0
        self.diverged: Diverged | None = None
        self._digest: str | None = None
        if config.training.eval_every:
            # A divergence here stays in self.diverged: the first step() raises it.
            with contextlib.suppress(Diverged):
                self._record_evaluation()

    def _initial_network(self) -> MLP:
        """The network as this config's seed initializes it."""
        return build_network(
            self.config.model,
            self.n_inputs,
            self._n_out,
            np.random.default_rng(self._init_seed),
            self.dtype,
        )

    def _cast(self, X: Array, y: Array) -> tuple[Array, Array]:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if self.dataset.task == "regression":
            return X, np.ascontiguousarray(y, dtype=self.dtype)
        return X, np.ascontiguousarray(y, dtype=np.int64)

    @property
    def events(self) -> list[Event]:
        """The timeline: what happened, in step order (engine.train.events). The batch
        losses of the steps since the last sample are read at the next sample, evaluation,
        rate change, checkpoint or catch_up(): a loss spike shows up to SAMPLE_EVERY steps
        later (with its own step)."""
        return self.timeline.events

    def catch_up(self) -> None:
        """Bring the timeline up to the last step (the training thread's call: the end of
        a run, before its last events are read)."""
        self.timeline.catch_up()

    @property
    def epoch(self) -> float:
        return self.steps_done * self.config.training.batch_size / len(self.X_train)

    @property
    def lr(self) -> float:
        """The rate of the next step: optimizer.lr under its schedule."""
        return learning_rate(self.config.optimizer, self.steps_done)

    def set_learning_rate(self, lr: float) -> None:
        """Change the running run's rate (the schedule applies on top): trainer.config is
        replaced by a copy with optimizer.lr = lr. ConfigError when lr is not allowed."""
        old = self.config.optimizer.lr
        self.config = self.config.with_changes(optimizer={"lr": lr})
        self.optimizer.config = self.config.optimizer
        if self.config.optimizer.lr != old:
            self.timeline.learning_rate(self.steps_done, old, self.config.optimizer.lr)

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
        return self.finish_step(loss, accuracy, lr, stats)

    def finish_step(
        self,
        loss: float,
        accuracy: float,
        lr: float,
        stats: list[float],
        sampled: Callable[[], Mapping[str, Sequence[Array]]] | None = None,
        evaluated: Callable[[], EvalRecord] | None = None,
    ) -> StepRecord:
        """Everything a step does after the update: count it, check it is finite, then
        store_step its row (loss, accuracy, lr, stats) and return its record."""
        self.steps_done += 1
        self._check_finite(loss, stats)
        values = np.array([loss, accuracy, lr, *stats])
        self.store_step(values, sampled, evaluated)
        return self.step_record(values)

    def store_step(
        self,
        values: Array,
        sampled: Callable[[], Mapping[str, Sequence[Array]]] | None = None,
        evaluated: Callable[[], EvalRecord] | None = None,
    ) -> None:
        """The rest of finish_step, for a step counted in steps_done and checked finite,
        its row `values` the history's (STEP_COLUMNS, then the stats): store the row, queue
        the loss for the timeline, every SAMPLE_EVERY steps sample the distributions (and
        the timeline reads the stats), and evaluate every eval_every steps. `sampled`
        gives the values a sample counts ({"activations": per layer, "gradients": per
        layer}); None: the network's last forward and backward. `evaluated` gives the
        evaluation; None: evaluate(). (A stacked run passes its member's, computed
        together, after checking all its members' rows at once.)"""
        step = self.steps_done
        self.history.append(step, values)
        self.timeline.pending.append((step, float(values[0])))
        if step % SAMPLE_EVERY == 0:
            if sampled is None:
                self.distributions.sample(self.network, step)
            else:
                self.distributions.add(step, sampled())
            self.timeline.stats(self.step_record(values))
        every = self.config.training.eval_every
        if every and step % every == 0:
            self._record_evaluation(evaluated)

    def step_record(self, values: Array) -> StepRecord:
        """The record of the last step, whose history row is `values`."""
        loss, accuracy, lr = values[: len(STEP_COLUMNS)].tolist()
        stats = values[len(STEP_COLUMNS) :].reshape(self.n_layers, len(LAYER_STATS))
        return StepRecord(self.steps_done, self.epoch, loss, accuracy, lr, stats)

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
        self._diverge(what)

    def _diverge(self, what: str) -> NoReturn:
        self.diverged = Diverged(self.steps_done, what)
        self.timeline.diverged(self.diverged)
        raise self.diverged

    def _record_evaluation(self, evaluated: Callable[[], EvalRecord] | None = None) -> None:
        """Append evaluate() (or `evaluated()`, an equal record computed elsewhere); a
        non-finite loss over the data is a divergence too (and an evaluation a checkpoint
        could not hold)."""
        ev = self.evaluate() if evaluated is None else evaluated()
        for name, value in (("train_loss", ev.train_loss), ("val_loss", ev.val_loss)):
            if not math.isfinite(value):
                self._diverge(f"the evaluation's {name} is {value}")
        self.evals.append(ev)
        self.similarity.append((ev.step, mean_similarity(self.network)))
        self.timeline.evaluation(ev)

    def run(self, n: int, stop: threading.Event | None = None) -> RunResult:
        """Up to n steps; stops early on divergence or when `stop` is set. The timeline
        is caught up at the end."""
        try:
            return self._run(n, stop)
        finally:
            self.catch_up()

    def _run(self, n: int, stop: threading.Event | None) -> RunResult:
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
        """Loss and accuracy on the whole training and validation sets, and the dead units:
        zero for every sample of the training set."""
        return self._evaluate(self.network, self.steps_done)

    def _evaluate(self, network: MLP, step: int) -> EvalRecord:
        with np.errstate(all="ignore"):
            train_loss, train_acc = self._measure(network, self.X_train, self.y_train)
            dead = dead_units(network)  # the training set's forward is the last one
            val_loss, val_acc = self._measure(network, self.X_val, self.y_val)
        return EvalRecord(step, train_loss, train_acc, val_loss, val_acc, dead)

    def _measure(self, network: MLP, X: Array, y: Array) -> tuple[float, float]:
        logits = network.forward(X)
        loss, _ = self.loss.compute(logits, y)
        return loss, self.loss.accuracy(logits, y)

    def inputs(self, points: Array) -> Array:
        """The network's inputs for points of the data's plane: their data.features, in
        the training dtype."""
        return np.ascontiguousarray(
            self._cross(np.asarray(points, dtype=np.float64)), dtype=self.dtype
        )

    def predict(self, X: Array) -> Array:
        """Class probabilities (N, C) for classification, outputs for regression, at
        points X of the data's plane (the features are computed here)."""
        with np.errstate(all="ignore"):
            logits = self.network.forward(self.inputs(X))
            return self.loss.probabilities(logits)

    def grid(self, width: int, height: int, margin: float = 0.1) -> tuple[Array, Array]:
        """xs (width,) and ys (height,) spanning the 2-D data's points, `margin` of the
        span added on each side."""
        if self.dataset.n_features != 2:
            raise ValueError("a grid needs 2-D data")
        X = np.concatenate([self.dataset.X_train, self.dataset.X_val])
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = (hi - lo) * margin
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], width)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], height)
        return xs, ys

    def predict_grid(
        self, width: int, height: int, margin: float = 0.1
    ) -> tuple[Array, Array, Array]:
        """Predictions over grid(): xs (width,), ys (height,), values (height, width, C);
        row 0 is the lowest y."""
        xs, ys = self.grid(width, height, margin)
        values = self.predict(_grid_points(xs, ys))
        return xs, ys, values.reshape(height, width, -1)

    def unit_maps(self, xs: Array, ys: Array) -> list[Array]:
        """Every hidden unit's activation over the grid of points (xs[j], ys[i]) of the
        data's plane: per hidden layer a (len(ys), len(xs), units) array, row 0 the lowest
        y (predict_grid's layout), from one batched forward of this trainer's network
        (a look at a live run calls it on a copy with its own network)."""
        if self.dataset.n_features == 1:  # a curve: one row over xs (ys is not read)
            points, shape = np.asarray(xs, np.float64)[:, None], (1, len(xs))
        else:
            points, shape = _grid_points(xs, ys), (len(ys), len(xs))
        return unit_maps(self.network, self.inputs(points), shape)

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> dict[str, Array]:
        """The whole training state as plain arrays (engine.train.checkpoint's format).
        restore() on a Trainer built from the same config continues to exactly the result
        of an uninterrupted run."""
        net, opt, batches = self.network, self.optimizer, self.batches
        arrays: dict[str, Array] = {
            "format": np.array(CHECKPOINT_FORMAT, np.int64),
            "data_digest": np.array(self._data_digest()),
            "theta": net.theta.copy(),
            "grad": net.grad.copy(),  # not needed to step on, but what the last step left
            "steps_done": np.array(self.steps_done, np.int64),
            "optimizer.t": np.array(opt.t, np.int64),
            "batches.position": np.array(batches.position, np.int64),
            # The order as indices: the shuffled copies of X and y follow from it.
            "batches.perm": batches.perm.astype(np.int64),
            "batches.rng": np.array(json.dumps(batches.rng.bit_generator.state)),
            "evals": evals_table(self.evals, self.n_layers - 1),
            "diverged.step": np.array(self.diverged.step if self.diverged else -1, np.int64),
            "diverged.what": np.array(self.diverged.what if self.diverged else ""),
        }
        for key, buffer in opt.state.items():
            arrays[f"optimizer.state.{key}"] = buffer.copy()
        for key, value in self.history.state().items():
            arrays[f"history.{key}"] = value
        arrays["similarity"] = np.array(
            [[step, *means] for step, means in self.similarity], np.float64
        ).reshape(len(self.similarity), self.n_layers)
        arrays["timeline"] = np.array(self.timeline.to_json())
        for key, value in self.distributions.state().items():
            arrays[f"distributions.{key}"] = value
        return arrays

    @classmethod
    def from_checkpoint(cls, config: ExperimentConfig, arrays: Mapping[str, Array]) -> Trainer:
        trainer = cls(config)
        trainer.restore(arrays)
        return trainer

    def restore(self, arrays: Mapping[str, Array]) -> None:
        """Load a checkpoint() of a trainer with the same config (its training.steps may be
        larger); format 1 checkpoints are migrated. Every array is checked before anything
        changes: on CheckpointError (which names the array) this trainer is as it was."""
        c = Checked(arrays)
        version = c.scalar("format", "i")
        config = self.config
        if version == 1:
            arrays, live_lr = migrate_v1(arrays)
            c = Checked(arrays)
            if live_lr != config.optimizer.lr:  # format 1 kept a live change apart
                try:
                    config = config.with_changes(optimizer={"lr": live_lr})
                except ConfigError as error:
                    raise CheckpointError(f"base_lr: {error.reason}") from None
        elif version != CHECKPOINT_FORMAT:
            raise CheckpointError(
                f"format: version {version}, expected {CHECKPOINT_FORMAT} (or 1, migrated)"
            )
        if c.text("data_digest") != self._data_digest():
            raise CheckpointError("data_digest: the dataset differs from the checkpoint's")
        net, n = self.network, len(self.X_train)
        steps_done = c.scalar("steps_done", "i")
        if not 0 <= steps_done <= config.training.steps:
            raise CheckpointError(
                f"steps_done: {steps_done} steps done, expected 0 to the config's "
                f"training.steps = {config.training.steps}"
            )
        diverged_step = c.scalar("diverged.step", "i")
        if diverged_step not in (-1, steps_done):
            raise CheckpointError(
                f"diverged.step: {diverged_step}, expected -1 or the {steps_done} steps done"
            )
        diverged = Diverged(diverged_step, c.text("diverged.what")) if diverged_step >= 0 else None
        finite = diverged is None  # a diverged run is never trained on again
        theta = c.array("theta", net.theta.dtype, net.theta.shape, finite)
        grad = c.array("grad", net.grad.dtype, net.grad.shape, finite)
        t = c.scalar("optimizer.t", "i")
        if t != steps_done:
            raise CheckpointError(f"optimizer.t: {t} updates, expected the {steps_done} steps")
        state = self._optimizer_state(c, t, finite)
        position = c.scalar("batches.position", "i")
        perm = c.array("batches.perm", np.dtype(np.int64), None)
        if perm.size == 0:
            if position != n:  # no epoch drawn yet: the next batch must draw one
                raise CheckpointError(f"batches.position: {position} with no order drawn")
        elif perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise CheckpointError(f"batches.perm: not a permutation of the {n} training rows")
        elif not 0 <= position <= n:
            raise CheckpointError(f"batches.position: {position}, expected 0 to {n}")
        batch_rng = rng_state(c.text("batches.rng"), self.batches.rng)
        regression = self.dataset.task == "regression"
        units = [layer.units for layer in net.layers[:-1]]
        table = c.array("evals", np.dtype(np.float64), None)
        evals = evals_from_table(table, units, steps_done, regression)
        if version == 1 and config.training.eval_every and (not evals or evals[0].step):
            evals = self._initial_evaluation() + evals  # format 1 began at eval_every
        history = history_from(arrays, self.history, ("accuracy",) if regression else ())
        if (history.last_step or 0) > steps_done:
            raise CheckpointError(
                f"history.raw_steps: rows up to step {history.last_step}, beyond the "
                f"{steps_done} steps done"
            )
        # What checkpoints hold since the timeline, the similarity and the distributions
        # came: an older one starts them empty.
        similarity = self._similarity_from(c, steps_done)
        timeline = Timeline(self.timeline.units)
        if "timeline" in arrays:
            try:
                timeline.load_json(c.text("timeline"), steps_done)
            except ValueError as error:
                raise CheckpointError(f"timeline: {error}") from None
        distributions = DistributionStore(self.n_layers)
        prefix = "distributions."
        sampled = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        if sampled:
            try:
                distributions.restore(sampled)
            except ValueError as error:
                raise CheckpointError(f"distributions.{error}") from None

        # Everything checked: now change the trainer. theta and grad are copied in place
        # because every layer's W, b, dW and db are views into them.
        self.config = config
        self.optimizer.config = config.optimizer
        net.theta[...] = theta
        net.grad[...] = grad
        self.optimizer.t = t
        self.optimizer.state = {key: value.copy() for key, value in state.items()}
        self.steps_done = steps_done
        self.batches.rng.bit_generator.state = batch_rng
        if perm.size:
            self.batches.set_order(perm.copy(), position)
        self.evals = evals
        self.history = history
        self.diverged = diverged
        self.similarity = similarity
        self.timeline = timeline
        self.distributions = distributions

    def _similarity_from(self, c: Checked, steps_done: int) -> list[tuple[int, list[float]]]:
        """The checkpoint's similarity table (none in an older checkpoint): a row an
        evaluation, its step then a mean similarity in [-1, 1] (NaN: a one-unit layer) per
        hidden layer."""
        if "similarity" not in c.arrays:
            return []
        table = c.array("similarity", np.dtype(np.float64), None)
        if table.ndim != 2 or table.shape[1] != self.n_layers:
            raise CheckpointError(
                f"similarity: shape {table.shape}, expected (evaluations, {self.n_layers})"
            )
        steps, means = table[:, 0], table[:, 1:]
        whole = np.all(steps == np.floor(steps))
        if not whole or np.any(np.diff(steps) <= 0) or np.any((steps < 0) | (steps > steps_done)):
            raise CheckpointError(
                "similarity: steps must be whole and increase, from 0 to the steps done"
            )
        if np.any(~np.isnan(means) & ~(np.abs(means) <= 1.0 + 1e-9)):
            raise CheckpointError("similarity: means must be from -1 to 1 (or NaN)")
        return [(int(row[0]), row[1:].tolist()) for row in table]

    def _optimizer_state(self, c: Checked, t: int, finite: bool) -> dict[str, Array]:
        """The optimizer's buffers, as many as a fresh optimizer of this config keeps after
        an update; running averages of squares must not be negative."""
        theta = self.network.theta
        prefix = "optimizer.state."
        state = {
            key[len(prefix) :]: c.array(key, theta.dtype, theta.shape, finite)
            for key in c.arrays
            if key.startswith(prefix)
        }
        fresh = probe(self.config.optimizer)
        expected = set(fresh.state) if t > 0 else set()
        if set(state) != expected:
            raise CheckpointError(
                f"optimizer.state: buffers {sorted(state)}, expected {sorted(expected)} "
                f"for {self.config.optimizer.name}"
            )
        for key, value in state.items():
            if finite and key.rpartition(".")[2] in fresh.squares and np.any(value < 0):
                raise CheckpointError(
                    f"optimizer.state.{key}: negative entries in an average of squares"
                )
        return state

    def _initial_evaluation(self) -> list[EvalRecord]:
        """The step-0 evaluation, from the initial weights this config's seed draws (none
        when it is not finite)."""
        ev = self._evaluate(self._initial_network(), 0)
        return [ev] if math.isfinite(ev.train_loss) and math.isfinite(ev.val_loss) else []

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


def _grid_points(xs: Array, ys: Array) -> Array:
    """(len(ys) * len(xs), 2): the grid's points, row by row from the lowest y."""
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])
