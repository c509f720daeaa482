"""The UI's cost against headless training, in one run on this machine.

    python benchmarks/ui_bench.py            # ~4 minutes
    python benchmarks/ui_bench.py --quick    # ~2 minutes
    python benchmarks/ui_bench.py --big-only # (8) alone

Measures (targets for 1-4 from DESIGN.md's performance table; for 5-7 the bounds the tests
used to assert, which live here now):

1. training steps/s with the app running (headless Textual, 120x40, training at full
   speed while the plot tabs cycle) over headless `Trainer.step()` steps/s of the same
   config, timed before and after the app: >= 0.85;
2. key-press-to-screen latency of the real `tui-nn` in a pseudo-terminal while it trains:
   a plot-tab key, until that plot's title arrives on the terminal: p95 <= 100 ms;
3. redraw time of each plot (data preparation + plotext build + ANSI parse, what one
   refresh of the visible plot costs) with a History holding 1,000,000 steps: <= 30 ms;
4. start-up of the real `tui-nn` to its first frame (the plot tab bar on the terminal),
   median of several starts: <= 1.5 s;
5. stopping while training: `Runner.close()` (a join of the worker, which finishes the step
   in progress), also in steps of the same config: <= 1 s; and q in the real `tui-nn`
   until its process has exited: <= 2 s;
6. the lecture scenario's judge and the advisor, read by the runner at most every
   OBSERVE_INTERVAL, never once a step: calls a second and steps between two calls;
7. the depth view computing CS231n's 10 x 500 profiles on a worker thread: the key's
   handler and the longest stall of the UI's event loop meanwhile, against the profile's
   own time: handler + stall <= 100 ms (the key-to-screen target);
8. big nets (`--hidden 1024,1024,1024` and `4096,4096,4096`, whose step takes 10 ms and
   0.3 s here): (1)'s steps/s with the app against headless, and (2)'s key press to
   screen, p95 <= 100 ms: the UI never waits for a step, and the boundary grid and the
   judges compute outside the training lock.

(1), (5) Runner.close, (6) and (8)'s steps/s run headless, so the cost of writing frames
to a terminal is not in them; (2), (4), (5) q and (8)'s keys run the real program. A busy
machine (see the printed load average) skews every number.

Timings are printed, never asserted: tests stay free of timing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import fcntl
import importlib.metadata
import io
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
from types import SimpleNamespace
from typing import Any

import numpy as np
from rich.console import Console
from rich.style import Style

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import tui_nn.core.runner as runner_module  # noqa: E402
from engine import ExperimentConfig, Trainer  # noqa: E402
from engine.lecture.advisor import Advice  # noqa: E402
from engine.lecture.profiles import PROFILES  # noqa: E402
from engine.lecture.scenarios import SCENARIOS, Scenario, Verdict  # noqa: E402
from engine.train.history import History  # noqa: E402
from engine.train.records import history_columns  # noqa: E402
from tui_nn.app import LabApp  # noqa: E402
from tui_nn.charts import PLOTS, EvalCache, PlotInput, new_plot, render, render_strips  # noqa: E402
from tui_nn.cli import build_parser  # noqa: E402
from tui_nn.cli.options import config_from_args  # noqa: E402
from tui_nn.core.runner import OBSERVE_INTERVAL, Runner  # noqa: E402
from tui_nn.widgets.plots import PlotsPanel  # noqa: E402

SIZE = (120, 40)
MIN_ROUND_STEPS = 20  # (1), (8): a round of a slow net lasts at least this many steps
CONFIG = {"training": {"steps": 10**9}}  # the default lab run, with no step budget to hit
# (8): the flags `tui-nn` gets; the in-process runs use the config they make. The memory
# guard counts 1.25 GB for the 4096-wide net (Adam's buffers), over the 1 GB default.
BIG_NETS = (
    ("--hidden", "1024,1024,1024"),
    ("--hidden", "4096,4096,4096", "--memory-budget-mb", "2048"),
)
TARGETS = {
    "ratio": 0.85,
    "latency_ms": 100.0,
    "redraw_ms": 30.0,
    "startup_s": 1.5,
    "close_ms": 1000.0,
    "quit_s": 2.0,
    "observe_hz": 1.0 / OBSERVE_INTERVAL,  # judge and advisor calls a second, at most
    "stall_ms": 100.0,
}
TITLE_CHARS = 12  # a tab has shown when the start of its plot's title is on the screen
FIRST_FRAME = "1 loss"  # the plot tab bar
RUNNING = "RUNNING"  # the status line once training runs
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
    shown: list[float] = dataclasses.field(default_factory=list)  # the status line's steps/s

    @property
    def ratio(self) -> float:
        """Median over rounds of app / headless, each pair measured back to back."""
        return statistics.median(a / h for a, h in zip(self.app, self.headless, strict=True))


def lab_config(flags: tuple[str, ...] = ()) -> ExperimentConfig:
    """The default lab run, changed by `tui-nn` flags, with no step budget to hit."""
    config = config_from_args(build_parser().parse_args(list(flags)))
    return config.with_changes(**CONFIG)


async def training_rates(
    rounds: int, seconds: float, config: ExperimentConfig | None = None
) -> Rates:
    """Alternate, in one process: the lab training while its plot tabs cycle every half
    second, then (the lab paused) a headless Trainer of the same config on this thread.
    Back-to-back pairs keep the machine's drift (other load, clocks) out of the ratio."""
    config = config or lab_config()
    trainer = Trainer(config)
    warm = steps_per_second(trainer, 0.3)  # warm up: caches, first evaluation, BLAS threads
    seconds = max(seconds, MIN_ROUND_STEPS / warm)  # a big net: enough steps a round
    app = LabApp(config)
    rates = Rates([], [], "", 0)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(PlotsPanel)
        app.runner.start()
        await pilot.pause(max(1.0, 5 / warm))  # warm up: a few steps and looks
        rates.runner = runner_kind(app.runner)
        tab = 1
        for _ in range(rounds):
            draws, step0, start = panel.draws, app.runner.snapshot().step, time.perf_counter()
            while time.perf_counter() - start < seconds:
                tab = tab % len(PLOTS) + 1
                await pilot.press(str(tab))
                await pilot.pause(0.5)
            snap, end = app.runner.snapshot(), time.perf_counter()
            rates.app.append((snap.step - step0) / (end - start))
            rates.shown.append(snap.steps_per_sec)
            rates.draws += panel.draws - draws
            app.runner.pause()
            await pilot.pause(0.2)
            # A big net's look at the paused step runs on the worker: not beside headless.
            deadline = time.perf_counter() + 60.0
            while not looked(app.runner.snapshot()) and time.perf_counter() < deadline:
                await pilot.pause(0.1)
            # Blocks the app's event loop, which has nothing to do while paused.
            rates.headless.append(steps_per_second(trainer, seconds / 2))
            app.runner.start()
            await pilot.pause(0.3)
        app.runner.close()
    return rates


def looked(snap: Any) -> bool:
    """The runner's look (boundary, judge, advisor) is done for the snapshot's step."""
    return snap.boundary is None or snap.boundary.step == snap.step


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
        if self.proc.poll() is None:
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


@dataclass
class Keys:
    space: float | None  # space until RUNNING shows
    tabs: list[float]  # each plot-tab key until its plot's title shows


def key_latencies(
    presses: int, titles: dict[int, str], flags: tuple[str, ...] = (), warm_up: float = 1.5
) -> Keys:
    """Start training with space, then press plot-tab keys; seconds until the screen
    shows each (RUNNING, then the new plot's title)."""
    term = Terminal([*tui_nn_command(), *flags])
    keys = Keys(None, [])
    latencies = keys.tabs
    try:
        if term.wait_for(FIRST_FRAME, timeout=30.0) is None:
            return keys
        term.drain(0.5)  # the first frames
        term.send(" ")  # start training
        keys.space = term.wait_for(RUNNING, timeout=30.0)
        term.drain(warm_up)
        rng = np.random.default_rng(0)
        tab = 1
        for _ in range(presses):
            tab = tab % len(PLOTS) + 1
            sent = time.perf_counter()
            term.send(str(tab))
            seen = term.wait_for(titles[tab], timeout=2.0)
            latencies.append(seen if seen is not None else time.perf_counter() - sent)
            term.drain(float(rng.uniform(0.1, 0.35)))  # not in step with the poll timer
    finally:
        term.close()
    return keys


def quit_times(runs: int) -> list[float]:
    """The real `tui-nn` training in a terminal: seconds from q until its process exited."""
    times = []
    for _ in range(runs):
        term = Terminal(tui_nn_command())
        try:
            if term.wait_for(FIRST_FRAME, timeout=10.0) is None:
                continue
            term.send(" ")  # start training
            term.drain(1.0)
            start = time.perf_counter()
            term.send("q")
            while term.proc.poll() is None and time.perf_counter() - start < 10.0:
                term.read(0.005)  # keep reading: a full terminal would block the app
            if term.proc.poll() is not None:
                times.append(time.perf_counter() - start)
        finally:
            term.close()
    return times


# ------------------------------------------ 3. redraw time with a long history


def filled_history(steps: int, config: ExperimentConfig | None = None) -> tuple[History, list[Any]]:
    """A History of `steps` plausible rows and an evaluation at step 0 and every 50 steps
    (the dead units over the training set in them), made directly."""
    config = config or lab_config()
    hidden = len(config.model.hidden)
    columns = history_columns(hidden + 1)
    history = History(columns)
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
            stat = name.rsplit(".", 1)[-1]
            if name.startswith("layers.") and stat in LAYER_STAT_MAKERS:  # others stay 0
                rows[:, i] = LAYER_STAT_MAKERS[stat](rng, decay)
        for step, row in zip(s.astype(int), rows, strict=True):
            history.append(int(step), row)
    evals = [
        _Eval(
            k,
            1.0 / (k + 1) ** 0.2,
            0.9,
            1.1 / (k + 1) ** 0.2,
            0.85,
            [min(4, k // 5000)] + [0] * (hidden - 1),
        )
        for k in range(0, steps + 1, 50)
    ]
    return history, evals


# Plausible per-layer stats: (generator, loss decay per row) -> column.
LAYER_STAT_MAKERS: dict[str, Callable[[np.random.Generator, np.ndarray], np.ndarray]] = {
    "grad_norm_W": lambda rng, d: rng.lognormal(-3, 0.5, len(d)),
    "grad_norm_b": lambda rng, d: rng.lognormal(-4, 0.5, len(d)),
    "weight_norm": lambda rng, d: 4 + 0.1 * rng.normal(size=len(d)),
    "update_ratio": lambda rng, d: rng.lognormal(np.log(1e-3), 0.4, len(d)),
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


def as_snapshot(history: History, evals: list[Any], config: ExperimentConfig | None = None) -> Any:
    """What PlotInput.from_snapshot reads of a runner Snapshot of a lab run (the default
    one unless given), over a History made here: the plots get their input as the widget
    gives it."""
    config = config or lab_config()
    return SimpleNamespace(
        has_history=True,
        series=lambda name, n: history.series(name, max_points=n),
        series_many=lambda names, n: [history.series(name, max_points=n) for name in names],
        n_layers=len(config.model.hidden) + 1,
        config=config,
        activation=config.model.activation,
        task="classification",
        evals=evals,
        step=history.last_step or 0,
        marks=(),
    )


def tab_titles(width: int, height: int, config: ExperimentConfig | None = None) -> dict[int, str]:
    """The start of each tab's plot title as drawn for a run of `config` (the default
    one unless given), which the key latency waits to see: the benchmark follows the
    charts' wording."""
    history, evals = filled_history(200, config)
    snapshot = as_snapshot(history, evals, config)
    data = PlotInput.from_snapshot(snapshot, EvalCache().update(evals, 0))
    titles = {}
    for number, spec in enumerate(PLOTS, 1):
        plt = new_plot()
        text = render(plt, spec.draw(plt, data, width, height, True), width)
        titles[number] = text.plain.splitlines()[0].strip()[:TITLE_CHARS]
    return titles


def redraw_times(history: History, evals: list[Any], width: int, height: int, repeat: int) -> dict:
    start = time.perf_counter()
    columns = EvalCache().update(evals, run=0)
    convert = time.perf_counter() - start
    data = PlotInput.from_snapshot(as_snapshot(history, evals), columns)
    times: dict[str, float] = {"(evals to arrays, once a run)": convert}
    console = Console(width=width, file=io.StringIO(), color_system="truecolor")
    for spec in PLOTS:
        plt = new_plot()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            figure = spec.draw(plt, data, width, height, True)  # PlotsPanel's redraw:
            render_strips(plt, figure, width, console, Style())  # what its Chart shows
            samples.append(time.perf_counter() - start)
        times[spec.key] = statistics.median(samples)
    return times


# ------------------------------------------------------ 5. Runner.close mid-training


def close_times(runs: int) -> tuple[list[float], float]:
    """Seconds Runner.close() takes while training at full speed, and (the peer: close
    waits for the step in progress) the seconds of a headless step of the same config."""
    step = 1.0 / steps_per_second(Trainer(ExperimentConfig.from_dict(CONFIG)), 0.5)
    times = []
    for _ in range(runs):
        runner = Runner(ExperimentConfig.from_dict(CONFIG))
        runner.start()
        deadline = time.perf_counter() + 10.0
        while runner.snapshot().step < 50 and time.perf_counter() < deadline:
            time.sleep(0.01)
        start = time.perf_counter()
        runner.close()
        times.append(time.perf_counter() - start)
        if runner.alive:
            raise RuntimeError("Runner.close() returned with the worker still running")
    return times, step


# ------------------------------------------- 6. the judge and the advisor while running


@dataclass
class Observations:
    seconds: float
    steps: int
    judge: int  # calls of the scenario's judge
    advise: int  # calls of the advisor

    @property
    def steps_per_judge(self) -> float:
        return self.steps / max(1, self.judge)


def observations(seconds: float) -> Observations:
    """A scenario with a budget no run reaches, training in the runner: how often the
    runner called its judge and the advisor (it must not be once a step)."""
    scenario = SCENARIOS["he_relu"]
    endless = dataclasses.replace(
        scenario, config=scenario.config.with_changes(training={"steps": 10**9}), steps=10**9
    )
    calls = {"judge": 0, "advise": 0}
    real_judge, real_advise = runner_module.judge, runner_module.advise

    def judge(scenario: Scenario, trainer: Trainer) -> Verdict:
        calls["judge"] += 1
        return real_judge(scenario, trainer)

    def advise(trainer: Trainer) -> list[Advice]:
        calls["advise"] += 1
        return real_advise(trainer)

    runner_module.judge, runner_module.advise = judge, advise
    try:
        runner = Runner(endless.config)
        runner.start_scenario(endless)
        time.sleep(0.5)  # warm up
        before, step0, start = dict(calls), runner.snapshot().step, time.perf_counter()
        time.sleep(seconds)
        step1, end = runner.snapshot().step, time.perf_counter()
        runner.close()
    finally:
        runner_module.judge, runner_module.advise = real_judge, real_advise
    return Observations(
        end - start,
        step1 - step0,
        calls["judge"] - before["judge"],
        calls["advise"] - before["advise"],
    )


# ------------------------------------------ 7. the depth view computing off the UI thread


@dataclass
class DepthTimes:
    handler: list[float]  # the key's work on the UI thread: set_source and its recompute
    stall: list[float]  # the longest event-loop stall while the profile computed
    compute: list[float]  # from the key to the new profile shown


async def depth_times(rounds: int) -> DepthTimes:
    """Alternate two CS231n 10 x 500 presets in the depth view, as keys 3 and 4 do."""
    app = LabApp(ExperimentConfig.from_dict(CONFIG))
    times = DepthTimes([], [], [])
    tick = 0.01
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        screen: Any = app.screen
        while screen.depth is None:
            await asyncio.sleep(tick)
        presets = list(PROFILES)[:2]
        for i in range(rounds):
            source = presets[i % len(presets)]
            start = time.perf_counter()
            screen.set_source(source)  # what the source key calls
            times.handler.append(time.perf_counter() - start)
            worst = 0.0
            while screen.depth is None or screen.depth.source != source:
                before = time.perf_counter()
                await asyncio.sleep(tick)
                worst = max(worst, time.perf_counter() - before - tick)
            times.compute.append(time.perf_counter() - start)
            times.stall.append(worst)
        app.runner.close()
    return times


# --------------------------------------------------------------------- report


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


def key_row(what: str, keys: Keys) -> Row:
    worst = p95(keys.tabs) * 1000
    space = "not seen" if keys.space is None else f"{keys.space * 1000:.0f} ms"
    return Row(
        what,
        f"p50 {statistics.median(keys.tabs) * 1000:.0f} ms, p95 {worst:.0f} ms "
        f"({len(keys.tabs)} presses); space to RUNNING {space}"
        if keys.tabs
        else "no frame seen",
        f"p95 <= {TARGETS['latency_ms']:.0f} ms",
        bool(keys.tabs) and worst <= TARGETS["latency_ms"],
    )


def default_rows(quick: bool, width: int, height: int) -> list[Row]:
    """(1)-(7), on the default lab run."""
    rows: list[Row] = []

    # 1. The lab's training speed against headless steps of the same config.
    rates = asyncio.run(training_rates(3 if quick else 6, 2.0))
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

    alone = runner_alone_ratio(3 if quick else 6, 2.0)
    rows.append(Row("    runner alone, no UI / headless", f"{alone:.2f}", "", None))

    # 2. Key press to screen in a real terminal.
    keys = key_latencies(15 if quick else 40, tab_titles(width, height))
    rows.append(key_row("(2) key to screen, training", keys))

    # 3. Redraw with a 1,000,000-step history (and a 1,000-step one: the cost must be flat).
    repeat = 5 if quick else 20
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
    starts = startup_times(3 if quick else 5)
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

    # 5. Stopping while training: the runner alone, and q in the real program.
    closes, step = close_times(3 if quick else 8)
    worst_close = max(closes) * 1000
    rows.append(
        Row(
            "(5) Runner.close(), training",
            f"median {statistics.median(closes) * 1000:.1f} ms, max {worst_close:.1f} ms "
            f"= {max(closes) / step:,.0f} steps ({len(closes)} runs)",
            f"max <= {TARGETS['close_ms']:.0f} ms",
            worst_close <= TARGETS["close_ms"],
        )
    )
    quits = quit_times(2 if quick else 4)
    rows.append(
        Row(
            "(5) q to exit, training",
            f"median {statistics.median(quits):.2f} s, max {max(quits):.2f} s ({len(quits)} runs)"
            if quits
            else "no exit seen",
            f"max <= {TARGETS['quit_s']} s",
            bool(quits) and max(quits) <= TARGETS["quit_s"],
        )
    )

    # 6. The judge and the advisor: at most every OBSERVE_INTERVAL, never once a step.
    seen = observations(2.0 if quick else 5.0)
    most = int(seen.seconds / OBSERVE_INTERVAL) + 1  # a call at each end of the window
    rows.append(
        Row(
            "(6) judge, advisor while a scenario trains",
            f"{seen.judge} and {seen.advise} calls in {seen.seconds:.1f} s, "
            f"{seen.steps_per_judge:,.0f} steps a judge call",
            f"<= {most} calls ({TARGETS['observe_hz']:.0f}/s)",
            max(seen.judge, seen.advise) <= most,
        )
    )

    # 7. The depth view: a 10 x 500 profile computes on a worker; the UI goes on.
    depth = asyncio.run(depth_times(2 if quick else 6))
    answer = (max(depth.handler) + max(depth.stall)) * 1000
    rows.append(
        Row(
            "(7) depth view, 10x500 profile",
            f"key {max(depth.handler) * 1000:.1f} ms + UI stall {max(depth.stall) * 1000:.1f} ms "
            f"(max); the profile {statistics.median(depth.compute) * 1000:.0f} ms",
            f"<= {TARGETS['stall_ms']:.0f} ms",
            answer <= TARGETS["stall_ms"],
        )
    )

    return rows


def big_net_rows(quick: bool, width: int, height: int) -> list[Row]:
    """(8): the steps/s with the app against headless, and the keys, on each big net."""
    rows: list[Row] = []
    for flags in BIG_NETS:
        config = lab_config(flags)
        name = " ".join(flags)
        rates = asyncio.run(training_rates(1 if quick else 3, 4.0, config))
        rows.append(
            Row(
                f"(8) {name}",
                f"headless {statistics.median(rates.headless):,.1f} steps/s, app "
                f"{statistics.median(rates.app):,.1f} steps/s ({rates.ratio:.2f}); the status "
                f"line said {statistics.median(rates.shown):,.1f}",
                "",
                None,
            )
        )
        presses = 10 if quick else 30
        keys = key_latencies(presses, tab_titles(width, height, config), flags, warm_up=5.0)
        rows.append(key_row("    key to screen, training", keys))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    parser.add_argument("--big-only", action="store_true", help="only (8), the big nets")
    args = parser.parse_args()

    print("\n".join(machine()))
    print(f"size     {SIZE[0]}x{SIZE[1]}, config: default lab run (spiral, 16-16 ReLU, Adam)")
    load_before = os.getloadavg()[0]
    width, height = asyncio.run(plot_size())
    rows = [] if args.big_only else default_rows(args.quick, width, height)
    rows += big_net_rows(args.quick, width, height)

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
