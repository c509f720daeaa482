"""A sweep directory on disk, and back.

    sweeps/lecture/
        sweep.toml      the base config, the grid and the seeds: what the members are
        summary.csv     one row a finished member (engine.sweep.summary)
        runs/<name>/    one complete run directory a member, as `tui-nn train` writes it

A member is finished when its run directory's summary.json is a final save of a run that
is done or diverged; `--resume` trains every member that is not.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import ConfigError, ExperimentConfig
from engine.store.atomic import atomic_write_text
from engine.store.runs import SUMMARY, RunError
from engine.sweep.grid import SEED, Grid, grid_from_values, seeds_for, varied
from engine.sweep.members import Member, members
from engine.sweep.summary import SUMMARY_CSV, read_summary

SWEEP_TOML = "sweep.toml"
RUNS = "runs"
FORMAT = 1
HEADER = (
    "# tui-nn sweep: the base config, the grid and the seeds. summary.csv has a row for\n"
    "# each finished member, runs/ a run directory for each.\n\n"
)


@dataclass
class SweepMember:
    member: Member
    run_dir: Path
    row: dict[str, Any] | None  # its summary.csv row; None until it is finished


@dataclass
class Sweep:
    path: Path
    base: ExperimentConfig
    grid: Grid
    seeds: list[int]
    members: list[SweepMember]

    @property
    def keys(self) -> list[str]:
        """The varied fields (the seed aside), summary.csv's value columns."""
        return list(varied(self.grid))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [m.row for m in self.members if m.row is not None]

    @property
    def missing(self) -> list[SweepMember]:
        return [m for m in self.members if m.row is None]


def sweep_toml(base: ExperimentConfig, grid: Grid, seeds: list[int]) -> str:
    import tomli_w  # as engine.store.toml: needed only to write

    raw = {
        "sweep": {"format": FORMAT, "seeds": seeds, "grid": grid.fields},
        "base": base.to_dict(),
    }
    return HEADER + tomli_w.dumps(raw)


def new_sweep(
    path: str | os.PathLike[str],
    base: ExperimentConfig,
    grid: Grid,
    seeds: list[int],
    found: list[Member],
) -> Sweep:
    """Make the sweep directory and its sweep.toml; refuse one that holds a sweep or runs."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunError(f"{path}: exists and is not a directory")
    if (path / SWEEP_TOML).exists() or (path / RUNS).exists():
        raise RunError(
            f"{path}: already holds a sweep; resume it (--resume {path}) or "
            "choose another directory"
        )
    (path / RUNS).mkdir(parents=True)
    atomic_write_text(path / SWEEP_TOML, sweep_toml(base, grid, seeds))
    runs = path / RUNS
    return Sweep(path, base, grid, seeds, [SweepMember(m, runs / m.name, None) for m in found])


def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Open a sweep directory: its base config, grid and seeds, every member with its run
    directory and, once finished, its summary row. Reads only; RunError or ConfigError
    naming the file when something is broken."""
    path = Path(path)
    toml = path / SWEEP_TOML
    if not toml.is_file():
        raise RunError(f"{path}: not a sweep directory (no {SWEEP_TOML})")
    try:
        raw = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RunError(f"{toml}: not readable TOML ({error})") from None
    try:
        base, grid, seeds = _parts(raw)
        found = members(base, grid, 1 if SEED in grid.fields else len(seeds))
    except ConfigError as error:
        raise ConfigError(f"{toml}: {error.field}", error.reason) from None
    rows = _rows(path / SUMMARY_CSV)
    runs = path / RUNS
    swept = []
    for m in found:
        row = rows.get(m.index)
        swept.append(SweepMember(m, runs / m.name, row if row and row["run"] == m.name else None))
    return Sweep(path, base, grid, seeds, swept)


def _parts(raw: dict[str, Any]) -> tuple[ExperimentConfig, Grid, list[int]]:
    sweep = raw.get("sweep")
    if not isinstance(sweep, dict) or sweep.get("format") != FORMAT:
        raise ConfigError("sweep.format", f"expected a [sweep] table of format {FORMAT}")
    base = ExperimentConfig.from_dict(raw.get("base", {}))
    grid_raw = sweep.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise ConfigError("sweep.grid", "expected a table of field = [values]")
    grid = grid_from_values(grid_raw)
    seeds = sweep.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError("sweep.seeds", "expected a list of whole numbers")
    count = 1 if SEED in grid.fields else len(seeds)
    if seeds != seeds_for(grid, base.training.seed, count):
        raise ConfigError(
            "sweep.seeds",
            "expected the grid's training.seed values, or consecutive seeds "
            "from base.training.seed",
        )
    return base, grid, seeds


def _rows(path: Path) -> dict[int, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        return {row["index"]: row for row in read_summary(path)}
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as error:
        raise RunError(f"{path}: not a readable summary ({error})") from None


def run_finished(run_dir: Path) -> bool:
    """True when the run directory holds a final save of a done or diverged run."""
    try:
        summary = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(summary, dict) and bool(
        summary.get("final") and (summary.get("done") or summary.get("diverged"))
    )
