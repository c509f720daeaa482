"""Checking a run: retrain it from its config and seeds to the steps it saved, and compare
the result with its saved checkpoint bit for bit, so a teacher can check a hand-in.

A run is a function of its config (training.seed draws the weights and the batches,
data.seed the data) and of the rate changes made while it ran, which its timeline holds:
they are replayed at their steps. Results can differ across NumPy versions, BLAS builds
and CPU kinds, so a run directory records the machine it ran on (machine_info) and the
check says when this one differs.
"""

from __future__ import annotations

import contextlib
import importlib
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.config import ExperimentConfig
from engine.train.events import Event, Timeline
from engine.train.trainer import Trainer

Array = np.ndarray


class VerifyError(ValueError):
    """The saved run cannot be checked (a missing or broken array); the message names it."""


@dataclass(frozen=True)
class Difference:
    """Where the retrained run first differs from the saved one."""

    array: str  # "layers.1.W" (within theta), or the checkpoint array's name
    index: tuple[int, ...]  # () for a whole array (a shape, a dtype, a text)
    saved: str
    retrained: str
    checkpoint_key: str = ""  # the checkpoint array it is in, when that is another name

    def __str__(self) -> str:
        where = self.array + (f"[{', '.join(map(str, self.index))}]" if self.index else "")
        inside = f" (in {self.checkpoint_key})" if self.checkpoint_key else ""
        return f"{where}{inside}: saved {self.saved}, retrained {self.retrained}"


@dataclass
class Verification:
    steps: int  # the steps retrained
    difference: Difference | None  # None: equal bit for bit
    compared: list[str]  # the checkpoint arrays compared, in order
    skipped: list[str] = field(default_factory=list)  # not in the saved run (older format)
    replayed: list[Event] = field(default_factory=list)  # rate changes replayed

    @property
    def equal(self) -> bool:
        return self.difference is None

    @property
    def state_equal(self) -> bool:
        """The weights and the rest of the training state are equal (a difference, if
        any, is in the records only)."""
        return self.difference is None or is_record(
            self.difference.checkpoint_key or self.difference.array
        )


# The arrays that decide a run first: the data, then the weights; the rest of the training
# state in name order; then what the run recorded about itself (derived from the training,
# which never reads it back: another version of tui-nn may record it otherwise).
_FIRST = ("format", "data_digest", "steps_done", "theta")
RECORDS = ("history.", "evals", "similarity", "timeline", "distributions.")


def is_record(key: str) -> bool:
    return key.startswith(RECORDS)


_FLAT = ("theta", "grad")  # flat like theta: a difference is named by its layer


def saved_steps(saved: Mapping[str, Array], config: ExperimentConfig) -> int:
    value = saved.get("steps_done")
    if not isinstance(value, np.ndarray) or value.shape != () or value.dtype.kind != "i":
        raise VerifyError("steps_done: missing or not a whole number")
    steps = int(value)
    if not 0 <= steps <= config.training.steps:
        raise VerifyError(
            f"steps_done: {steps}, expected 0 to the config's training.steps = "
            f"{config.training.steps}"
        )
    return steps


def rate_changes(saved: Mapping[str, Array], trainer: Trainer, steps: int) -> list[Event]:
    """The saved timeline's learning-rate changes (none in a checkpoint without one)."""
    text = saved.get("timeline")
    if text is None:
        return []
    if not isinstance(text, np.ndarray) or text.shape != () or text.dtype.kind != "U":
        raise VerifyError("timeline: expected text")
    timeline = Timeline(trainer.timeline.units)
    try:
        timeline.load_json(str(text), steps)
    except ValueError as error:
        raise VerifyError(f"timeline: {error}") from None
    return [event for event in timeline.events if event.kind == "lr"]


def retrain(config: ExperimentConfig, steps: int, changes: list[Event]) -> Trainer:
    """The run as its config and seeds make it, to `steps` (or its divergence), with the
    rate changes replayed at their steps; config.toml holds the last rate, so the run
    starts from the first change's old rate."""
    if changes:
        config = config.with_changes(optimizer={"lr": changes[0].values["from"]})
    trainer = Trainer(config)
    for event in changes:
        trainer.run(event.step - trainer.steps_done)
        trainer.set_learning_rate(event.values["to"])
    trainer.run(steps - trainer.steps_done)
    return trainer


def verify(config: ExperimentConfig, saved: Mapping[str, Array]) -> Verification:
    """Retrain from `config` to the saved steps and compare every array of the saved
    checkpoint with the retrained one's, bit for bit; VerifyError for a run that cannot
    be checked."""
    steps = saved_steps(saved, config)
    changes = rate_changes(saved, Trainer(config), steps)
    trainer = retrain(config, steps, changes)
    fresh = trainer.checkpoint()
    rest = sorted(k for k in fresh if k not in _FIRST)
    keys = [k for k in _FIRST if k in fresh] + sorted(rest, key=is_record)
    compared = [k for k in keys if k in saved]
    skipped = [k for k in keys if k not in saved]
    extra = sorted(set(saved) - set(fresh))
    if extra:
        first = Difference(extra[0], (), "present", "no such array")
        return Verification(steps, first, compared, skipped, changes)
    for key in compared:
        difference = first_difference(key, saved[key], fresh[key], trainer)
        if difference is not None:
            return Verification(steps, difference, compared, skipped, changes)
    return Verification(steps, None, compared, skipped, changes)


def first_difference(key: str, saved: Array, fresh: Array, trainer: Trainer) -> Difference | None:
    """Where two arrays first differ bit for bit (NaN equals NaN of the same bits, 0.0
    differs from -0.0), or None."""
    if not isinstance(saved, np.ndarray):
        return Difference(key, (), "not an array", "an array")
    if saved.dtype != fresh.dtype or saved.shape != fresh.shape:
        return Difference(key, (), f"{saved.dtype} {saved.shape}", f"{fresh.dtype} {fresh.shape}")
    if fresh.dtype.kind in "US":
        if saved.tobytes() == fresh.tobytes():
            return None
        return Difference(key, (), _short(str(saved)), _short(str(fresh)))
    if saved.size == 0:
        return None
    a = np.ascontiguousarray(saved).reshape(-1).view(np.uint8).reshape(saved.size, -1)
    b = np.ascontiguousarray(fresh).reshape(-1).view(np.uint8).reshape(fresh.size, -1)
    differs = np.flatnonzero((a != b).any(axis=1))
    if not differs.size:
        return None
    flat = int(differs[0])
    old, new = saved.reshape(-1)[flat].item(), fresh.reshape(-1)[flat].item()
    if key in _FLAT or key.startswith("optimizer.state."):
        name, index = _in_layer(trainer, flat)
        return Difference(name, index, repr(old), repr(new), f"{key}[{flat}]")
    index = tuple(int(i) for i in np.unravel_index(flat, saved.shape)) if saved.ndim else ()
    return Difference(key, index, repr(old), repr(new))


def _in_layer(trainer: Trainer, flat: int) -> tuple[str, tuple[int, ...]]:
    """The layer parameter that entry `flat` of a theta-like vector belongs to, and its
    index there: ("layers.1.W", (3, 7))."""
    starts = trainer.network.segment_starts
    segment = int(np.searchsorted(starts, flat, side="right")) - 1
    i, which = divmod(segment, 2)
    layer = trainer.network.layers[i]
    shape = (layer.W if which == 0 else layer.b).shape
    index = np.unravel_index(flat - int(starts[segment]), shape)
    return f"layers.{i}.{'Wb'[which]}", tuple(int(k) for k in index)


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ----------------------------------------------------------------------------- machine

# What decides whether two machines compute the same bits, compared by verify.
MACHINE_KEYS = ("numpy", "blas", "blas_version", "blas_architecture", "blas_threads", "cpu")


def machine_info() -> dict[str, Any]:
    """The numpy version, the BLAS (threadpoolctl's report when it is installed, else
    numpy's build configuration) and the CPU this process computes with."""
    info: dict[str, Any] = {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
    }
    return info | _blas()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    pools: list[dict[str, Any]] = []
    # threadpoolctl is optional: it names the BLAS kernel and its threads.
    with contextlib.suppress(ImportError):
        pools = importlib.import_module("threadpoolctl").threadpool_info()
    for pool in pools:
        if pool.get("user_api") == "blas":
            return {
                "blas": pool.get("internal_api", ""),
                "blas_version": pool.get("version") or "",
                "blas_architecture": pool.get("architecture") or "",
                "blas_threads": pool.get("num_threads", 0),
            }
    build: Any = np.show_config(mode="dicts")
    blas = build.get("Build Dependencies", {}).get("blas", {}) if isinstance(build, dict) else {}
    return {
        "blas": str(blas.get("name", "unknown")),
        "blas_version": str(blas.get("version", "")),
        "blas_architecture": "",
        "blas_threads": 0,
    }


def machine_differences(recorded: Mapping[str, Any], here: Mapping[str, Any]) -> list[str]:
    """The MACHINE_KEYS on which a recorded machine and this one differ, as
    "cpu: AMD EPYC there, Intel Xeon here"."""
    return [
        f"{key}: {recorded.get(key)!r} there, {here.get(key)!r} here"
        for key in MACHINE_KEYS
        if recorded.get(key) != here.get(key)
    ]


__all__ = [
    "MACHINE_KEYS",
    "Difference",
    "Verification",
    "VerifyError",
    "machine_differences",
    "machine_info",
    "retrain",
    "verify",
]
