"""`tui-nn sweep`: a grid of config fields over seeds, headless, into a sweep directory.

    tui-nn sweep --grid model.activation=relu,tanh,sigmoid \\
        --grid model.init=he_normal,xavier_normal,small_normal --seeds 3 --steps 2000 \\
        --out sweeps/lecture

Every experiment option (and --config) sets the base config; each --grid FIELD=V1,V2 varies
a schema field. Prints a table over the seeds (mean ± sd) and, for two varied fields, a
heat table of validation accuracy. Ctrl-C keeps the finished members; --resume DIR trains
the rest. The groups run in a process pool (--workers) or on a Dask cluster (--scheduler).

    from tui_nn.cli.sweep import add_parser
    add_parser(commands)   # commands = parser.add_subparsers(...)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from typing import Any, TextIO

from engine import ConfigError, ExperimentConfig
from engine.store.runs import json_safe
from engine.sweep import (
    MAX_MEMBERS,
    Group,
    Stat,
    SweepResult,
    dask_executor,
    grouped,
    local_executor,
    members,
    parse_grid,
    resume_sweep,
    run_sweep,
    value_text,
)
from engine.sweep.members import short_names
from engine.sweep.run import Progress
from tui_nn.cli.options import add_config_options, given_options
from tui_nn.cli.train import _stop_on_signals

# The columns of the table over seeds: (metric, heading, digits).
TABLE = (
    ("train_loss", "train loss", 4),
    ("val_loss", "val loss", 4),
    ("train_accuracy", "train acc", 3),
    ("val_accuracy", "val acc", 3),
    ("dead", "dead", 2),
    ("saturated", "sat", 2),
    ("steps_per_s", "steps/s", 0),
)
# The heat table's shades, from the lowest validation accuracy to the highest.
SHADES = ("on #5f0000", "on #875f00", "on #5f5f00", "on #005f00", "on #008700")


def positive(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `sweep` on an argparse subparsers object."""
    parser = commands.add_parser(
        "sweep",
        help="train a grid of configs over seeds headless, with a summary",
        description="Train every combination of the --grid values over --seeds seeds. "
        "Writes DIR/sweep.toml (the base config and the grid), DIR/runs/<member>/ (a run "
        "directory each, as `train` writes it) and DIR/summary.csv (a row a member). The "
        "experiment options set the base config.",
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="a config field and its values (repeatable), e.g. model.activation=relu,tanh; "
        "widths as 16x16 or [16,16]",
    )
    parser.add_argument(
        "--seeds",
        type=positive,
        metavar="N",
        help="train each combination with N training seeds from --seed (default 1); the "
        "data stays the same (data.seed)",
    )
    parser.add_argument("--out", metavar="DIR", help="the new sweep directory")
    parser.add_argument(
        "--resume",
        dest="resume_sweep",
        metavar="DIR",
        help="train the members of the sweep in DIR that are not finished",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        metavar="N",
        help="processes of the local pool (default: every core), one BLAS thread each",
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help='run the members on a Dask cluster instead (pip install "tui-nn[dask]")',
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--yes", action="store_true", help=f"run a grid of more than {MAX_MEMBERS} members"
    )
    add_config_options(parser)
    parser.set_defaults(run=run_sweep_cli)
    return parser


def run_sweep_cli(
    args: argparse.Namespace, config: ExperimentConfig, out: TextIO | None = None
) -> int:
    """Exit codes: 0 every member finished, 130 stopped (resumable); a bad grid is a
    ConfigError (exit 2) before anything is written."""
    stream = out or sys.stdout
    if args.scheduler and args.workers:
        raise ConfigError("--workers", "sets the local pool; a Dask cluster has its own workers")
    if args.resume_sweep:
        _refuse_with_resume(args)
    else:
        _check_new(args, config)
    stop = threading.Event()
    with ExitStack() as stack:
        executor, slots = _executor(args, stack)
        progress = stack.enter_context(_progress(stream, args.json))
        stack.enter_context(_stop_on_signals(stop))
        if args.resume_sweep:
            result = resume_sweep(args.resume_sweep, executor, progress, stop, slots)
        else:
            grid = parse_grid(args.grid)
            result = run_sweep(
                config, grid, args.seeds or 1, args.out, executor, progress, stop, slots
            )
    report(result, stream, args.json)
    return 130 if result.stopped else 0


def _refuse_with_resume(args: argparse.Namespace) -> None:
    given = given_options(args) + [
        flag
        for flag, value in (("--grid", args.grid), ("--seeds", args.seeds), ("--out", args.out))
        if value
    ]
    if given:
        raise ConfigError("--resume", f"the sweep's own sweep.toml is used; not {', '.join(given)}")


def _check_new(args: argparse.Namespace, config: ExperimentConfig) -> None:
    """The grid and its size, before anything runs."""
    if not args.out:
        raise ConfigError("--out", "a new sweep needs its directory (or --resume DIR)")
    found = members(config, parse_grid(args.grid), args.seeds or 1)
    if len(found) > MAX_MEMBERS and not args.yes:
        raise ConfigError(
            "--grid",
            f"{len(found)} members, more than {MAX_MEMBERS}: add --yes to run them all",
        )


def _executor(args: argparse.Namespace, stack: ExitStack) -> tuple[Executor, int]:
    if args.scheduler:
        return stack.enter_context(dask_executor(args.scheduler))
    pool = local_executor(args.workers)
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    return pool, pool.workers


# ----------------------------------------------------------------------------- progress


@contextmanager
def _progress(stream: TextIO, quiet: bool) -> Iterator[Progress | None]:
    """Members done and the time left: a rich progress bar on a terminal, a line a member
    in a log, nothing with --json."""
    if quiet:
        yield None
    elif stream.isatty():
        with _live_progress(stream) as show:
            yield show
    else:
        yield _plain_progress(stream)


@contextmanager
def _live_progress(stream: TextIO) -> Iterator[Progress]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("members"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Bar(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task("sweep", total=None)

        def show(done: int, total: int, row: dict[str, Any] | None) -> None:
            if row is None:  # the first call: what was done before this run is no progress
                bar.update(task, total=total - done)
            else:
                bar.advance(task)

        yield show


def _plain_progress(stream: TextIO) -> Progress:
    start = time.perf_counter()
    first: list[int] = []

    def show(done: int, total: int, row: dict[str, Any] | None) -> None:
        if row is None:
            first.append(done)
            stream.write(f"sweep: {total - done} of {total} members to train\n")
            return
        ran = done - first[0]
        left = (time.perf_counter() - start) / ran * (total - done)
        stream.write(
            f"member {done}/{total}: {row['run']}  val_acc {_number(row['val_accuracy'], 4)}"
            f"  {'diverged  ' if row['diverged'] else ''}{left:.0f} s left\n"
        )
        stream.flush()

    return show


# ----------------------------------------------------------------------------- report


def report(result: SweepResult, stream: TextIO, as_json: bool) -> None:
    sweep = result.sweep
    groups = grouped(sweep.rows, sweep.keys)
    done, total = len(sweep.rows), len(sweep.members)
    if as_json:
        stream.write(json.dumps(json_safe(summary_json(result, groups))) + "\n")
        return
    if groups:
        stream.write(seed_table(groups, sweep.keys) + "\n")
    if len(sweep.keys) == 2 and groups:
        stream.write("\n" + heat_table(groups, sweep.keys, stream.isatty()) + "\n")
    if result.stopped:
        stream.write(
            f"stopped: {done} of {total} members finished (kept); "
            f"resume: tui-nn sweep --resume {sweep.path}\n"
        )
    else:
        stream.write(f"done: {total} members in {sweep.path}\n")


def summary_json(result: SweepResult, groups: Sequence[Group]) -> dict[str, Any]:
    sweep = result.sweep
    return {
        "sweep": str(sweep.path),
        "members": len(sweep.members),
        "finished": len(sweep.rows),
        "ran": result.ran,
        "stopped": result.stopped,
        "grid": sweep.grid.fields,
        "seeds": sweep.seeds,
        "groups": [
            {
                "values": g.values,
                "seeds": g.seeds,
                "diverged": g.diverged,
                "stats": {k: {"mean": s.mean, "sd": s.sd} for k, s in g.stats.items()},
            }
            for g in groups
        ],
        "rows": sweep.rows,
    } | ({"resume": f"tui-nn sweep --resume {sweep.path}"} if result.stopped else {})


def _number(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _cell(stat: Stat, digits: int) -> str:
    text = _number(stat.mean, digits)
    return text if math.isnan(stat.sd) else f"{text} ± {_number(stat.sd, digits)}"


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def seed_table(groups: Sequence[Group], keys: Sequence[str]) -> str:
    """One line a combination of the varied fields (the only value columns): its seeds,
    each metric's mean ± sd over them, and how many diverged."""
    short = short_names(list(keys))
    head = [short[k] for k in keys] + ["seeds"] + [h for _, h, _ in TABLE] + ["diverged"]
    rows = [head]
    for g in groups:
        cells = [value_text(g.values[k]) for k in keys] + [str(len(g.seeds))]
        cells += [_cell(g.stats[m], d) for m, _, d in TABLE]
        rows.append([*cells, f"{g.diverged}/{len(g.seeds)}"])
    return _aligned(rows)


def heat_table(groups: Sequence[Group], keys: Sequence[str], colour: bool = False) -> str:
    """Validation accuracy (mean over the seeds) for two varied fields: the first down,
    the second across; with `colour`, each cell shaded from the lowest to the highest."""
    from rich.console import Console
    from rich.text import Text

    down, across = keys
    short = short_names(list(keys))
    cells = {(value_text(g.values[down]), value_text(g.values[across])): g for g in groups}
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    means = [g.stats["val_accuracy"].mean for g in groups]
    known = [m for m in means if not math.isnan(m)]
    lo, hi = (min(known), max(known)) if known else (0.0, 0.0)
    table = [[f"{short[down]} \\ {short[across]}", *cols]]
    shades: list[list[str]] = [[""] * len(table[0])]
    for r in rows:
        line, styles = [r], [""]
        for c in cols:
            group = cells.get((r, c))
            stat = group.stats["val_accuracy"] if group else None
            line.append(_cell(stat, 3) if stat else "")
            styles.append(_shade(stat.mean, lo, hi) if stat else "")
        table.append(line)
        shades.append(styles)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    text = Text(f"validation accuracy: {short[down]} down, {short[across]} across")
    for row, styles in zip(table, shades, strict=True):
        text.append("\n")
        for i, (cell, style) in enumerate(zip(row, styles, strict=True)):
            text.append("  " if i else "")
            text.append(cell.ljust(widths[i]), style=style if colour else "")
    console = Console(force_terminal=colour, no_color=not colour, width=10_000)
    with console.capture() as capture:
        console.print(text, end="")
    return "\n".join(line.rstrip() for line in capture.get().split("\n"))


def _shade(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return ""
    level = 0 if hi == lo else round((mean - lo) / (hi - lo) * (len(SHADES) - 1))
    return SHADES[level]


__all__ = ["add_parser", "heat_table", "report", "run_sweep_cli", "seed_table"]
