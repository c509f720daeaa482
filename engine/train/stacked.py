"""Members trained together: M runs of one architecture as one network with a leading
member axis, each member still a whole Trainer.

    from engine.train.stacked import StackedTrainer, group_members
    for group in group_members(configs):
        stacked = StackedTrainer([configs[i] for i in group])
        stacked.run(2000)
        stacked.members[0].history  # a Trainer, as Trainer(configs[group[0]]).run(2000) left it

Members may differ in the fields of FREE_FIELDS (the seed: initial weights and batch order;
the init; every optimizer number, broadcast per member); everything else (the data, the
widths, the activation, the loss, the optimizer's rule, the batch size, the dtype) is shared.
The stacked kernels make, per member, the same BLAS and NumPy calls a Trainer makes, so each
member's numbers are bit for bit its Trainer's (tests/engine/test_stacked.py checks it).
"""

from __future__ import annotations

import json
import math
import operator
import threading
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from engine.config import ConfigError, ExperimentConfig, OptimizerConfig
from engine.nn.layers import member_vdots, ones
from engine.nn.network import StackedMLP
from engine.nn.optimizers import Factor, make_optimizer
from engine.nn.subnormals import FLUSH_EVERY, flush_subnormals
from engine.train.diagnostics import _VDOT_FROM, LAYER_STATS, _count
from engine.train.records import STEP_COLUMNS, Diverged, EvalRecord, RunResult, StepRecord
from engine.train.trainer import Trainer

Array = np.ndarray

# Values in a layer's outputs over the data, all members together, up to which the members
# are evaluated in one stacked forward (beyond, each evaluates itself: less memory).
EVALUATE_TOGETHER = 1 << 24

# What members of one stack may differ in; every other field must be equal.
FREE_FIELDS = frozenset(
    {
        "model.init",
        "model.init_scale",
        "model.bias_init",
        "model.bias_value",
        "optimizer.lr",
        "optimizer.momentum",
        "optimizer.beta1",
        "optimizer.beta2",
        "optimizer.rho",
        "optimizer.eps",
        "optimizer.weight_decay",
        "optimizer.clip_norm",
        "optimizer.schedule",
        "optimizer.step_size",
        "optimizer.gamma",
        "optimizer.decay_steps",
        "training.seed",
        "training.steps",
        "training.eval_every",
        "training.memory_budget_mb",
    }
)


def _shared(config: ExperimentConfig) -> dict[str, object]:
    """The fields members must share, by dotted name."""
    return {
        f"{section}.{name}": value
        for section, fields in config.to_dict().items()
        for name, value in fields.items()
        if f"{section}.{name}" not in FREE_FIELDS
    }


def _conflicts(a: ExperimentConfig, b: ExperimentConfig) -> list[str]:
    """The shared fields in which a and b differ."""
    shared_a, shared_b = _shared(a), _shared(b)
    return [name for name, value in shared_a.items() if shared_b[name] != value]


def can_stack(a: ExperimentConfig, b: ExperimentConfig) -> bool:
    """Whether runs of a and b can train as one stacked network."""
    return not _conflicts(a, b)


def group_members(configs: Sequence[ExperimentConfig]) -> list[list[int]]:
    """The indices of configs in groups that can stack, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        key = json.dumps(_shared(config), sort_keys=True)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


class StackedTrainer:
    """Trainers of configs that can_stack, trained as one stacked network.

    members[i] is a whole Trainer of configs[i], kept in step: its network's theta and
    grad are views of row i of the stacked arrays, its optimizer's state views of the
    stacked state, and its batches, history, evals, timeline, steps_done and diverged are
    its own, as Trainer(configs[i]) would hold them after as many steps (each step ends in
    the member's own Trainer.store_step: finish_step after its finiteness check, which
    the stack makes for all the members at once). A member that diverges leaves the
    stack (its arrays become its own again); the others go on. Step it from one thread,
    as a Trainer.
    """

    def __init__(self, configs: Sequence[ExperimentConfig]) -> None:
        configs = list(configs)
        if not configs:
            raise ConfigError("members", "no configs to train together")
        for config in configs[1:]:
            conflicts = _conflicts(configs[0], config)
            if conflicts:
                free = ", ".join(sorted(FREE_FIELDS))
                raise ConfigError(
                    conflicts[0],
                    f"differs between members trained together; they may differ only in {free}",
                )
        first = Trainer(configs[0])
        # The members share the data (the same data section makes the same data set).
        self.members = [first, *(Trainer(config, first.dataset) for config in configs[1:])]
        self.loss = first.loss
        self._stack()

    # ------------------------------------------------------------------ the stack

    def _stack(self) -> None:
        """Build the stacked arrays from the live members' own states."""
        self._live = [m for m in self.members if m.diverged is None]
        live = self._live
        self._index = [self.members.index(m) for m in live]
        self._order: tuple[Array, Array] | None = None  # the members' batch order, stacked
        self._order_views: list[Array] = []
        self._settings: list[OptimizerConfig] = []  # the configs _shared_settings saw
        self._state_dicts: list[dict[str, Array]] = []
        self._evaluations: list[tuple[float, float, float, float, list[int]]] | None = None
        if not live:
            return
        self.network = StackedMLP([m.network for m in live])
        self.optimizer = make_optimizer(live[0].config.optimizer)
        keys = {key for m in live for key in m.optimizer.state}
        for key in keys:  # a member that has not stepped yet has zeros to come
            rows = [m.optimizer.state.get(key, np.zeros_like(m.network.theta)) for m in live]
            self.optimizer.state[key] = np.stack(rows)
        self._bind_state()
        self._delta = np.empty_like(self.network.theta)
        # The squared norms' work array (the wide nets that take the vdot path need none).
        small = self._delta.shape[1] < _VDOT_FROM
        self._squares = np.empty((3, *self._delta.shape), self._delta.dtype) if small else None
        self._samplers = [self._sampler(i, m) for i, m in enumerate(live)]
        self._evaluators = [self._evaluator(i, m) for i, m in enumerate(live)]

    def _bind_state(self) -> None:
        """Make each live member's optimizer state views of its stacked rows."""
        state = self.optimizer.state
        for i, m in enumerate(self._live):
            m.optimizer.state = {key: buffer[i] for key, buffer in state.items()}
        self._state_dicts = [m.optimizer.state for m in self._live]

    def _unstack(self, member: Trainer) -> None:
        """Give a member leaving the stack arrays of its own, with the values it has."""
        net = member.network
        net.bind(net.theta.copy(), net.grad.copy())
        member.optimizer.state = {key: v.copy() for key, v in member.optimizer.state.items()}

    def _check_members(self) -> None:
        """Restack when a member's optimizer state was replaced from outside (as
        Trainer.restore does): the stacked arrays are rebuilt from the members'."""
        for m, state in zip(self._live, self._state_dicts, strict=True):
            if m.optimizer.state is not state:
                self._stack()
                return

    # ------------------------------------------------------------------ a step

    def step(self) -> list[StepRecord | None]:
        """One minibatch update of every live member: the records, one per member (None
        for a member that did not step, or diverged in this step)."""
        records: list[StepRecord | None] = [None] * len(self.members)
        for i, member, values in self._step():
            records[i] = member.step_record(values)
        return records

    def _step(self) -> list[tuple[int, Trainer, Array]]:
        """step() without the records: (index, member, history row) of each member that
        stepped (a run needs no records; the lab's compare view does)."""
        self._check_members()
        live = self._live
        if not live:
            return []
        X, y = self._next_batches()
        settings = self._shared_settings()
        lrs = [live[0].lr] * len(live) if settings else [m.lr for m in live]
        net = self.network
        # Every member's history row (STEP_COLUMNS, then the stats), filled in place.
        rows = np.zeros((len(live), len(live[0].columns)))
        stats = rows[:, len(STEP_COLUMNS) :]
        with np.errstate(all="ignore"):  # divergence is reported per member, below
            logits = net.forward(X)
            accuracy = self.loss.accuracy_members(logits, y)
            loss, dlogits = self.loss.compute_members(logits, y)
            net.backprop(dlogits)
            delta = self._update(lrs, settings)
            step_stats(net, delta, self._squares, out=stats)
            rows[:, 0], rows[:, 1], rows[:, 2] = loss, accuracy, lrs  # as STEP_COLUMNS
            # A sum is finite only when all its terms are: such a row needs no closer look
            # (Trainer._check_finite looks at the others, and names what is not finite).
            checked = np.isfinite(loss + stats.sum(axis=1)).tolist()
        stepped = []
        self._evaluations = None  # this step's, computed when a member first asks
        for i, (m, values) in enumerate(zip(live, rows, strict=True)):
            sampled, evaluated = self._samplers[i], self._evaluators[i]
            try:
                if checked[i]:
                    m.steps_done += 1  # counted, as finish_step counts it
                    m.store_step(values, sampled, evaluated)
                else:
                    loss, accuracy, lr, *row = values.tolist()
                    m.finish_step(loss, accuracy, lr, row, sampled, evaluated)
                stepped.append((self._index[i], m, values))
            except Diverged:  # kept in m.diverged: it leaves the stack below
                pass
        if len(stepped) < len(live):  # some diverged: they leave the stack
            for m in live:
                if m.diverged is not None:
                    self._unstack(m)
            self._stack()
        return stepped

    def _next_batches(self) -> tuple[Array, Array]:
        """Every live member's next minibatch, (M, batch, inputs) and (M, batch): what its
        own batches.next() returns, with one gather an epoch for all the members."""
        batches = [m.batches for m in self._live]
        first = batches[0]
        position, size, n = first.position, first.size, len(first.X)
        positions = [b.position for b in batches]
        if positions.count(position) != len(positions):  # out of step: one at a time
            pairs = [b.next() for b in batches]
            return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
        if position + size > n:  # a new epoch, drawn as _Batches.next draws it
            perms = [b.rng.permutation(n) for b in batches]
            order = np.stack(perms)
            self._order = first.X[order], first.y[order]  # the members' X and y are equal
            self._order_views = []
            for b, perm, order_X, order_y in zip(batches, perms, *self._order, strict=True):
                b.perm, b.order_X, b.order_y = perm, order_X, order_y  # as set_order
                self._order_views.append(order_X)
            position = 0
        elif self._order is None or not all(
            map(operator.is_, [b.order_X for b in batches], self._order_views)
        ):  # the order was set elsewhere (a restore): stack the members' own
            self._order = (
                np.stack([b.order_X for b in batches]),
                np.stack([b.order_y for b in batches]),
            )
            self._order_views = [b.order_X for b in batches]
        end = position + size
        for b in batches:
            b.position = end
        order_X, order_y = self._order
        return order_X[:, position:end], order_y[:, position:end]

    def _sampler(self, i: int, member: Trainer) -> Callable[[], dict[str, list[Array]]]:
        """What a distributions sample of live member i counts: its part of the stacked
        forward, and its gradient layer by layer."""
        layers, grad = self.network.layers, member.network.grad
        starts = [*self.network.segment_starts.tolist(), grad.size]
        bounds = list(pairwise(starts[0::2]))  # a layer's W and b, in one slice
        return lambda: {
            "activations": [layer.a[i] for layer in layers],
            "gradients": [grad[start:end] for start, end in bounds],
        }

    def _evaluator(self, i: int, member: Trainer) -> Callable[[], EvalRecord] | None:
        """Live member i's evaluate(), from one stacked evaluation of all the live members
        a step (None, so that the member evaluates itself, when that would be too big)."""
        widest = max(layer.b.size for layer in member.network.layers)
        rows = max(len(member.X_train), len(member.X_val))
        if len(self._live) * rows * widest > EVALUATE_TOGETHER:
            return None

        def evaluated() -> EvalRecord:
            if self._evaluations is None:
                self._evaluations = self._evaluate()
            return EvalRecord(member.steps_done, *self._evaluations[i])

        return evaluated

    def _evaluate(self) -> list[tuple[float, float, float, float, list[int]]]:
        """Trainer._evaluate's numbers (train loss and accuracy, validation loss and
        accuracy, dead units) of every live member, from one stacked forward of the
        training set and one of the validation set."""
        first, net = self._live[0], self.network
        with np.errstate(all="ignore"):
            outputs = net.outputs(first.X_train)
            train_loss, train_accuracy = self._measure(outputs[-1], first.y_train)
            hidden = list(zip(net.layers[:-1], outputs[:-1], strict=True))
            dead = [
                [_count(layer.activation.dead_units, a[m]) for layer, a in hidden]
                for m in range(len(self._live))
            ]
            val_loss, val_accuracy = self._measure(net.outputs(first.X_val)[-1], first.y_val)
        return list(zip(train_loss, train_accuracy, val_loss, val_accuracy, dead, strict=True))

    def _measure(self, logits: Array, y: Array) -> tuple[list[float], list[float]]:
        """Trainer._measure of each member: its loss and accuracy on labels y."""
        y = np.broadcast_to(y, (len(logits), *y.shape))
        loss, _ = self.loss.compute_members(logits, y)
        return loss.tolist(), self.loss.accuracy_members(logits, y).tolist()

    def _update(self, lrs: list[float], settings: OptimizerConfig | None) -> Array:
        """Optimizer.step_flat for every live member, with its own numbers (all the same
        numbers: the shared `settings`)."""
        live, net = self._live, self.network
        grad, theta = net.grad, net.theta
        for m in live:
            m.optimizer.t += 1
        if settings is not None:
            # One set of numbers: the factors are the floats a Trainer uses.
            factors: Sequence[Factor] = live[0].optimizer.factors(lrs[0])
            clips, decays = [settings.clip_norm], [settings.weight_decay]
        else:
            rows = [m.optimizer.factors(lr) for m, lr in zip(live, lrs, strict=True)]
            factors = list(np.array(rows, dtype=grad.dtype).T[..., None])  # each (M, 1)
            clips = [m.optimizer.config.clip_norm for m in live]
            decays = [m.optimizer.config.weight_decay for m in live]
        if any(clips):
            grad = grad.copy()  # the stats read the gradient before clipping
            for i in range(len(live)):
                clip = clips[i % len(clips)]
                total = math.sqrt(float(np.vdot(grad[i], grad[i])))
                if clip > 0 and total > clip:
                    grad[i] *= clip / (total + 1e-6)
        if any(decays):
            decay = np.array(decays, grad.dtype)[:, None]
            decayed = grad + (decay * net.decay_mask) * theta
            for i in range(len(live)):
                if not decays[i % len(decays)]:  # as step_flat: such a gradient is untouched
                    decayed[i] = grad[i]
            grad = decayed
        delta = self.optimizer.update("theta", grad, factors, self._delta)
        theta -= delta
        # Each member's flush_due: its rows of the state, when its own count is due.
        due = [i for i, m in enumerate(live) if m.optimizer.t % FLUSH_EVERY == 0]
        parts: list[int | slice] = [slice(None)] if len(due) == len(live) else list(due)
        for buffer in self.optimizer.state.values() if due else ():
            for part in parts:
                flush_subnormals(buffer[part])
        if len(self._state_dicts[0]) != len(self.optimizer.state):  # the first update
            self._bind_state()
        return delta

    def _shared_settings(self) -> OptimizerConfig | None:
        """The live members' optimizer config when they all have equal ones and have
        taken as many steps (so their rates and factors are equal), else None. The
        configs are compared again only when a member's changes (set_learning_rate)."""
        live = self._live
        configs = [m.config.optimizer for m in live]
        if configs != self._settings:  # identity first: equal unless one was replaced
            self._settings = configs
            self._same = configs.count(configs[0]) == len(configs)
        steps = [m.steps_done for m in live]
        if self._same and steps.count(steps[0]) == len(steps):
            return configs[0]
        return None

    # ------------------------------------------------------------------ runs

    def run(self, n: int, stop: threading.Event | None = None) -> list[RunResult]:
        """Up to n steps of every member; each result is what Trainer.run(n) returns for
        it: a member stops early when it diverges, all stop when `stop` is set."""
        results: list[RunResult | None] = [
            RunResult(0, diverged=m.diverged) if m.diverged else None for m in self.members
        ]
        for done in range(n):
            if None not in results:
                break
            if stop is not None and stop.is_set():
                return [r or RunResult(done, stopped=True) for r in results]
            live = self._live
            self._step()
            if self._live is not live:  # restacked: a member may have left
                for i, m in enumerate(self.members):
                    if results[i] is None and m.diverged is not None:
                        results[i] = RunResult(done + 1, diverged=m.diverged)
        return [r or RunResult(n) for r in results]


_COLUMN = {name: k for k, name in enumerate(LAYER_STATS)}


def step_stats(
    net: StackedMLP, delta: Array, squares: Array | None = None, out: Array | None = None
) -> Array:
    """engine.train.diagnostics.step_stats of every member: (M, layers * LAYER_STATS),
    written into `out` if given (zeros, float64: the saturated column stays 0 where no
    unit can saturate).
    `squares` (3, M, P) in the parameters' dtype, if given, is the squared norms' work
    array: kept from step to step, because fresh ones this big go back to the OS when
    freed, and their page faults cost ten times the arithmetic (4 members of a 64-wide
    net: 170 faults a step, stats 3x slower than the members' own)."""
    rows = (net.grad, net.theta, delta)
    g2, w2, d2 = _squared_norms(rows, net.segment_starts, squares)
    m, n_layers = len(g2), len(net.layers)
    if out is None:
        out = np.zeros((m, n_layers * len(LAYER_STATS)))
    flat = out
    out = out.reshape(m, n_layers, len(LAYER_STATS), copy=False)
    weight_norm = np.sqrt(w2[:, 0::2], out=out[..., _COLUMN["weight_norm"]])
    np.sqrt(g2[:, 0::2], out=out[..., _COLUMN["grad_norm_W"]])
    np.sqrt(g2[:, 1::2], out=out[..., _COLUMN["grad_norm_b"]])
    ratio = out[..., _COLUMN["update_ratio"]]  # 0 where the weights are all 0
    np.divide(np.sqrt(d2[:, 0::2]), weight_norm, out=ratio, where=weight_norm > 0)
    last = n_layers - 1
    for i, layer in enumerate(net.layers):
        saturated = layer.activation.saturated_units
        if saturated and i < last:
            out[:, i, _COLUMN["saturated"]] = [saturated(member) for member in layer.a]
    means, stds = mean_std([layer.a for layer in net.layers])
    out[..., _COLUMN["act_mean"]] = means.T
    out[..., _COLUMN["act_std"]] = stds.T
    return flat


def mean_std(arrays: list[Array]) -> tuple[Array, Array]:
    """engine.train.diagnostics.mean_std of each member of each array (M, N, units), all
    of one dtype: means and stds, (arrays, M)."""
    sizes = np.array([a[0].size for a in arrays], dtype=np.float64)[:, None]
    centred = [a - a[:, :1, :1] for a in arrays]  # each member shifted by its first value
    # Per-unit sums as a product with ones, then added up as mean_std's Python sum adds
    # them: one after the other in float64 from 0.0. That is a cumulative sum's last
    # entry, taken over the units of all the arrays at once: each array's sums padded
    # with zeros to the widest (adding 0.0 changes a sum only from -0.0 to 0.0, which
    # the + 0.0 does anyway, as sum's start 0 does).
    sums = np.zeros((max(a.shape[-1] for a in arrays), len(arrays), len(arrays[0])))
    for k, c in enumerate(centred):
        sums[: c.shape[-1], k] = np.matmul(ones(c.shape[1], c.dtype), c).T
    means = (np.add.accumulate(sums)[-1] + 0.0) / sizes
    squares = np.array([member_vdots(c) for c in centred], dtype=np.float64) / sizes
    variances = np.maximum(squares - means * means, 0.0)
    shifts = np.array([a[:, 0, 0] for a in arrays], dtype=np.float64)
    return shifts + means, np.sqrt(variances)


def _squared_norms(rows: Sequence[Array], starts: Array, squares: Array | None) -> Array:
    """diagnostics._squared_norms of every row of each (M, P) array, as float64
    (arrays, M, segments)."""
    size = rows[0].shape[-1]
    if size < _VDOT_FROM:
        # The squares of all the rows end to end and one 1-D reduceat over them, each
        # row's segments where the Trainer's are: the Trainer's call on each row.
        if squares is None:
            squares = np.empty((len(rows), *rows[0].shape), rows[0].dtype)
        for x, out in zip(rows, squares, strict=True):
            np.square(x, out=out)
        norms = np.add.reduceat(squares.reshape(-1), _row_bounds(squares.shape, starts))
        return norms.astype(np.float64).reshape(len(rows), len(rows[0]), -1)
    bounds = [*starts.tolist(), size]
    segments = [[member_vdots(x[:, s:e]) for s, e in pairwise(bounds)] for x in rows]
    return np.array(segments, np.float64).transpose(0, 2, 1)  # (arrays, M, segments)


_ROW_BOUNDS: dict[tuple[tuple[int, ...], bytes], Array] = {}


def _row_bounds(shape: tuple[int, ...], starts: Array) -> Array:
    """Where each row's segments begin in an array of this shape read flat (the rows its
    last axis), kept: a stack's shapes do not change from step to step."""
    key = (shape, starts.tobytes())
    bounds = _ROW_BOUNDS.get(key)
    if bounds is None:
        size = shape[-1]
        bounds = (np.arange(0, math.prod(shape), size)[:, None] + starts).ravel()
        bounds.flags.writeable = False
        _ROW_BOUNDS[key] = bounds
    return bounds
