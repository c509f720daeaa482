"""`tui-nn train`: headless training with progress lines, checkpoints and a summary.

On a terminal, progress is one live line (rich's live display) that fits the terminal's
width: the numbers that do not fit are left out, never wrapped, so the scrollback stays
clean. In a log (not a terminal) it is a plain line every --report-every steps, or a
JSON object with --json. The run's events (engine.train.events: a layer going dead, the
loss spiking, ...) are printed as they happen: above the live line, as "event: ..." lines
in a log, or as {"event": {...}} objects with --json.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from engine import ConfigError, Diverged, EvalRecord, ExperimentConfig, Trainer
from engine.store.runs import (
    create_run_dir,
    eval_dict,
    json_safe,
    prepare_run_dir,
    resume_trainer,
    save_run,
)
from engine.train.events import Event
from tui_nn.cli.options import given_options

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# What the live line keeps first when the terminal is narrow (after the step count);
# the rest, in this order, while they fit.
LIVE_PRIORITY = ("loss", "val_acc", "val_loss", "steps_per_s", "train_acc", "train_loss", "epoch")
BAR_MIN, BAR_MAX = 10, 30  # the live line's bar: drawn only with this much room, at most this
NOMINAL = 6  # cells a number is given when choosing what fits: 0.1234, 800.00, 12345
GAP = "  "


def _report(trainer: Trainer, rate: float, last: EvalRecord | None) -> dict[str, Any]:
    latest = trainer.history.last() or {}
    report: dict[str, Any] = {
        "step": trainer.steps_done,
        "epoch": round(trainer.epoch, 3),
        "loss": latest.get("loss"),
        "steps_per_s": round(rate, 1),
    }
    if last:
        report |= {
            "train_loss": last.train_loss,
            "train_acc": last.train_accuracy,
            "val_loss": last.val_loss,
            "val_acc": last.val_accuracy,
        }
    return report


def _parts(report: dict[str, Any]) -> dict[str, str]:
    """A report's numbers as labelled text, in the order a line shows them."""
    parts = {"step": f"step {report['step']}", "epoch": f"epoch {report['epoch']:.2f}"}
    for key in ("loss", "train_loss", "val_loss", "train_acc", "val_acc"):
        value = report.get(key)
        if value is not None and value == value:  # NaN accuracy for regression is left out
            parts[key] = f"{key} {value:.4f}"
    parts["steps_per_s"] = f"{report['steps_per_s']:.0f} steps/s"
    return parts


def _line(report: dict[str, Any]) -> str:
    return GAP.join(_parts(report).values())


def _wrapped(report: dict[str, Any], width: int) -> str:
    """The plain line, broken between numbers so that no line passes `width`."""
    lines: list[str] = []
    for part in _parts(report).values():
        if lines and len(lines[-1]) + len(GAP) + len(part) <= width:
            lines[-1] += GAP + part
        else:
            lines.append(part)
    return "\n".join(lines)


def live_line(report: dict[str, Any], total: int, width: int) -> Text:
    """The live progress line in at most `width` cells: the step count, a bar, then the
    numbers of LIVE_PRIORITY while they fit (shown in the plain line's order). What fits
    is decided on nominal widths, the same at every step, so the line does not jump."""
    from rich.text import Text

    parts = _parts(report)
    room = width - len(f"step {total}/{total}")
    bar = BAR_MIN if room > BAR_MIN else 0
    room -= bar + 1 if bar else 0
    kept: set[str] = set()
    for key in LIVE_PRIORITY:
        label = "steps/s" if key == "steps_per_s" else key
        nominal = len(GAP) + len(label) + 1 + NOMINAL
        if key in parts and nominal <= room:
            kept.add(key)
            room -= nominal
    if bar:
        bar = min(BAR_MAX, bar + room)
    line = Text(f"step {report['step']}/{total}")
    if bar:
        done = round(bar * min(report["step"] / max(total, 1), 1.0))
        line.append(" ")
        line.append("━" * done, style="bar.complete")
        line.append("━" * (bar - done), style="bar.back")
    for key, text in parts.items():
        if key in kept:
            line.append(GAP + text)
    line.truncate(width)  # a number longer than its nominal width (a loss of 1234.5)
    return line


def _json(value: dict[str, Any]) -> str:
    """Strict JSON: NaN (a regression's accuracy) becomes null."""
    return json.dumps(json_safe(value))


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C or SIGTERM (kill, a closing tmux) asks the loop to stop after the
    current step, so the state saved is whole; a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_resume(args: argparse.Namespace) -> int:
    others = [flag for flag in given_options(args) if flag != "--steps"]
    if others or args.out:
        extra = ", ".join(others + (["--out"] if args.out else []))
        raise ConfigError(
            "--resume", f"the run's own config.toml is used; only --steps may be given, not {extra}"
        )
    run_dir = Path(args.resume)
    trainer = resume_trainer(run_dir, getattr(args, "steps", None))
    return train_loop(args, trainer, run_dir)


def run_train(
    args: argparse.Namespace,
    config: ExperimentConfig,
    out: TextIO | None = None,
    console: Console | None = None,
) -> int:
    if args.no_save and args.out:
        raise ConfigError("--no-save", "cannot go with --out DIR: choose one")
    trainer = Trainer(config)  # data errors surface before a directory is made
    run_dir = None
    if not args.no_save:
        run_dir = (
            prepare_run_dir(args.out, config) if args.out else create_run_dir(args.runs, config)
        )
    return train_loop(args, trainer, run_dir, out, console)


def train_loop(
    args: argparse.Namespace,
    trainer: Trainer,
    run_dir: Path | None,
    out: TextIO | None = None,
    console: Console | None = None,
) -> int:
    """Step to training.steps with progress lines, checkpoints and a summary.

    `console`: the terminal the live line goes to (default: one on `out` when it is a
    terminal). Exit codes: 0 done, 1 diverged, 130 stopped by a signal (saved, resumable)."""
    stream: IO[str] = out or (console.file if console is not None else sys.stdout)
    config = trainer.config
    total = config.training.steps
    first = trainer.steps_done
    every = args.report_every or config.training.eval_every or max(total // 20, 1)
    save_every = args.checkpoint_every
    terminal = console.is_terminal if console is not None else stream.isatty()
    live = terminal and not args.json and not args.quiet
    if trainer.diverged or first >= total:
        why = str(trainer.diverged) if trainer.diverged else f"{first} of {total} steps done"
        stream.write(f"nothing to train: {why}; raise --steps to train on\n")
        return 1 if trainer.diverged else 0
    if run_dir is not None and not args.quiet and not args.json:
        verb = "resuming" if first else "run"
        stream.write(f"{verb} {run_dir}: steps {first + 1} to {total}\n")
    stop = threading.Event()
    diverged: Diverged | None = None
    start = time.perf_counter()
    last_draw = 0.0
    seen = _noted(trainer)  # a resumed run's earlier events were printed then
    with _stop_on_signals(stop), _live(console or stream, live) as (show, say):
        tell = _teller(args, stream, say)
        while trainer.steps_done < total and not stop.is_set():
            try:
                trainer.step()
            except Diverged as error:
                diverged = error
                break
            if _noted(trainer) > seen:
                seen = _tell_new(trainer, seen, tell)
            done = trainer.steps_done
            now = time.perf_counter()
            rate = (done - first) / max(now - start, 1e-9)
            if show is not None and now - last_draw > 0.1:
                last_draw = now
                show(_report(trainer, rate, _last_eval(trainer)), total)
            elif not live and not args.quiet and done % every == 0:
                report = _report(trainer, rate, _last_eval(trainer))
                stream.write((_json(report) if args.json else _line(report)) + "\n")
                stream.flush()  # a log file under nohup shows progress as it happens
            if run_dir is not None and save_every and done % save_every == 0 and done < total:
                save_run(trainer, run_dir, final=False)
        elapsed = time.perf_counter() - start
        trainer.catch_up()
        _tell_new(trainer, seen, tell)  # the last steps' events, a divergence
        # The last evaluation for the summary stays out of trainer.evals: a resumed run must
        # hold exactly the evaluations of an uninterrupted one.
        last = _last_eval(trainer)
        if diverged is None and (last is None or last.step != trainer.steps_done):
            last = trainer.evaluate()
        ran = trainer.steps_done - first
        summary = _report(trainer, ran / max(elapsed, 1e-9), last)
        summary |= {"done": trainer.steps_done >= total, "seconds": round(elapsed, 3)}
        if diverged is not None:
            summary["diverged"] = str(diverged)
        if run_dir is not None:
            summary["run_dir"] = str(run_dir)
            extra = {"seconds": elapsed, "steps_per_s": summary["steps_per_s"]}
            if last is not None:
                extra["eval"] = eval_dict(last)
            save_run(trainer, run_dir, final=True, extra=extra)
    if args.json:
        stream.write(_json({"summary": summary}) + "\n")
    else:
        if diverged is not None:
            head = f"diverged at step {diverged.step}: {diverged.what}"
        elif stop.is_set():
            head = f"stopped at step {trainer.steps_done} of {total}"
        else:
            head = f"done: {ran} steps in {elapsed:.2f} s"
        width = (console or _console(stream)).width if live else 0
        stream.write(f"{head}\n{_wrapped(summary, width) if live else _line(summary)}\n")
        if run_dir is not None:
            resume = f"; resume: tui-nn train --resume {run_dir}" if stop.is_set() else ""
            stream.write(f"saved to {run_dir}{resume}\n")
    if diverged is not None:
        return 1
    return 130 if stop.is_set() else 0


Show = Callable[[dict[str, Any], int], None]
Say = Callable[[str], None]


def _noted(trainer: Trainer) -> int:
    """Events noted so far, those the timeline left out to stay bounded included."""
    return trainer.timeline.dropped + len(trainer.events)


def _tell_new(trainer: Trainer, seen: int, tell: Callable[[Event], None]) -> int:
    """Tell the events noted after the first `seen` (the newest of the list); the count."""
    noted = _noted(trainer)
    for event in trainer.events[max(len(trainer.events) - (noted - seen), 0) :]:
        tell(event)
    return noted


def _teller(args: argparse.Namespace, stream: IO[str], say: Say | None) -> Callable[[Event], None]:
    """How an event is printed: above the live line, as a plain line, as JSON, or not
    at all with --quiet."""

    def tell(event: Event) -> None:
        if args.quiet:
            return
        if args.json:
            stream.write(_json({"event": event.to_dict()}) + "\n")
        elif say is not None:
            say(f"event: {event.message}")
            return
        else:
            stream.write(f"event: {event.message}\n")
        stream.flush()

    return tell


def _console(out: IO[str]) -> Console:
    from rich.console import Console

    return Console(file=out)


@contextmanager
def _live(target: Console | IO[str], live: bool) -> Iterator[tuple[Show | None, Say | None]]:
    """On a terminal, one transient live line (rich's live display, redrawn in place and
    cleared at the end: the summary follows) and a way to print a line above it; None
    and None elsewhere."""
    if not live:
        yield None, None
        return
    from rich.console import Console
    from rich.live import Live

    console = target if isinstance(target, Console) else _console(target)
    with Live(console=console, auto_refresh=False, transient=True) as display:

        def show(report: dict[str, Any], total: int) -> None:
            display.update(live_line(report, total, console.width), refresh=True)

        def say(text: str) -> None:
            # Printed above the live line, which rich redraws below it; no markup.
            display.console.print(text, markup=False, highlight=False, soft_wrap=False)

        yield show, say


def _last_eval(trainer: Trainer) -> EvalRecord | None:
    return trainer.evals[-1] if trainer.evals else None
