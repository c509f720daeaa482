"""CSV and NPZ files: read into a Table, every cell, label and target checked.

Errors are ConfigErrors on data.path that name the file as given and, for a missing file,
the folder it was looked for in; CSV errors also name the line, NPZ errors the array entry.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.data.checks import (
    NUMERIC,
    as_targets,
    features_problem,
    finite_problem,
    labels_problem,
    rows_problem,
    targets_problem,
)
from engine.errors import ConfigError

_MISSING = {"", "nan", "na", "n/a", "null", "none"}


class Table(NamedTuple):
    """A loaded file before the split: what load_csv and load_npz return."""

    X: np.ndarray  # (n, d) float64
    y: np.ndarray  # classification: (n,) int64 in 0..C-1; regression: (n, t) float64
    task: str
    feature_names: list[str]
    class_names: list[str]  # C names for classification, [] for regression


def fail(path: str | os.PathLike[str], message: str, line: int | None = None) -> ConfigError:
    """A data.path error naming the file as it was given (and the line, if known)."""
    where = f"{os.fspath(path)}, line {line}" if line is not None else os.fspath(path)
    return ConfigError("data.path", f"{where}: {message}")


def _not_found(path: str | os.PathLike[str]) -> ConfigError:
    """Where the file was looked for: the folder, and for a relative path the working
    directory it was taken from (an experiment file's own folder is already in its path:
    engine.store.toml makes its relative data.path absolute from there)."""
    given = Path(path)
    folder = Path(os.path.abspath(given)).parent
    cwd = Path.cwd()
    if not folder.is_dir():
        where = f"there is no folder {folder}"
    elif given.is_absolute():
        where = f"not in {folder}"
    elif folder == cwd:
        where = f"not in the working directory {cwd}"
    else:
        where = f"not in {folder} (relative to the working directory {cwd})"
    return fail(path, f"file not found: {where}")


def _refuse(path: str | os.PathLike[str], problem: str | None) -> None:
    if problem:
        raise fail(path, problem)


def _open_error(path: str | os.PathLike[str], error: OSError) -> ConfigError:
    if isinstance(error, FileNotFoundError):
        return _not_found(path)
    if isinstance(error, IsADirectoryError):
        return fail(path, "is a directory, not a file")
    return fail(path, f"cannot read: {error.strerror}")


def load_file(path: str | os.PathLike[str], target: str = "") -> Table:
    """Load a .csv or .npz file by its suffix."""
    if "\x00" in os.fspath(path):
        raise fail(repr(os.fspath(path)), "a file name cannot contain a NUL character")
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_csv(path, target)
    if suffix == ".npz":
        return load_npz(path)
    raise fail(path, f"unsupported file type {suffix or '(none)'!r}; use .csv or .npz")


# ----------------------------------------------------------------------------- CSV


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_rows(path: str | os.PathLike[str]) -> list[tuple[int, list[str]]]:
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
    except OSError as error:
        raise _open_error(path, error) from None
    except UnicodeDecodeError:
        raise fail(path, "is not a UTF-8 text file") from None
    except csv.Error as e:
        raise fail(path, str(e), line + 1) from None
    return rows


def load_csv(path: str | os.PathLike[str], target: str = "") -> Table:
    """Features in every column but the label: the last one, or the column named `target`.

    A header row is optional. Integer or text labels classify (sorted labels become
    0..C-1, kept in class_names); real-valued labels regress, as targets (n, 1).
    """
    rows = _read_rows(path)
    if not rows:
        raise fail(path, "the file is empty")
    first_line, first = rows[0]
    width = len(first)
    if width < 2:
        raise fail(path, "need a feature and a label column separated by commas", first_line)

    if target:
        if target not in first:
            shown = ", ".join(first) if any(not _is_number(c) for c in first) else "no header row"
            raise fail(path, f"unknown target column {target!r}; columns: {shown}")
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
        raise fail(path, "no data rows after the header")

    columns = header if header is not None else [f"x{i + 1}" for i in range(width)]
    feature_cols = [i for i in range(width) if i != label_col]
    X = np.empty((len(data), len(feature_cols)))
    labels: list[str] = []
    for r, (line, cells) in enumerate(data):
        if len(cells) != width:
            raise fail(path, f"expected {width} cells, found {len(cells)}", line)
        for j, col in enumerate(feature_cols):
            X[r, j] = _parse_feature(path, cells[col], columns[col], line)
        label = cells[label_col]
        if label.lower() in _MISSING:
            raise fail(path, f"missing label ({label!r})", line)
        if _is_number(label) and not math.isfinite(float(label)):
            raise fail(path, f"label {label!r} is not a finite number", line)
        labels.append(label)

    y, task, class_names = _encode_labels(path, labels)
    return Table(X, y, task, [columns[i] for i in feature_cols], class_names)


def _parse_feature(path: str | os.PathLike[str], text: str, column: str, line: int) -> float:
    if text.lower() in _MISSING:
        raise fail(path, f"missing value ({text!r}) in column {column!r}", line)
    try:
        value = float(text)
    except ValueError:
        raise fail(path, f"{text!r} in column {column!r} is not a number", line) from None
    if not math.isfinite(value):
        raise fail(path, f"{text!r} in column {column!r} is not a finite number", line)
    return value


def _encode_labels(
    path: str | os.PathLike[str], labels: list[str]
) -> tuple[np.ndarray, str, list[str]]:
    """Text labels -> classes, whole numbers -> classes, other numbers -> a regression target."""
    if all(_is_number(s) for s in labels):
        values = np.array([float(s) for s in labels])
        if not np.all(values == np.round(values)):
            return as_targets(values), "regression", []
        return _classes(path, values.astype(np.int64))
    return _classes(path, np.array(labels))


def _classes(path: str | os.PathLike[str], labels: np.ndarray) -> tuple[np.ndarray, str, list[str]]:
    """The distinct labels, sorted, are the classes 0..C-1; class_names keeps them."""
    names, y = np.unique(labels, return_inverse=True)
    if len(names) < 2:
        raise fail(path, f"every label is {names[0]!s}; classification needs at least 2 classes")
    return y.reshape(-1).astype(np.int64), "classification", [str(s) for s in names]


# ----------------------------------------------------------------------------- NPZ


def load_npz(path: str | os.PathLike[str]) -> Table:
    """Arrays X (n, d) and y: 1-D labels classify (unless real-valued), 2-D targets regress.

    Whole-number or text labels become classes as in load_csv (the distinct labels, sorted).
    An optional array class_names (C strings) makes y class indices instead, each a whole
    number 0..C-1. An optional array feature_names (d strings) names the columns.
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as error:
        raise _open_error(path, error) from None
    # Check the magic ourselves: numpy's own message for a pickle suggests unsafe loading.
    if magic.startswith(b"\x93NUMPY"):
        raise fail(path, "holds a single .npy array; save X and y with np.savez")
    if not magic.startswith(b"PK"):
        raise fail(path, "is not an .npz archive; save X and y with np.savez")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy and zipfile raise many kinds of error on a bad file
        raise fail(path, f"corrupt .npz file ({e})") from None

    with archive:
        arrays: dict[str, np.ndarray] = {}
        for key in ("X", "y", "feature_names", "class_names"):
            if key not in archive.files:
                if key in ("feature_names", "class_names"):
                    continue
                found = ", ".join(archive.files) or "nothing"
                raise fail(path, f"missing array {key!r}; found: {found}")
            try:
                arrays[key] = archive[key]
            except Exception as e:  # a corrupt or truncated member, or a pickled object array
                raise fail(path, f"cannot read array {key!r}: {e}") from None

    X, y = arrays["X"], arrays["y"]
    _refuse(path, features_problem("X", X))
    X = X.astype(np.float64)
    if y.ndim not in (1, 2):
        raise fail(path, f"y must be 1-D labels or 2-D targets (rows, outputs), got {y.shape}")
    _refuse(path, rows_problem("X", X, "y", y))
    feature_names = _names(path, arrays, "feature_names", X.shape[1])

    if "class_names" in arrays:
        class_names = _names(path, arrays, "class_names", None)
        _refuse(path, labels_problem("y", y, len(class_names), f"{len(class_names)} class_names"))
        return Table(X, y.astype(np.int64), "classification", feature_names, class_names)
    if y.dtype.kind in "US" and y.ndim == 1:
        y_text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y
        y_out, task, class_names = _classes(path, y_text)
        return Table(X, y_out, task, feature_names, class_names)
    if y.dtype.kind not in NUMERIC:
        raise fail(path, f"y must hold numbers or text labels, got {y.dtype}")
    y = y.astype(np.float64)
    _refuse(path, finite_problem("y", y, "labels and targets"))
    if y.ndim == 2 or not np.all(y == np.round(y)):
        _refuse(path, targets_problem("y", as_targets(y)))
        return Table(X, as_targets(y), "regression", feature_names, [])
    y_out, task, class_names = _classes(path, y.astype(np.int64))
    return Table(X, y_out, task, feature_names, class_names)


def _names(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], key: str, count: int | None
) -> list[str]:
    """An optional array of names (`count` of them if given); default x1, x2, ..."""
    if key not in arrays:
        return [f"x{i + 1}" for i in range(count or 0)]
    names = arrays[key]
    if names.ndim != 1 or names.dtype.kind != "U" or (count is not None and len(names) != count):
        wanted = f"{count} strings" if count is not None else "a 1-D array of strings"
        raise fail(path, f"{key} must be {wanted}, got {names.dtype} of shape {names.shape}")
    if count is None and len(names) < 2:
        raise fail(path, f"{key} must name at least 2 classes, got {len(names)}")
    return [str(s) for s in names]
