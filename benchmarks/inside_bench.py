"""The inside screens' cost, in one run on this machine.

    python benchmarks/inside_bench.py            # ~1 minute
    python benchmarks/inside_bench.py --quick

1. Redraw of the tile grid of an 8 x 6 net (6 hidden layers of 8 units, the inputs and
   the output: 64 tiles) at the size the inside screen gives it at 120x40: every tile
   drawn and the lines composed, what a new reading costs; against the plain decision
   boundary's redraw (`boundary.compose`) at the same size, timed in the same run.
   Target: <= 30 ms. Also the reading itself (the unit maps, the marks' forward of the
   training set and the similarities), which runs on a worker thread.
2. Training steps/s with the lab's app running the inside screen (headless Textual,
   120x40, polled at the lab's rate) over headless `Trainer.step()` steps/s of the same
   config, back-to-back pairs. Target: >= 0.85. With the UI thread's CPU time a second,
   which a loaded machine skews less than the ratio, and three peers in the same run:
   the inside screen with the lab's widgets not fed under it (its own cost), the matrix
   form open (another lecture view), the lab alone.

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rich.style import Style
from textual.screen import Screen

import tui_nn
from engine import ExperimentConfig, Trainer
from tui_nn.app import LabApp
from tui_nn.core.runner import Runner
from tui_nn.screens.inside import InsideScreen, compute, copy_run
from tui_nn.screens.matrix import MatrixScreen
from tui_nn.screens.view import View
from tui_nn.widgets.boundary import TRUE_COLOR, compose
from tui_nn.widgets.tiles import Selection, draw_tiles, layout, tile_lines

SIZE = (120, 40)
TILES = (80, 37)  # the tile grid's share of the inside screen at 120x40
BG = (30, 30, 30)
NET = [8] * 6


def config() -> ExperimentConfig:
    return ExperimentConfig().with_changes(model={"hidden": NET}, training={"steps": 10**9})


def best_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, best) milliseconds of fn over `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), min(times)


def redraws(repeat: int) -> None:
    runner = Runner(config())
    runner.step(200)
    snap = runner.snapshot()
    assert snap.boundary is not None
    boundary = snap.boundary
    copied = runner.read(copy_run)
    runner.close()
    inside = compute(copied, boundary.xs, boundary.ys)
    maps = inside.maps
    width, height = TILES
    base = Style()

    def tiles() -> None:
        shape = layout(maps, width, height, mono=False)
        drawn = draw_tiles(maps, shape, TRUE_COLOR, BG, base)
        tile_lines(maps, shape, drawn, Selection(1, 0), width, height, False, base)

    def plain() -> None:
        compose(boundary, width, height, TRUE_COLOR, False, base, BG)

    def reading() -> None:
        compute(copied, boundary.xs, boundary.ys)

    tiles()
    plain()
    t_med, t_best = best_ms(tiles, repeat)
    b_med, _ = best_ms(plain, repeat)
    r_med, _ = best_ms(reading, max(3, repeat // 4))
    shape = layout(maps, width, height, mono=False)
    net = f"{NET[0]} units x {len(NET)} hidden layers"
    print(f"1. tile grid of {net} at {width}x{height} ({shape.rows}-row tiles): ", end="")
    print(f"{t_med:.1f} ms median, {t_best:.1f} best (target <= 30 ms)")
    print(f"   plain boundary at the same size: {b_med:.1f} ms median; tiles / boundary ", end="")
    print(f"= {t_med / b_med:.2f}")
    print(f"   a reading (maps, marks, similarities; worker thread): {r_med:.1f} ms median")


class TopOnly(LabApp):
    """The lab, whose polls can feed only the view on top while one is open: what the
    inside screen costs by itself, without the lab's widgets redrawing under it (they
    stay in Textual's background screens and re-render the view: REQUESTS.md)."""

    CSS_PATH = str(Path(tui_nn.__file__).parent / "lab.tcss")
    top_only = False

    def poll(self) -> None:
        if not (self.top_only and isinstance(self.screen, View)):
            super().poll()
            return
        snap = self.runner.snapshot()
        if snap.version != self._shown_version:
            self._shown_version = snap.version
            self.screen.refresh_from(snap)


def steps_per_second(trainer: Trainer, seconds: float) -> float:
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
    return steps / (time.perf_counter() - start)


async def training(rounds: int, seconds: float) -> None:
    """Each round, back to back: the lab with the inside screen open, with the matrix form
    open (a lecture view that reads the run too: the peer), and alone, each followed by
    headless steps of the same config (the lab paused), so the machine's drift stays out
    of each ratio."""
    cfg = config()
    trainer = Trainer(cfg)
    steps_per_second(trainer, 0.5)  # warm up
    app = TopOnly(cfg)
    modes: dict[str, Callable[[], Screen[None] | None]] = {
        "inside": lambda: InsideScreen(app.runner),
        "alone": lambda: InsideScreen(app.runner),  # the lab's widgets not fed meanwhile
        "matrix": lambda: MatrixScreen(app.runner),
        "lab": lambda: None,
    }
    ratios: dict[str, list[float]] = {mode: [] for mode in modes}
    rates: dict[str, list[float]] = {mode: [] for mode in [*modes, "headless"]}
    busy: dict[str, list[float]] = {mode: [] for mode in modes}  # UI thread CPU s per s
    reads = 0
    async with app.run_test(size=SIZE) as pilot:
        app.runner.start()
        await pilot.pause(1.0)
        for _ in range(rounds):
            for mode, make in modes.items():
                screen = make()
                app.top_only = mode == "alone"
                if screen is not None:
                    await app.push_screen(screen)  # mounted before the next poll
                await pilot.pause(0.5)
                step0, start = app.runner.snapshot().step, time.perf_counter()
                cpu = time.thread_time()  # the app runs on this thread
                await pilot.pause(seconds)
                busy[mode].append((time.thread_time() - cpu) / (time.perf_counter() - start))
                rate = (app.runner.snapshot().step - step0) / (time.perf_counter() - start)
                if mode == "inside" and isinstance(screen, InsideScreen):
                    reads += screen.reads
                if screen is not None:
                    await app.pop_screen()
                app.runner.pause()
                await pilot.pause(0.3)
                alone = steps_per_second(trainer, seconds / 2)
                app.runner.start()
                rates[mode].append(rate)
                rates["headless"].append(alone)
                ratios[mode].append(rate / alone)
        app.runner.close()
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = {k: statistics.median(v) for k, v in ratios.items()}
    ui = {k: 1000 * statistics.median(v) for k, v in busy.items()}
    print(f"2. steps/s headless {med['headless']:.0f}; the lab with the inside screen open")
    print(
        f"   {med['inside']:.0f}: ratio {ratio['inside']:.2f} (target >= 0.85), UI thread "
        f"{ui['inside']:.0f} ms CPU a second, {reads} readings in {rounds * seconds:.0f} s"
    )
    for mode, name in (
        ("alone", "the inside screen open, the lab under it not fed"),
        ("matrix", "the matrix form open"),
        ("lab", "the lab alone"),
    ):
        print(
            f"   peer, {name}: {med[mode]:.0f}: ratio {ratio[mode]:.2f}, UI thread "
            f"{ui[mode]:.0f} ms CPU a second"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    redraws(repeat=20 if args.quick else 60)
    asyncio.run(training(rounds=2 if args.quick else 4, seconds=3.0 if args.quick else 5.0))


if __name__ == "__main__":
    main()
