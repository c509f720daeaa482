"""`tui-nn`: the lab with no subcommand; `train` and `gradcheck` for headless work.

The experiment comes from the defaults, then a --config TOML file, then the options given."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from engine import ConfigError, Diverged, EvalRecord, ExperimentConfig, Trainer
from engine.configfile import load_config
from engine.runs import (
    RunError,
    create_run_dir,
    eval_dict,
    json_safe,
    prepare_run_dir,
    resume_trainer,
    save_run,
)
from engine.scenarios import SCENARIOS
from tui_nn import scenarios_cli


def widths(text: str) -> list[int]:
    """'64,64' -> [64, 64]; '' -> [] (no hidden layer)."""
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 64,64, got {text!r}"
        ) from None


# Command-line option -> (config field, parser). Every engine option is reachable.
OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--dataset": ("data.name", str),
    "--samples": ("data.n_samples", int),
    "--noise": ("data.noise", float),
    "--classes": ("data.n_classes", int),
    "--train-fraction": ("data.train_fraction", float),
    "--data": ("data.path", str),
    "--target": ("data.target", str),
    "--hidden": ("model.hidden", widths),
    "--activation": ("model.activation", str),
    "--leaky-slope": ("model.leaky_slope", float),
    "--elu-alpha": ("model.elu_alpha", float),
    "--maxout-k": ("model.maxout_k", int),
    "--init": ("model.init", str),
    "--init-scale": ("model.init_scale", float),
    "--bias-init": ("model.bias_init", str),
    "--bias-value": ("model.bias_value", float),
    "--loss": ("model.loss", str),
    "--optimizer": ("optimizer.name", str),
    "--lr": ("optimizer.lr", float),
    "--momentum": ("optimizer.momentum", float),
    "--beta1": ("optimizer.beta1", float),
    "--beta2": ("optimizer.beta2", float),
    "--rho": ("optimizer.rho", float),
    "--eps": ("optimizer.eps", float),
    "--weight-decay": ("optimizer.weight_decay", float),
    "--clip-norm": ("optimizer.clip_norm", float),
    "--schedule": ("optimizer.schedule", str),
    "--step-size": ("optimizer.step_size", int),
    "--gamma": ("optimizer.gamma", float),
    "--batch-size": ("training.batch_size", int),
    "--steps": ("training.steps", int),
    "--eval-every": ("training.eval_every", int),
    "--seed": ("training.seed", int),
    "--dtype": ("training.dtype", str),
    "--memory-budget-mb": ("training.memory_budget_mb", float),
}


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("experiment (a --config file, then these options)")
    # SUPPRESS: a subcommand's unset option must not erase one given before it.
    group.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="a TOML experiment file; the options below override it",
    )
    for flag, (field, kind) in OPTIONS.items():
        group.add_argument(
            flag,
            type=kind,
            default=argparse.SUPPRESS,
            metavar=field.split(".")[1].upper(),
            help=f"sets {field}",
        )


def given_options(args: argparse.Namespace) -> list[str]:
    """The experiment options on the command line (SUPPRESS leaves the others unset)."""
    flags = ["--config", *OPTIONS]
    return [flag for flag in flags if hasattr(args, flag[2:].replace("-", "_"))]


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Defaults, then the --config file, then the options given; raises ConfigError."""
    file = getattr(args, "config", None)
    raw: dict[str, dict[str, Any]] = load_config(file).to_dict() if file else {}
    for flag, (field, _) in OPTIONS.items():
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            section, key = field.split(".")
            raw.setdefault(section, {})[key] = value
    data_path = raw.get("data", {}).get("path")
    if data_path:
        # Absolute, so a run's config.toml finds the data from any working directory.
        raw["data"]["path"] = os.path.abspath(data_path)
    return ExperimentConfig.from_dict(raw)


def count(text: str) -> int:
    """A whole number >= 0, for options that are not config fields."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-nn", description="A neural-network lab for the terminal."
    )
    parser.add_argument("--fps", type=float, default=5.0, help="screen refreshes a second")
    parser.add_argument("--no-mouse", action="store_true", help="keyboard only")
    lab = parser.add_argument_group("the lab (no subcommand)")
    lab.add_argument(
        "--scenario",
        metavar="NAME",
        help="open the lab on a lecture scenario and start it; names: " + ", ".join(SCENARIOS),
    )
    lab.add_argument(
        "--open",
        metavar="RUN_DIR",
        help="open the lab on a saved run directory, paused where it stopped",
    )
    add_config_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train headless, print progress and save a run directory",
        description="Train headless. Writes config.toml, weights.npz (at checkpoints and "
        "at the end), metrics.csv, evals.csv, metrics.jsonl and summary.json into a run "
        "directory. Ctrl-C or SIGTERM stops after the current step and saves; "
        "--resume continues exactly where the run stopped.",
    )
    train.add_argument(
        "--report-every",
        type=count,
        default=0,
        help="steps between plain progress lines (default: eval_every)",
    )
    train.add_argument("--json", action="store_true", help="one JSON object a report line")
    train.add_argument("--quiet", action="store_true", help="print only the summary")
    runs = train.add_argument_group("run directory")
    runs.add_argument(
        "--out", metavar="DIR", help="the run directory (default: RUNS/<time>-<name>)"
    )
    runs.add_argument("--runs", metavar="RUNS", default="runs", help="where new runs go (runs)")
    runs.add_argument(
        "--checkpoint-every",
        type=count,
        default=1000,
        metavar="N",
        help="save weights.npz every N steps (0: only at the end; default 1000)",
    )
    runs.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the run in DIR with its config; only --steps may change (raise it)",
    )
    runs.add_argument("--no-save", action="store_true", help="write no run directory")
    add_config_options(train)
    train.set_defaults(run=run_train)

    check = commands.add_parser("gradcheck", help="check backprop against numeric gradients")
    check.add_argument(
        "--samples-checked", type=int, default=16, help="training samples in the checked batch"
    )
    add_config_options(check)
    check.set_defaults(run=run_gradcheck)

    scenarios_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "resume", None):
            return run_resume(args)
        config = config_from_args(args)
        if args.command:
            return int(args.run(args, config))
        return run_lab(args, config)
    except (ConfigError, RunError) as error:
        parser.exit(2, f"tui-nn: error: {error}\n")
    except OSError as error:  # e.g. a run directory that cannot be written
        parser.exit(1, f"tui-nn: error: {error}\n")
    except KeyboardInterrupt:
        return 130


def run_lab(args: argparse.Namespace, config: ExperimentConfig) -> int:
    from tui_nn.experiments import file_sets_steps, open_run, with_lab_budget

    if args.fps <= 0 or args.fps > 60:
        raise ConfigError("--fps", f"must be a number above 0 and at most 60, got {args.fps}")
    given = given_options(args)
    extra: dict[str, Any] = {}  # only what was asked for: LabApp(config, fps=...) otherwise
    if args.scenario is not None and args.open is not None:
        raise ConfigError("--scenario", "cannot go with --open RUN_DIR: choose one")
    if args.scenario is not None:
        if args.scenario not in SCENARIOS:
            raise ConfigError(
                "--scenario", f"unknown scenario {args.scenario!r}; valid: {', '.join(SCENARIOS)}"
            )
        if given:
            raise ConfigError(
                "--scenario", f"the scenario sets its own config; drop {', '.join(given)}"
            )
        extra["scenario"] = SCENARIOS[args.scenario]
        config = extra["scenario"].config
    elif args.open is not None:
        if given:
            raise ConfigError(
                "--open", f"the run's own config.toml is used; drop {', '.join(given)}"
            )
        extra["run"] = open_run(args.open)  # RunError or ConfigError: exit 2 with its text
        config = extra["run"].config
    else:
        steps_given = hasattr(args, "steps") or (
            hasattr(args, "config") and file_sets_steps(args.config)
        )
        config = with_lab_budget(config, steps_given)
    from tui_nn.app import LabApp

    LabApp(config, fps=args.fps, **extra).run(mouse=not args.no_mouse)
    return 0


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


def run_gradcheck(args: argparse.Namespace, config: ExperimentConfig) -> int:
    from engine.gradcheck import gradcheck

    trainer = Trainer(config)
    n = max(1, min(args.samples_checked, len(trainer.X_train)))
    rows = gradcheck(
        trainer.network, trainer.X_train[:n], trainer.y_train[:n], trainer.loss, max_per_param=200
    )
    print(f"{'parameter':<14} {'shape':<14} {'checked':>7} {'max rel err':>12}  verdict")
    for row in rows:
        shape = "x".join(map(str, row.shape))
        print(f"{row.name:<14} {shape:<14} {row.checked:>7} {row.max_error:>12.2e}  {row.verdict}")
    return 1 if any(row.verdict in ("wrong", "suspect") for row in rows) else 0
