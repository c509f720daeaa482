"""`tui-nn`: the lab with no subcommand; `train` and `gradcheck` for headless work."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from engine import ConfigError, Diverged, ExperimentConfig, Trainer


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
    group = parser.add_argument_group("experiment (overrides the defaults)")
    for flag, (field, kind) in OPTIONS.items():
        # SUPPRESS: a subcommand's unset option must not erase one given before it.
        group.add_argument(
            flag,
            type=kind,
            default=argparse.SUPPRESS,
            metavar=field.split(".")[1].upper(),
            help=f"sets {field}",
        )


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Defaults, then the options given; raises ConfigError naming the field."""
    raw: dict[str, dict[str, Any]] = {}
    for flag, (field, _) in OPTIONS.items():
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            section, key = field.split(".")
            raw.setdefault(section, {})[key] = value
    return ExperimentConfig.from_dict(raw)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-nn", description="A neural-network lab for the terminal."
    )
    parser.add_argument("--fps", type=float, default=5.0, help="screen refreshes a second")
    parser.add_argument("--no-mouse", action="store_true", help="keyboard only")
    add_config_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train headless and print progress")
    train.add_argument(
        "--report-every",
        type=int,
        default=0,
        help="steps between plain progress lines (default: eval_every)",
    )
    train.add_argument("--json", action="store_true", help="one JSON object a report line")
    train.add_argument("--quiet", action="store_true", help="print only the summary")
    add_config_options(train)
    train.set_defaults(run=run_train)

    check = commands.add_parser("gradcheck", help="check backprop against numeric gradients")
    check.add_argument(
        "--samples-checked", type=int, default=16, help="training samples in the checked batch"
    )
    add_config_options(check)
    check.set_defaults(run=run_gradcheck)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        if args.command:
            return int(args.run(args, config))
        return run_lab(args, config)
    except ConfigError as error:
        parser.exit(2, f"tui-nn: error: {error}\n")
    except KeyboardInterrupt:
        return 130


def run_lab(args: argparse.Namespace, config: ExperimentConfig) -> int:
    if args.fps <= 0 or args.fps > 60:
        raise ConfigError("--fps", f"must be a number above 0 and at most 60, got {args.fps}")
    from tui_nn.app import LabApp

    LabApp(config, fps=args.fps).run(mouse=not args.no_mouse)
    return 0


def _report(trainer: Trainer, rate: float) -> dict[str, Any]:
    last = trainer.evals[-1] if trainer.evals else None
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


def run_train(args: argparse.Namespace, config: ExperimentConfig, out: TextIO = sys.stdout) -> int:
    trainer = Trainer(config)
    total = config.training.steps
    every = args.report_every or config.training.eval_every or max(total // 20, 1)
    live = out.isatty() and not args.json and not args.quiet
    start = time.perf_counter()
    last_draw = 0.0
    result_diverged = None
    for _ in range(total):
        try:
            trainer.step()
        except Diverged as error:
            result_diverged = error
            break
        now = time.perf_counter()
        rate = trainer.steps_done / max(now - start, 1e-9)
        if live and now - last_draw > 0.1:
            last_draw = now
            out.write(f"\r{_line(_report(trainer, rate))}  [{trainer.steps_done}/{total}]\x1b[K")
            out.flush()
        elif not live and not args.quiet and trainer.steps_done % every == 0:
            report = _report(trainer, rate)
            out.write((json.dumps(report) if args.json else _line(report)) + "\n")
    elapsed = time.perf_counter() - start
    if live:
        out.write("\n")
    evaluated = trainer.evals and trainer.evals[-1].step == trainer.steps_done
    if not evaluated and result_diverged is None:
        trainer.evals.append(trainer.evaluate())
    summary = _report(trainer, trainer.steps_done / max(elapsed, 1e-9))
    summary |= {"done": result_diverged is None, "seconds": round(elapsed, 3)}
    if result_diverged is not None:
        summary["diverged"] = str(result_diverged)
    if args.json:
        out.write(json.dumps({"summary": summary}) + "\n")
    else:
        head = (
            f"diverged at step {result_diverged.step}: {result_diverged.what}"
            if (result_diverged)
            else f"done: {trainer.steps_done} steps in {elapsed:.2f} s"
        )
        out.write(f"{head}\n{_line(summary)}\n")
    return 1 if result_diverged else 0


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
