"""The checkpoint format: a Trainer's state as plain numeric and text arrays (np.savez needs
no pickle for any of them), and the checks that refuse a broken or tampered one.

Format 2 (written now): no per-step dead-unit columns in the history (dead units are
counted by the evaluations), no learning rate (the config holds the live one).
Format 1 (before): history columns layers.{i}.dead and the live rate as base_lr;
migrate_v1 turns its arrays into format 2's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from engine.train.history import History
from engine.train.records import EVAL_COLUMNS, EvalRecord

Array = np.ndarray

CHECKPOINT_FORMAT = 2


class CheckpointError(ValueError):
    """Checkpoint arrays that do not fit the trainer; the message names the array."""


class Checked:
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

    def array(
        self, key: str, dtype: np.dtype, shape: tuple[int, ...] | None, finite: bool = False
    ) -> Array:
        """An array of that dtype and shape (None: any array); with `finite`, every entry
        finite."""
        value = self.get(key)
        if value.dtype != dtype:
            raise CheckpointError(f"{key}: dtype {value.dtype}, expected {dtype}")
        if shape is not None and value.shape != shape:
            raise CheckpointError(f"{key}: shape {value.shape}, expected {shape}")
        if shape is None and value.ndim == 0:
            raise CheckpointError(f"{key}: a single value, expected an array")
        if finite:
            bad = np.flatnonzero(~np.isfinite(value))
            if bad.size:
                raise CheckpointError(
                    f"{key}: holds {value.flat[bad[0]]} at index {bad[0]}; a run that did "
                    "not diverge has only finite values"
                )
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


def rng_state(text: str, like: np.random.Generator) -> dict[str, Any]:
    """Parse a bit generator's state and try it on a scratch generator of the same kind."""
    try:
        state = json.loads(text)
        probe = type(like.bit_generator)()
        probe.state = state
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(f"batches.rng: not a usable generator state ({error})") from None
    return dict(probe.state)


# ----------------------------------------------------------------------------- evaluations


def evals_table(evals: list[EvalRecord], n_hidden: int) -> Array:
    """One row an evaluation: EVAL_COLUMNS, then dead units per hidden layer."""
    table = np.zeros((len(evals), len(EVAL_COLUMNS) + n_hidden))
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


def evals_from_table(
    table: Array, units: list[int], steps_done: int, regression: bool
) -> list[EvalRecord]:
    """The evaluations of an evals_table, every number checked: steps whole, increasing and
    at most steps_done; losses finite and >= 0; accuracies in [0, 1] (NaN for regression);
    dead units whole, from 0 to the layer's units."""
    k = len(EVAL_COLUMNS)
    width = k + len(units)
    if table.ndim != 2 or table.shape[1] != width:
        raise CheckpointError(f"evals: shape {table.shape}, expected (evaluations, {width})")
    records = []
    previous = -1
    for i, row in enumerate(table.tolist()):
        step, train_loss, train_acc, val_loss, val_acc = row[:k]
        where = f"evals: row {i}"
        if not (float(step).is_integer() and previous < step <= steps_done):
            raise CheckpointError(
                f"{where}: step {step}; steps must be whole, increasing and at most the "
                f"{steps_done} steps done"
            )
        for name, loss in (("train_loss", train_loss), ("val_loss", val_loss)):
            if not (math.isfinite(loss) and loss >= 0):
                raise CheckpointError(f"{where}: {name} is {loss}; expected a finite loss >= 0")
        for name, acc in (("train_accuracy", train_acc), ("val_accuracy", val_acc)):
            ok = math.isnan(acc) if regression else 0.0 <= acc <= 1.0
            if not ok:
                allowed = "NaN for regression" if regression else "from 0 to 1"
                raise CheckpointError(f"{where}: {name} is {acc}; expected {allowed}")
        dead = row[k:]
        for layer, (count, n) in enumerate(zip(dead, units, strict=True)):
            if not (float(count).is_integer() and 0 <= count <= n):
                raise CheckpointError(
                    f"{where}: dead units of hidden layer {layer} is {count}; "
                    f"expected a whole number from 0 to its {n} units"
                )
        records.append(
            EvalRecord(int(step), train_loss, train_acc, val_loss, val_acc, [int(d) for d in dead])
        )
        previous = step
    return records


# ----------------------------------------------------------------------------- history


def history_from(
    arrays: Mapping[str, Array], like: History, nan_columns: Collection[str]
) -> History:
    """The checkpoint's history.* arrays as a History shaped like `like`; History checks
    them itself, and its ValueError becomes a CheckpointError naming the array."""
    prefix = "history."
    state = {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
    try:
        return History.from_state(state, like, nan_columns)
    except ValueError as error:
        raise CheckpointError(f"history.{error}") from None


# ----------------------------------------------------------------------------- format 1

_DEAD_COLUMN = re.compile(r"layers\.\d+\.dead")


def migrate_v1(arrays: Mapping[str, Array]) -> tuple[dict[str, Array], float]:
    """Format 1's arrays as format 2's, and the live learning rate format 1 kept apart
    from the config (base_lr). Drops the history's dead-unit columns (a count over one
    batch, not over the training set). Other arrays not as format 1 wrote them are left
    for the checks that follow."""
    rate = float(Checked(arrays).scalar("base_lr", "f"))
    migrated = dict(arrays)
    del migrated["base_lr"]
    migrated["format"] = np.array(CHECKPOINT_FORMAT, np.int64)
    columns = migrated.get("history.columns")
    if not (isinstance(columns, np.ndarray) and columns.ndim == 1 and columns.dtype.kind == "U"):
        return migrated, rate
    keep = np.array([not _DEAD_COLUMN.fullmatch(str(c)) for c in columns])
    migrated["history.columns"] = columns[keep]
    for key, value in arrays.items():
        two_d = isinstance(value, np.ndarray) and value.ndim == 2
        if key.startswith("history.") and two_d and value.shape[1] == len(keep):
            migrated[key] = value[:, keep]
    return migrated, rate
