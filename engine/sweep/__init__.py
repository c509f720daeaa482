"""Headless sweeps: a grid of schema fields over seeds, each member a run directory.

    from engine.sweep import parse_grid, members, run_sweep, load_sweep
    grid = parse_grid(["model.activation=relu,tanh", "model.init=he_normal,xavier_normal"])
    result = run_sweep(ExperimentConfig(), grid, seeds=3, out="sweeps/lecture")
    sweep = load_sweep("sweeps/lecture")   # base, grid, members with run_dir and row

grid (parsing against the schema), members, groups (stacks of members, the one function
that trains a group), finish (a member's run directory and row), summary (summary.csv and
the rows over seeds), files (the sweep directory, load_sweep), executors (a process pool,
Dask), run (run_sweep, resume_sweep). The sweep sits above train, store and lecture.
"""

from engine.sweep.executors import dask_executor, local_executor
from engine.sweep.files import Sweep, SweepMember, load_sweep
from engine.sweep.grid import MAX_MEMBERS, Grid, parse_grid, value_text
from engine.sweep.members import Member, members
from engine.sweep.run import SweepResult, preflight, resume_sweep, run_sweep
from engine.sweep.summary import Group, Stat, grouped

__all__ = [
    "MAX_MEMBERS",
    "Grid",
    "Group",
    "Member",
    "Stat",
    "Sweep",
    "SweepMember",
    "SweepResult",
    "dask_executor",
    "grouped",
    "load_sweep",
    "local_executor",
    "members",
    "parse_grid",
    "preflight",
    "resume_sweep",
    "run_sweep",
    "value_text",
]
