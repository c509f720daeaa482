"""The UI's cost against headless training, in one run on this machine.

    python benchmarks/ui_bench.py            # ~1 minute
    python benchmarks/ui_bench.py --quick    # ~25 seconds

Measures (targets from DESIGN.md's performance table):

1. training steps/s with the app running (headless Textual, 120x40, training at full
   speed while the plot tabs cycle) over headless `Trainer.step()` steps/s of the same
   config, timed before and after the app: >= 0.85;
2. key-press-to-screen latency of the real `tui-nn` in a pseudo-terminal while it trains:
   a plot-tab key, until that plot's title arrives on the terminal: p95 <= 100 ms;
3. redraw time of each plot (data preparation + plotext build + ANSI parse, what one
   refresh of the visible plot costs) with a History holding 1,000,000 steps: <= 30 ms;
4. start-up of the real `tui-nn` to its first frame (the plot tab bar on the terminal),
   median of several starts: <= 1.5 s.

(1) runs headless, so the cost of writing frames to a terminal is not in it; (2) and (4)
run the real program. A busy machine (see the printed load average) skews every number.

Timings are printed, never asserted: tests stay free of timing.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import importlib.metadata
import os
import platform
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from rich.text import Text  # noqa: E402
from textual_plotext import Plot  # noqa: E402

from engine import ExperimentConfig, Trainer  # noqa: E402
from engine.train.history import History  # noqa: E402
from tui_nn.app import LabApp  # noqa: E402
from tui_nn.charts import PLOTS, EvalCache, PlotInput  # noqa: E402
from tui_nn.core.runner import Runner  # noqa: E402
from tui_nn.widgets.plots import PlotsPanel  # noqa: E402

SIZE = (120, 40)
CONFIG = {"training": {"steps": 10**9}}  # the default lab run, with no step budget to hit
TARGETS = {"ratio": 0.85, "latency_ms": 100.0, "redraw_ms": 30.0, "startup_s": 1.5}
# What each tab shows first on screen: its plot's title (default config: ReLU).
TAB_TITLES = {1: "loss (log)", 2: "accuracy", 3: "dead units", 4: "gradient norm", 5: "update/"}
FIRST_FRAME = "1 loss"  # the plot tab bar
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


@dataclass
class Row:
    what: str
    value: str
    target: str
    ok: bool | None


# ----------------------------------------------------------------- machine


def machine() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    return [
        f"cpu      {cpu}, {os.cpu_count()} cores",
        f"python   {platform.python_version()} ({platform.system()} {platform.release()})",
        f"numpy    {np.__version__}",
        f"textual  {version('textual')}, textual-plotext {version('textual-plotext')}, "
        f"plotext {version('plotext')}",
    ]


def runner_kind(runner: Any) -> str:
    worker = getattr(runner, "_thread", None) or getattr(runner, "_process", None)
    kind = type(worker).__name__ if worker is not None else "not started"
    return f"{type(runner).__module__}.{type(runner).__name__} (worker: {kind})"


# ------------------------------------------------ 1. steps/s with the app running


def steps_per_second(trainer: Trainer, seconds: float) -> float:
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
    return steps / (time.perf_counter() - start)


@dataclass
class Rates:
    headless: list[float]
    app: list[float]
    runner: str
    draws: int  # plot redraws while the app trained

    @property
    def ratio(self) -> float:
        """Median over rounds of app / headless, each pair measured back to back."""
        return statistics.median(a / h for a, h in zip(self.app, self.headless, strict=True))


async def training_rates(rounds: int, seconds: float) -> Rates:
    """Alternate, in one process: the lab training while its plot tabs cycle every half
    second, then (the lab paused) a headless Trainer of the same config on this thread.
    Back-to-back pairs keep the machine's drift (other load, clocks) out of the ratio."""
    trainer = Trainer(ExperimentConfig.from_dict(CONFIG))
    steps_per_second(trainer, 0.3)  # warm up: caches, first evaluation, BLAS threads
    app = LabApp(ExperimentConfig.from_dict(CONFIG))
    rates = Rates([], [], "", 0)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(PlotsPanel)
        app.runner.start()
        await pilot.pause(1.0)  # warm up
        rates.runner = runner_kind(app.runner)
        tab = 1
        for _ in range(rounds):
            draws, step0, start = panel.draws, app.runner.snapshot().step, time.perf_counter()
            while time.perf_counter() - start < seconds:
                tab = tab % len(PLOTS) + 1
                await pilot.press(str(tab))
                await pilot.pause(0.5)
            step1, end = app.runner.snapshot().step, time.perf_counter()
            rates.app.append((step1 - step0) / (end - start))
            rates.draws += panel.draws - draws
            app.runner.pause()
            await pilot.pause(0.2)
            # Blocks the app's event loop, which has nothing to do while paused.
            rates.headless.append(steps_per_second(trainer, seconds / 2))
            app.runner.start()
            await pilot.pause(0.3)
        app.runner.close()
    return rates


def runner_alone_ratio(rounds: int, seconds: float) -> float:
    """The same pairs without any UI: what the runner's own work (locking, snapshots, the
    boundary grid) costs, so that (1) can be split between the runner and the widgets."""
    trainer = Trainer(ExperimentConfig.from_dict(CONFIG))
    steps_per_second(trainer, 0.3)
    runner = Runner(ExperimentConfig.from_dict(CONFIG))
    runner.start()
    time.sleep(0.5)
    ratios = []
    for _ in range(rounds):
        step0, start = runner.snapshot().step, time.perf_counter()
        time.sleep(seconds)
        rate = (runner.snapshot().step - step0) / (time.perf_counter() - start)
        runner.pause()
        time.sleep(0.1)
        ratios.append(rate / steps_per_second(trainer, seconds / 2))
        runner.start()
    runner.close()
    return statistics.median(ratios)


# -------------------------------------------------------- a real terminal (pty)


class Terminal:
    """`tui-nn` in a pseudo-terminal of SIZE; collects what it writes."""

    def __init__(self, command: list[str]) -> None:
        self.master, slave = pty.openpty()
        cols, rows = SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        env.pop("NO_COLOR", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.first_byte: float | None = None

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return b""
        if data and self.first_byte is None:
            self.first_byte = time.perf_counter()
        return data

    def wait_for(self, text: str, timeout: float) -> float | None:
        """Seconds until `text` shows in the output (escape codes removed), or None."""
        start = time.perf_counter()
        seen = b""
        needle = text.encode()
        while time.perf_counter() - start < timeout:
            seen += self.read(0.005)
            if needle in ANSI.sub(b"", seen):
                return time.perf_counter() - start
        return None

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.read(0.01)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        self.send("q")
        try:
            self.proc.wait(3.0)
        except subprocess.TimeoutExpired:
            self.proc.terminate()  # this child only, by its pid
            self.proc.wait(3.0)
        os.close(self.master)


def tui_nn_command() -> list[str]:
    script = Path(sys.executable).parent / "tui-nn"
    if script.exists():
        return [str(script)]
    found = shutil.which("tui-nn")
    return [found] if found else [sys.executable, "-m", "tui_nn"]


def startup_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        term = Terminal(tui_nn_command())
        seen = term.wait_for(FIRST_FRAME, timeout=10.0)
        if seen is not None:
            times.append(time.perf_counter() - term.started)
        term.close()
    return times


def key_latencies(presses: int) -> list[float]:
    """Press plot-tab keys while training; seconds until the new plot's title arrives."""
    term = Terminal(tui_nn_command())
    latencies: list[float] = []
    try:
        if term.wait_for(FIRST_FRAME, timeout=10.0) is None:
            return latencies
        term.send(" ")  # start training
        term.drain(1.5)
        rng = np.random.default_rng(0)
        tab = 1
        for _ in range(presses):
            tab = tab % len(PLOTS) + 1
            sent = time.perf_counter()
            term.send(str(tab))
            seen = term.wait_for(TAB_TITLES[tab], timeout=2.0)
            latencies.append(seen if seen is not None else time.perf_counter() - sent)
            term.drain(float(rng.uniform(0.1, 0.35)))  # not in step with the poll timer
    finally:
        term.close()
    return latencies


# ------------------------------------------ 3. redraw time with a long history


def filled_history(steps: int) -> tuple[History, list[Any]]:
    """A History of `steps` plausible rows (and an eval every 50 steps), made directly."""
    template = Trainer(ExperimentConfig.from_dict(CONFIG))
    columns = template.history.columns
    history = History(columns, template.history.capacity, template.history.max_levels)
    rng = np.random.default_rng(0)
    index = {name: i for i, name in enumerate(columns)}
    chunk = 50_000
    for begin in range(1, steps + 1, chunk):
        s = np.arange(begin, min(begin + chunk, steps + 1), dtype=np.float64)
        rows = np.zeros((len(s), len(columns)))
        decay = np.exp(-s / (steps / 5))
        rows[:, index["loss"]] = (1.1 * decay + 0.02) * rng.lognormal(0, 0.3, len(s))
        rows[:, index["accuracy"]] = np.clip(1 - 0.6 * decay + rng.normal(0, 0.03, len(s)), 0, 1)
        rows[:, index["lr"]] = 0.01
        for name, i in index.items():
            if name.startswith("layers."):
                rows[:, i] = LAYER_STAT_MAKERS[name.rsplit(".", 1)[1]](rng, decay)
        for step, row in zip(s.astype(int), rows, strict=True):
            history.append(int(step), row)
    evals = [
        _Eval(int(k), 1.0 / k**0.2, 0.9, 1.1 / k**0.2, 0.85, [0, 0])
        for k in range(50, steps + 1, 50)
    ]
    return history, evals


# Plausible per-layer stats: (generator, loss decay per row) -> column.
LAYER_STAT_MAKERS: dict[str, Callable[[np.random.Generator, np.ndarray], np.ndarray]] = {
    "grad_norm_W": lambda rng, d: rng.lognormal(-3, 0.5, len(d)),
    "grad_norm_b": lambda rng, d: rng.lognormal(-4, 0.5, len(d)),
    "weight_norm": lambda rng, d: 4 + 0.1 * rng.normal(size=len(d)),
    "update_ratio": lambda rng, d: rng.lognormal(np.log(1e-3), 0.4, len(d)),
    "dead": lambda rng, d: np.floor(4 * (1 - d) + rng.random(len(d))),
    "saturated": lambda rng, d: np.zeros(len(d)),
    "act_mean": lambda rng, d: 0.3 + 0.05 * rng.normal(size=len(d)),
    "act_std": lambda rng, d: 0.6 + 0.05 * rng.normal(size=len(d)),
}


@dataclass(frozen=True)
class _Eval:
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    dead: list[int]


async def plot_size() -> tuple[int, int]:
    """The plot's size in the lab at SIZE, as the app lays it out."""
    app = LabApp(ExperimentConfig.from_dict(CONFIG))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        size = app.query_one("#plot-loss").size
        app.runner.close()
    return size.width, size.height


def redraw_times(history: History, evals: list[Any], width: int, height: int, repeat: int) -> dict:
    start = time.perf_counter()
    columns = EvalCache().update(evals, run=0)
    convert = time.perf_counter() - start
    data = PlotInput(
        series=history.series,
        evals=columns,
        n_layers=3,
        hidden=(16, 16),
        activation="relu",
    )
    times: dict[str, float] = {"(evals to arrays, once a run)": convert}
    for spec in PLOTS:
        plt = Plot()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            spec.draw(plt, data, width, height, True)
            plt.plotsize(width, height)
            Text.from_ansi(plt.build())  # what PlotextPlot.render does
            samples.append(time.perf_counter() - start)
        times[spec.key] = statistics.median(samples)
    return times


# --------------------------------------------------------------------- report


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    args = parser.parse_args()
    rows: list[Row] = []

    print("\n".join(machine()))
    print(f"size     {SIZE[0]}x{SIZE[1]}, config: default lab run (spiral, 16-16 ReLU, Adam)")
    load_before = os.getloadavg()[0]

    # 1. The lab's training speed against headless steps of the same config.
    rates = asyncio.run(training_rates(3 if args.quick else 6, 2.0))
    print(f"runner   {rates.runner}")
    ratio = rates.ratio
    rows.append(
        Row(
            "headless Trainer.step()", f"{statistics.median(rates.headless):,.0f} steps/s", "", None
        )
    )
    rows.append(
        Row(
            "with the app (tabs cycling)",
            f"{statistics.median(rates.app):,.0f} steps/s, {rates.draws} plot redraws",
            "",
            None,
        )
    )
    rows.append(
        Row(
            f"(1) app / headless ({len(rates.app)} pairs)",
            f"{ratio:.2f}",
            f">= {TARGETS['ratio']}",
            ratio >= TARGETS["ratio"],
        )
    )

    alone = runner_alone_ratio(3 if args.quick else 6, 2.0)
    rows.append(Row("    runner alone, no UI / headless", f"{alone:.2f}", "", None))

    # 2. Key press to screen in a real terminal.
    latencies = key_latencies(15 if args.quick else 40)
    worst = p95(latencies) * 1000
    rows.append(
        Row(
            "(2) key to screen, training",
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {worst:.0f} ms "
            f"({len(latencies)} presses)",
            f"p95 <= {TARGETS['latency_ms']:.0f} ms",
            worst <= TARGETS["latency_ms"],
        )
    )

    # 3. Redraw with a 1,000,000-step history (and a 1,000-step one: the cost must be flat).
    width, height = asyncio.run(plot_size())
    repeat = 5 if args.quick else 20
    short = redraw_times(*filled_history(1_000), width, height, repeat)
    fill_start = time.perf_counter()
    history, evals = filled_history(1_000_000)
    fill = time.perf_counter() - fill_start
    rows.append(Row(f"History of {len(history):,} steps", f"filled in {fill:.1f} s", "", None))
    times = redraw_times(history, evals, width, height, repeat)
    for key, value in times.items():
        ms = value * 1000
        is_plot = not key.startswith("(")
        rows.append(
            Row(
                f"(3) redraw {key} at {width}x{height}" if is_plot else f"    {key}",
                f"{ms:.1f} ms (1k steps: {short[key] * 1000:.1f} ms)",
                f"<= {TARGETS['redraw_ms']:.0f} ms" if is_plot else "",
                ms <= TARGETS["redraw_ms"] if is_plot else None,
            )
        )

    # 4. Start-up to first frame: judged on the median, a cold first start shows in max.
    starts = startup_times(3 if args.quick else 5)
    median = statistics.median(starts) if starts else float("nan")
    rows.append(
        Row(
            "(4) start-up to first frame",
            f"median {median:.2f} s, max {max(starts):.2f} s ({len(starts)} runs)"
            if starts
            else "no frame seen",
            f"median <= {TARGETS['startup_s']} s",
            median <= TARGETS["startup_s"],
        )
    )

    # Other work on the machine slows both sides of every ratio, but not equally.
    print(
        f"load     1-min load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print()
    width_what = max(len(r.what) for r in rows)
    width_value = max(len(r.value) for r in rows)
    for r in rows:
        verdict = {True: "ok", False: "MISSED", None: ""}[r.ok]
        print(f"{r.what:<{width_what}}  {r.value:<{width_value}}  {r.target:<16} {verdict}")


if __name__ == "__main__":
    main()
