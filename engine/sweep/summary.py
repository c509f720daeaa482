"""summary.csv: one row a finished member, and the same rows grouped over the seeds.

    index,run,model.activation,seed,steps_done,train_loss,train_accuracy,val_loss,
    val_accuracy,dead.0,...,saturated.0,...,diverged,diverged_step,steps_per_s

A row is computed from the member's Trainer alone, not from how or where it was trained,
so the summary is the same whichever executor ran the sweep (steps_per_s aside: it is a
measure of the machine). dead.i is the share of hidden layer
i's units dead on the training set at the final evaluation, saturated.i the share saturated
for most samples of the recent batches (engine.lecture.readings, as the lab reads them).
Layers a member does not have are empty cells.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config import FIELDS
from engine.lecture.readings import dead_shares, saturated_shares
from engine.store.atomic import atomic_write_text
from engine.sweep.grid import parse_value, value_text
from engine.sweep.members import Member
from engine.train.records import EvalRecord
from engine.train.trainer import Trainer

SUMMARY_CSV = "summary.csv"
METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
NAN = float("nan")


def final_eval(trainer: Trainer) -> EvalRecord | None:
    """The evaluation a run ends on, as `tui-nn train` takes it: the last one if it is at
    the last step (or the run diverged), else one more (not kept in trainer.evals)."""
    last = trainer.evals[-1] if trainer.evals else None
    if trainer.diverged is None and (last is None or last.step != trainer.steps_done):
        last = trainer.evaluate()
    return last


def summary_row(member: Member, trainer: Trainer, steps_per_s: float) -> dict[str, Any]:
    """The member's row: its varied values and seed, the final evaluation, the dead and
    saturated share of each hidden layer, whether and where it diverged, its speed."""
    last = final_eval(trainer)  # evaluate() again, when it is not kept: it is exact
    layers = trainer.n_layers - 1
    dead = dead_shares(trainer, last) if last is not None else [NAN] * layers
    saturated = saturated_shares(trainer) if trainer.steps_done else [NAN] * layers
    diverged = trainer.diverged
    row: dict[str, Any] = {"index": member.index, "run": member.name}
    row |= member.values
    row |= {"seed": member.seed, "steps_done": trainer.steps_done}
    for name in METRICS:
        row[name] = getattr(last, name) if last is not None else NAN
    row |= {f"dead.{i}": share for i, share in enumerate(dead)}
    row |= {f"saturated.{i}": share for i, share in enumerate(saturated)}
    row |= {
        "diverged": diverged is not None,
        "diverged_step": diverged.step if diverged is not None else None,
        "steps_per_s": steps_per_s,
    }
    return row


def columns(keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[str]:
    """summary.csv's header for the varied keys and as many layers as the deepest member."""
    layers = max((_layers(row) for row in rows), default=0)
    return [
        "index",
        "run",
        *keys,
        "seed",
        "steps_done",
        *METRICS,
        *(f"dead.{i}" for i in range(layers)),
        *(f"saturated.{i}" for i in range(layers)),
        "diverged",
        "diverged_step",
        "steps_per_s",
    ]


def _layers(row: dict[str, Any]) -> int:
    return sum(1 for key in row if key.startswith("dead."))


def write_summary(
    path: str | os.PathLike[str], keys: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Every row, in member order, atomically (an interrupted sweep keeps a whole file)."""
    header = columns(keys, rows)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in sorted(rows, key=lambda r: r["index"]):
        writer.writerow([_cell(key, row.get(key)) for key in header])
    atomic_write_text(path, text.getvalue())


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in FIELDS:
        return value_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def read_summary(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a summary.csv, typed as summary_row makes them (empty layer cells are
    left out). ValueError (or ConfigError for a varied value) on a broken file."""
    with open(path, encoding="utf-8", newline="") as f:
        return [_typed(raw) for raw in csv.DictReader(f)]


def _typed(raw: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, text in raw.items():
        if key in FIELDS:
            row[key] = parse_value(FIELDS[key], text)
        elif key in ("index", "seed", "steps_done"):
            row[key] = int(text)
        elif key == "run":
            row[key] = text
        elif key == "diverged":
            row[key] = text == "true"
        elif key == "diverged_step":
            row[key] = int(text) if text else None
        elif text:  # a metric; an empty cell is a layer the member does not have
            row[key] = float(text)
    return row


# ----------------------------------------------------------------------------- grouped

GROUP_METRICS = (*METRICS, "dead", "saturated", "steps_per_s")


@dataclass(frozen=True)
class Stat:
    mean: float
    sd: float  # the sample standard deviation; NaN for a single seed


@dataclass(frozen=True)
class Group:
    """The members of one combination of the varied values, over their seeds."""

    values: dict[str, Any]
    seeds: list[int]
    diverged: int
    stats: dict[str, Stat]  # by GROUP_METRICS; dead and saturated: mean over hidden layers


def grouped(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[Group]:
    """The rows grouped by their values of `keys` (the seed left out), in member order."""
    by_values: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["index"]):
        by_values.setdefault(tuple(value_text(row[k]) for k in keys), []).append(row)
    groups = []
    for members in by_values.values():
        stats = {name: _stat([_metric(row, name) for row in members]) for name in GROUP_METRICS}
        groups.append(
            Group(
                {k: members[0][k] for k in keys},
                [row["seed"] for row in members],
                sum(bool(row["diverged"]) for row in members),
                stats,
            )
        )
    return groups


def _metric(row: dict[str, Any], name: str) -> float:
    if name in ("dead", "saturated"):
        shares = [v for k, v in row.items() if k.startswith(name + ".")]
        return float(np.mean(shares)) if shares else NAN
    return float(row[name])


def _stat(values: list[float]) -> Stat:
    if any(math.isnan(v) for v in values):
        return Stat(NAN, NAN)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else NAN
    return Stat(float(np.mean(values)), sd)
