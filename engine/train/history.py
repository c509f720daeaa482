"""A bounded multi-resolution store of per-step metrics: constant memory for any run length.

Level 0 keeps the newest rows raw. Each coarser level keeps buckets (first step, last step,
count, sum, min, max). When a level fills up, its oldest half is merged pairwise into the
next level; the coarsest level merges into itself. Every level covers one contiguous stretch
of steps and level k+1 is older than level k, so the buckets, coarsest level first, tile the
whole run without gaps or overlaps, and min/max/sum stay exact under merging.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CAPACITY = 4096  # raw rows, and buckets a level
MAX_LEVELS = 8


@dataclass
class Series:
    """One column reduced to buckets: centre step, mean, min, max and rows per bucket."""

    steps: np.ndarray  # float64
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray
    count: np.ndarray  # int64, rows merged into each bucket

    def __len__(self) -> int:
        return len(self.steps)


class _Level:
    """Preallocated buckets; the first n are in use, oldest first."""

    FIELDS = ("first", "last", "count", "sum", "min", "max")

    def __init__(self, capacity: int, n_cols: int) -> None:
        self.first = np.zeros(capacity, np.int64)
        self.last = np.zeros(capacity, np.int64)
        self.count = np.zeros(capacity, np.int64)
        self.sum = np.zeros((capacity, n_cols))
        self.min = np.zeros((capacity, n_cols))
        self.max = np.zeros((capacity, n_cols))
        self.n = 0

    def arrays(self) -> list[np.ndarray]:
        return [getattr(self, name) for name in self.FIELDS]

    def push(
        self,
        first: np.ndarray,
        last: np.ndarray,
        count: np.ndarray,
        total: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> None:
        k, n = len(first), self.n
        for dst, src in zip(self.arrays(), (first, last, count, total, lo, hi), strict=True):
            dst[n : n + k] = src
        self.n = n + k

    def pop_oldest(self, k: int) -> list[np.ndarray]:
        """Remove the k oldest buckets, merged pairwise (k even), and return them."""
        merged = _merge_pairs(*(a[:k] for a in self.arrays()))
        for a in self.arrays():
            a[: self.n - k] = a[k : self.n]
        self.n -= k
        return merged


def _merge_pairs(
    first: np.ndarray,
    last: np.ndarray,
    count: np.ndarray,
    total: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> list[np.ndarray]:
    """Merge buckets 0+1, 2+3, ... with whole-array operations."""
    c = total.shape[1]
    return [
        first[0::2].copy(),
        last[1::2].copy(),
        count[0::2] + count[1::2],
        total.reshape(-1, 2, c).sum(axis=1),
        lo.reshape(-1, 2, c).min(axis=1),
        hi.reshape(-1, 2, c).max(axis=1),
    ]


class History:
    """Per-step metric rows in bounded memory, with exact min/max/mean per bucket.

    Memory is at most capacity rows raw plus max_levels levels of capacity buckets.
    The newest capacity/2 .. capacity rows are always kept raw.
    """

    def __init__(
        self, columns: Sequence[str], capacity: int = CAPACITY, max_levels: int = MAX_LEVELS
    ) -> None:
        if capacity < 8 or capacity % 4:
            raise ValueError(f"capacity must be a multiple of 4 and at least 8, got {capacity}")
        if max_levels < 1:
            raise ValueError(f"max_levels must be at least 1, got {max_levels}")
        self.columns: tuple[str, ...] = tuple(columns)
        self.capacity = capacity
        self.max_levels = max_levels
        self._index = {name: i for i, name in enumerate(self.columns)}
        self._n_cols = len(self.columns)
        self._raw_steps = np.zeros(capacity, np.int64)
        self._raw = np.zeros((capacity, self._n_cols))
        self._n_raw = 0
        self._levels: list[_Level] = []  # levels[0] is level 1; allocated when first needed
        self._length = 0
        # The first row, kept exactly for the whole run: coarsening merges it into ever
        # larger buckets, and "where the run started" must not drift with them.
        self._first_step = 0
        self._first_row = np.zeros(self._n_cols)

    # ------------------------------------------------------------------ writing

    def append(self, step: int, values: np.ndarray) -> None:
        """Add one row (len(columns) finite floats); amortised O(columns), no per-level work."""
        if len(values) != self._n_cols:  # numpy would broadcast a single value silently
            raise ValueError(f"expected {self._n_cols} values, got {len(values)}")
        n = self._n_raw
        if self._length == 0:
            self._first_step, self._first_row = step, np.array(values, dtype=np.float64)
        self._raw[n] = values
        self._raw_steps[n] = step
        self._n_raw = n + 1
        self._length += 1
        if n + 1 == self.capacity:
            self._spill_raw()

    def _spill_raw(self) -> None:
        half = self.capacity // 2
        steps = self._raw_steps[:half]
        rows = self._raw[:half]
        merged = _merge_pairs(steps, steps, np.ones(half, np.int64), rows, rows, rows)
        self._push(0, merged)
        self._raw[:half] = self._raw[half:]
        self._raw_steps[:half] = self._raw_steps[half:]
        self._n_raw = half

    def _push(self, i: int, buckets: list[np.ndarray]) -> None:
        """Append buckets to self._levels[i], making room first."""
        if i == len(self._levels):
            self._levels.append(_Level(self.capacity, self._n_cols))
        level = self._levels[i]
        if level.n + len(buckets[0]) > self.capacity:
            if i + 1 < self.max_levels:
                self._push(i + 1, level.pop_oldest(self.capacity // 2))
            else:  # the coarsest level: halve it by merging all of it pairwise
                merged = level.pop_oldest(level.n)
                level.push(*merged)
        level.push(*buckets)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._length

    @property
    def nbytes(self) -> int:
        arrays = [self._raw, self._raw_steps]
        for level in self._levels:
            arrays += level.arrays()
        return sum(a.nbytes for a in arrays)

    @staticmethod
    def max_nbytes(n_columns: int, capacity: int = CAPACITY, max_levels: int = MAX_LEVELS) -> int:
        """The most memory a History of these sizes holds: its nbytes once every level is in
        use. Raw: a float row and an int step a row; a level: three float arrays (sum, min,
        max) and three int arrays (first, last, count) of capacity buckets; 8 bytes each."""
        raw = capacity * (n_columns + 1) * 8
        level = capacity * (3 * n_columns + 3) * 8
        return raw + max_levels * level

    def last(self) -> dict[str, float] | None:
        """The newest row, or None before the first append."""
        if self._n_raw == 0:
            return None
        row = self._raw[self._n_raw - 1]
        return {name: float(row[i]) for i, name in enumerate(self.columns)}

    def first(self) -> dict[str, float] | None:
        """The first row ever appended, exactly, however coarse the history has become;
        None before the first append."""
        if self._length == 0:
            return None
        return {name: float(v) for name, v in zip(self.columns, self._first_row, strict=True)}

    @property
    def first_step(self) -> int:
        return self._first_step

    @property
    def last_step(self) -> int | None:
        """The newest row's step, or None before the first append."""
        return int(self._raw_steps[self._n_raw - 1]) if self._n_raw else None

    def _column(self, col: int | slice) -> list[np.ndarray]:
        """All buckets oldest first as [first, last, count, sum, min, max] for col."""
        parts: list[list[np.ndarray]] = []
        for level in reversed(self._levels):
            n = level.n
            parts.append(
                [
                    level.first[:n],
                    level.last[:n],
                    level.count[:n],
                    level.sum[:n, col],
                    level.min[:n, col],
                    level.max[:n, col],
                ]
            )
        steps, raw = self._raw_steps[: self._n_raw], self._raw[: self._n_raw, col]
        parts.append([steps, steps, np.ones(self._n_raw, np.int64), raw, raw, raw])
        return [np.concatenate(group) for group in zip(*parts, strict=True)]

    def series(
        self, name: str, max_points: int = 2000, start: int | None = None, end: int | None = None
    ) -> Series:
        """Column `name` over the run (or buckets touching [start, end]) in <= max_points buckets.

        Buckets are grouped by equal spans of steps, so the points are evenly spaced.
        The last group always holds the newest row.
        """
        if name not in self._index:
            raise KeyError(f"unknown column {name!r}; columns: {', '.join(self.columns)}")
        if max_points < 1:
            raise ValueError(f"max_points must be at least 1, got {max_points}")
        first, last, count, total, lo, hi = self._column(self._index[name])
        if start is not None or end is not None:
            keep = np.ones(len(first), bool)
            if start is not None:
                keep &= last >= start
            if end is not None:
                keep &= first <= end
            first, last, count, total, lo, hi = (
                a[keep] for a in (first, last, count, total, lo, hi)
            )
        if len(first) > max_points:
            # Bucket centres increase, so equal step spans give contiguous groups for reduceat.
            centre = (first + last) / 2.0
            span = float(last[-1] - first[0] + 1)
            group = np.minimum(
                ((centre - first[0]) * (max_points / span)).astype(np.int64), max_points - 1
            )
            starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
            ends = np.r_[starts[1:], len(first)] - 1
            first, last = first[starts], last[ends]
            count = np.add.reduceat(count, starts)
            total = np.add.reduceat(total, starts)
            lo = np.minimum.reduceat(lo, starts)
            hi = np.maximum.reduceat(hi, starts)
        steps = (first + last) / 2.0
        return Series(steps, total / np.maximum(count, 1), lo.copy(), hi.copy(), count.copy())

    def rows(self) -> Iterator[tuple[float, np.ndarray]]:
        """(centre step, mean row) per stored bucket, oldest first, covering the whole run."""
        first, last, count, total, _, _ = self._column(slice(None))
        means = total / count[:, None]
        centres = (first + last) / 2.0
        for i in range(len(first)):
            yield float(centres[i]), means[i]

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write `step,<columns>` at the stored resolution, atomically (temp file + os.replace)."""
        first, last, count, total, _, _ = self._column(slice(None))
        table = np.column_stack([(first + last) / 2.0, total / count[:, None]])
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a metrics file is not secret
            with os.fdopen(fd, "w", newline="") as f:
                f.write(",".join(("step", *self.columns)) + "\n")
                np.savetxt(f, table, delimiter=",", fmt="%.10g")
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise

    # ------------------------------------------------------------------ saving

    def state(self) -> dict[str, np.ndarray]:
        """Plain arrays (no pickles) that from_state turns back into an equal History."""
        state = {
            "columns": np.array(self.columns, dtype=str),
            "meta": np.array([self.capacity, self.max_levels, self._length], np.int64),
            "raw_steps": self._raw_steps[: self._n_raw].copy(),
            "raw": self._raw[: self._n_raw].copy(),
            "first_step": np.array([self._first_step], np.int64),
            "first_row": self._first_row.reshape(1, -1).copy(),
        }
        for i, level in enumerate(self._levels):
            for name, a in zip(_Level.FIELDS, level.arrays(), strict=True):
                state[f"level{i + 1}.{name}"] = a[: level.n].copy()
        return state

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, np.ndarray],
        like: History | None = None,
        nan_columns: Collection[str] = (),
    ) -> History:
        """The History that state() described. Every array is checked first, and a bad one
        raises ValueError naming it ("raw: 3 columns, expected 4"). With `like`, the state
        must be of a history with like's columns, capacity and levels (so a hostile size
        allocates nothing: pass it for any state read from a file). Values must be finite,
        except NaN in nan_columns (a regression's accuracy)."""
        meta, columns, levels = _check_state(state, like, nan_columns)
        capacity, max_levels, length = meta
        history = cls(columns, capacity, max_levels)
        history._length = length
        history._n_raw = len(state["raw_steps"])
        history._raw_steps[: history._n_raw] = state["raw_steps"]
        history._raw[: history._n_raw] = state["raw"]
        for i in range(1, levels + 1):
            level = _Level(capacity, history._n_cols)
            level.push(*(state[f"level{i}.{name}"] for name in _Level.FIELDS))
            history._levels.append(level)
        if "first_row" in state:
            history._first_step = int(state["first_step"][0])
            history._first_row = np.array(state["first_row"][0], dtype=np.float64)
        elif length:  # a state from before the first row was kept: its oldest bucket
            first, _, count, total, _, _ = history._column(slice(None))
            history._first_step, history._first_row = int(first[0]), total[0] / count[0]
        return history


# Each state() array: dtype kind and dimensions. Levels hold the _Level fields.
_ARRAYS = {
    "columns": ("U", 1),
    "meta": ("i", 1),
    "raw_steps": ("i", 1),
    "raw": ("f", 2),
    "first_step": ("i", 1),
    "first_row": ("f", 2),
    "first": ("i", 1),
    "last": ("i", 1),
    "count": ("i", 1),
    "sum": ("f", 2),
    "min": ("f", 2),
    "max": ("f", 2),
}
_TOP = ("columns", "meta", "raw_steps", "raw", "first_step", "first_row")


def _check_state(
    state: Mapping[str, np.ndarray], like: History | None, nan_columns: Collection[str]
) -> tuple[tuple[int, int, int], list[str], int]:
    """(capacity, max_levels, length), the columns and the number of levels of a state,
    after checking all of it; ValueError naming the first bad array."""
    for key in ("columns", "meta", "raw_steps", "raw"):
        if key not in state:
            raise ValueError(f"{key}: missing")
    for key, value in state.items():
        _check_kind(key, value)
    columns = [str(c) for c in state["columns"]]
    if like is not None and tuple(columns) != like.columns:
        raise ValueError("columns: not this history's columns")
    meta = state["meta"]
    if meta.shape != (3,):
        raise ValueError(f"meta: shape {meta.shape}, expected (3,)")
    capacity, max_levels, length = (int(v) for v in meta)
    if like is not None and (capacity, max_levels) != (like.capacity, like.max_levels):
        raise ValueError(
            f"meta: capacity {capacity} and {max_levels} levels, expected "
            f"{like.capacity} and {like.max_levels}"
        )
    if capacity < 8 or capacity % 4 or max_levels < 1 or length < 0:
        raise ValueError(f"meta: {meta.tolist()} is not a history's capacity, levels, length")
    levels = 0
    while f"level{levels + 1}.first" in state:
        levels += 1
    known = set(_TOP) | {f"level{i}.{f}" for i in range(1, levels + 1) for f in _Level.FIELDS}
    for key in state:
        if key not in known:
            raise ValueError(f"{key}: not a history array")
    if levels > max_levels:
        raise ValueError(f"level{levels}.first: more than the {max_levels} levels of meta")
    n_cols = len(columns)
    nan_allowed = np.array([c in nan_columns for c in columns])
    for key, value in state.items():
        if value.ndim == 2 and value.shape[1] != n_cols:
            raise ValueError(f"{key}: {value.shape[1]} columns, expected {n_cols}")
        if value.dtype.kind == "f":
            bad = ~np.isfinite(value) & ~(np.isnan(value) & nan_allowed)
            if bad.any():
                raise ValueError(f"{key}: holds {value[bad][0]}; values must be finite")
    # Buckets oldest first (the coarsest level first), then the raw rows, as _column reads them.
    firsts, lasts, counts = [], [], []
    for i in range(levels, 0, -1):
        prefix = f"level{i}."
        n = len(state[prefix + "first"])
        for name in _Level.FIELDS:
            if len(state[prefix + name]) != n:
                raise ValueError(f"{prefix}{name}: {len(state[prefix + name])} buckets, not {n}")
        # Levels fill and empty by capacity/4 buckets; another size would break a merge.
        if n > capacity or n % (capacity // 4):
            raise ValueError(f"{prefix}first: {n} buckets, not a multiple of {capacity // 4}")
        firsts.append(state[prefix + "first"])
        lasts.append(state[prefix + "last"])
        counts.append(state[prefix + "count"])
    raw_steps = state["raw_steps"]
    n_raw = len(raw_steps)
    if len(state["raw"]) != n_raw:
        raise ValueError(f"raw: {len(state['raw'])} rows, but {n_raw} raw_steps")
    if n_raw >= capacity:
        raise ValueError(f"raw_steps: {n_raw} rows, at most {capacity - 1}")
    first = np.concatenate([*firsts, raw_steps])
    last = np.concatenate([*lasts, raw_steps])
    count = np.concatenate([*counts, np.ones(n_raw, np.int64)])
    if np.any(count < 1) or np.any(last < first) or np.any(first[1:] <= last[:-1]):
        raise ValueError("raw_steps: buckets do not follow each other in step order")
    if int(count.sum()) != length:
        raise ValueError(f"meta: length {length}, but the buckets hold {int(count.sum())} rows")
    if ("first_step" in state) != ("first_row" in state):
        raise ValueError("first_row: first_step and first_row go together")
    if "first_row" in state:
        if state["first_step"].shape != (1,) or len(state["first_row"]) != 1:
            raise ValueError("first_row: expected one row and one step")
        start = int(state["first_step"][0])
        if length and start != int(first[0]):
            raise ValueError(f"first_step: {start}, but the run starts at {int(first[0])}")
    return (capacity, max_levels, length), columns, levels


def _check_kind(key: str, value: object) -> None:
    name = key.rpartition(".")[2]
    if not isinstance(value, np.ndarray) or name not in _ARRAYS:
        raise ValueError(f"{key}: not a history array")
    kind, ndim = _ARRAYS[name]
    if value.dtype.kind != kind or value.ndim != ndim:
        raise ValueError(
            f"{key}: {value.dtype} of shape {value.shape}, expected {ndim}-D of kind {kind!r}"
        )
