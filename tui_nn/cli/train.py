"""`tui-nn train`: headless training with progress lines, checkpoints and a summary."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from engine import ConfigError, Diverged, EvalRecord, ExperimentConfig, Trainer
from engine.store.runs import (
    create_run_dir,
    eval_dict,
    json_safe,
    prepare_run_dir,
    resume_trainer,
    save_run,
)
from tui_nn.cli.options import given_options


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


def _line(report: dict[str, Any]) -> str:
    parts = [f"step {report['step']}", f"epoch {report['epoch']:.2f}"]
    for key in ("loss", "train_loss", "val_loss", "train_acc", "val_acc"):
        value = report.get(key)
        if value is not None and value == value:  # NaN accuracy for regression is left out
            parts.append(f"{key} {value:.4f}")
    parts.append(f"{report['steps_per_s']:.0f} steps/s")
    return "  ".join(parts)


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


def run_train(args: argparse.Namespace, config: ExperimentConfig, out: TextIO | None = None) -> int:
    if args.no_save and args.out:
        raise ConfigError("--no-save", "cannot go with --out DIR: choose one")
    trainer = Trainer(config)  # data errors surface before a directory is made
    run_dir = None
    if not args.no_save:
        run_dir = (
            prepare_run_dir(args.out, config) if args.out else create_run_dir(args.runs, config)
        )
    return train_loop(args, trainer, run_dir, out)


def train_loop(
    args: argparse.Namespace, trainer: Trainer, run_dir: Path | None, out: TextIO | None = None
) -> int:
    """Step to training.steps with progress lines, checkpoints and a summary.

    Exit codes: 0 done, 1 diverged, 130 stopped by a signal (saved, resumable)."""
    out = out or sys.stdout
    config = trainer.config
    total = config.training.steps
    first = trainer.steps_done
    every = args.report_every or config.training.eval_every or max(total // 20, 1)
    save_every = args.checkpoint_every
    live = out.isatty() and not args.json and not args.quiet
    if trainer.diverged or first >= total:
        why = str(trainer.diverged) if trainer.diverged else f"{first} of {total} steps done"
        out.write(f"nothing to train: {why}; raise --steps to train on\n")
        return 1 if trainer.diverged else 0
    if run_dir is not None and not args.quiet and not args.json:
        verb = "resuming" if first else "run"
        out.write(f"{verb} {run_dir}: steps {first + 1} to {total}\n")
    stop = threading.Event()
    diverged: Diverged | None = None
    start = time.perf_counter()
    last_draw = 0.0
    with _stop_on_signals(stop):
        while trainer.steps_done < total and not stop.is_set():
            try:
                trainer.step()
            except Diverged as error:
                diverged = error
                break
            done = trainer.steps_done
            now = time.perf_counter()
            rate = (done - first) / max(now - start, 1e-9)
            if live and now - last_draw > 0.1:
                last_draw = now
                line = _line(_report(trainer, rate, _last_eval(trainer)))
                out.write(f"\r{line}  [{done}/{total}]\x1b[K")
                out.flush()
            elif not live and not args.quiet and done % every == 0:
                report = _report(trainer, rate, _last_eval(trainer))
                out.write((_json(report) if args.json else _line(report)) + "\n")
                out.flush()  # a log file under nohup shows progress as it happens
            if run_dir is not None and save_every and done % save_every == 0 and done < total:
                save_run(trainer, run_dir, final=False)
        elapsed = time.perf_counter() - start
        if live:
            out.write("\n")
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
        out.write(_json({"summary": summary}) + "\n")
    else:
        if diverged is not None:
            head = f"diverged at step {diverged.step}: {diverged.what}"
        elif stop.is_set():
            head = f"stopped at step {trainer.steps_done} of {total}"
        else:
            head = f"done: {ran} steps in {elapsed:.2f} s"
        out.write(f"{head}\n{_line(summary)}\n")
        if run_dir is not None:
            resume = f"; resume: tui-nn train --resume {run_dir}" if stop.is_set() else ""
            out.write(f"saved to {run_dir}{resume}\n")
    if diverged is not None:
        return 1
    return 130 if stop.is_set() else 0


def _last_eval(trainer: Trainer) -> EvalRecord | None:
    return trainer.evals[-1] if trainer.evals else None
