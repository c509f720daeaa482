"""The compare view's cost against training the same runs headless, in one run here.

    python benchmarks/compare_bench.py           # ~2 minutes
    python benchmarks/compare_bench.py --quick   # ~1 minute

1. steps/s of a comparison of 4 runs with the compare view on screen (headless Textual,
   120x40, its plot tabs cycling every half second) over the steps/s of the same 4 members
   trained headless (tui_nn.core.compare.train_together: each group's step in turn, on
   this thread, restored from the view's runs' checkpoints: the same members at the same
   step, since a step's cost changes as a run trains), back to back in pairs: >= 0.85.
   Two comparisons: 4 activations (runs that cannot stack: one Trainer each) and 4
   learning rates (one stacked group).
2. key press to screen in the real `tui-nn` in a pseudo-terminal, while the 4 runs train:
   `:compare activation=...`, then plot-tab keys until the plot's title arrives on the
   terminal: p95 <= 100 ms; beside it, as a peer timed in the same run, the single-run
   lab's own key latency (benchmarks/ui_bench.py's measure).

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from benchmarks.ui_bench import (  # noqa: E402
    SIZE,
    Terminal,
    machine,
    plot_size,
    tab_titles,
    tui_nn_command,
)
from benchmarks.ui_bench import key_latencies as lab_key_latencies  # noqa: E402
from engine import ExperimentConfig, Trainer  # noqa: E402
from tui_nn.app import LabApp  # noqa: E402
from tui_nn.charts import PLOTS  # noqa: E402
from tui_nn.core.compare import entries_from, parse_assignment, train_together  # noqa: E402
from tui_nn.screens.compare import CompareScreen  # noqa: E402

BASE = ExperimentConfig().with_changes(training={"steps": 10**9})  # the default lab run
GRIDS = ("activation=relu,tanh,sigmoid,leaky_relu", "lr=0.03,0.01,0.003,0.001")
TARGETS = {"ratio": 0.85, "latency_ms": 100.0}
# The start of each overlay plot's title (tui_nn.widgets.compare_plots.overlay).
TITLES = {
    1: "loss (log), per",
    2: "accuracy, per",
    3: "dead (every",
    4: "gradient norm",
    5: "update/weight",
}


def headless_rate(
    grid: str, seconds: float, checkpoints: Sequence[Mapping[str, np.ndarray]] = ()
) -> float:
    """Rounds a second of the grid's members trained together, with no UI and no runner;
    from `checkpoints` (one a member, in the grid's order) when given: the view's runs
    where they are, since a run's step costs change as it trains."""
    groups = train_together(configs(grid))
    if checkpoints:
        for indices, group in groups:
            for member, i in zip(group.members, indices, strict=True):
                member.restore(checkpoints[i])
    for _, group in groups:  # warm up: caches, the first evaluation
        group.step()
    start, rounds = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        for _, group in groups:
            group.step()
        rounds += 1
    return rounds / (time.perf_counter() - start)


def configs(grid: str) -> list[ExperimentConfig]:
    return [e.config for e in entries_from(BASE, parse_assignment(grid))]


async def rates(grid: str, rounds: int, seconds: float) -> tuple[list[float], list[float]]:
    """Pairs: the compare view training while its tabs cycle; then, paused, headless."""
    app = LabApp(BASE)
    on_screen, alone = [], []
    async with app.run_test(size=SIZE) as pilot:
        app.run_command(f"compare {grid}")
        while not isinstance(app.screen, CompareScreen):
            await pilot.pause(0.05)
        screen = app.screen
        runner = screen.runner
        await pilot.pause(1.0)  # warm up
        tab = 1
        for _ in range(rounds):
            step0, start = runner.snapshot().step, time.perf_counter()
            while time.perf_counter() - start < seconds:
                tab = tab % len(PLOTS) + 1
                await pilot.press(str(tab))
                await pilot.pause(0.5)
            on_screen.append((runner.snapshot().step - step0) / (time.perf_counter() - start))
            runner.pause()
            await pilot.pause(0.2)
            saved = [runner.read(i, Trainer.checkpoint) for i in range(len(configs(grid)))]
            # The same members from where the view's are; the event loop idles meanwhile.
            alone.append(headless_rate(grid, seconds / 2, saved))
            runner.start()
            await pilot.pause(0.3)
        await pilot.press("q")
    return on_screen, alone


def key_latencies(grid: str, presses: int) -> list[float]:
    term = Terminal([*tui_nn_command(), "--steps", str(10**9)])
    latencies: list[float] = []
    try:
        if term.wait_for("1 loss", timeout=30.0) is None:
            return latencies
        term.drain(0.5)
        term.send(":")
        term.wait_for("compare FIELD", timeout=10.0)
        term.send(f"compare {grid}\r")
        if term.wait_for("COMPARE RUNNING", timeout=30.0) is None:
            return latencies
        term.drain(1.5)
        rng = np.random.default_rng(0)
        tab = 1
        for _ in range(presses):
            tab = tab % len(PLOTS) + 1
            sent = time.perf_counter()
            term.send(str(tab))
            seen = term.wait_for(TITLES[tab], timeout=2.0)
            latencies.append(seen if seen is not None else time.perf_counter() - sent)
            term.drain(float(rng.uniform(0.1, 0.35)))  # not in step with the poll timer
    finally:
        term.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    args = parser.parse_args()
    rounds, seconds, presses = (2, 2.0, 20) if args.quick else (4, 3.0, 40)
    print("\n".join(machine()))
    print(f"size     {SIZE[0]}x{SIZE[1]}, base: the default lab run (spiral, 16-16, Adam)")
    load = os.getloadavg()[0]
    lines = []
    for grid in GRIDS:
        groups = [len(members) for members, _ in train_together(configs(grid))]
        on_screen, alone = asyncio.run(rates(grid, rounds, seconds))
        ratio = statistics.median(a / b for a, b in zip(on_screen, alone, strict=True))
        ok = "ok" if ratio >= TARGETS["ratio"] else "MISSED"
        lines.append(
            f"compare view / headless, {grid} (groups {groups}): {ratio:.2f} "
            f"({statistics.median(on_screen):,.0f} vs {statistics.median(alone):,.0f} "
            f"rounds/s)  target >= {TARGETS['ratio']}  {ok}"
        )
    latencies = key_latencies(GRIDS[0], presses)
    if latencies:
        p95 = float(np.percentile(latencies, 95)) * 1000
        ok = "ok" if p95 <= TARGETS["latency_ms"] else "MISSED"
        lines.append(
            f"key press to screen, 4 runs training: p50 {statistics.median(latencies) * 1000:.0f}"
            f" ms, p95 {p95:.0f} ms ({len(latencies)} presses)  target <= 100 ms  {ok}"
        )
    else:
        lines.append("key press to screen: the compare view never showed")
    # The peer on this machine now: the single-run lab's keys (ui_bench's measure).
    lab = lab_key_latencies(presses, tab_titles(*asyncio.run(plot_size()))).tabs
    if lab:
        lines.append(
            f"  the lab's own keys, one run training (ui_bench): p50 "
            f"{statistics.median(lab) * 1000:.0f} ms, p95 {np.percentile(lab, 95) * 1000:.0f} ms"
        )
    print(f"load     1-min load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
