"""`tui-nn`: the lab with no subcommand; `train`, `gradcheck` and `scenarios` run headless.

The experiment comes from the defaults, then a --config TOML file, then the options given."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from engine import ConfigError
from engine.lecture.scenarios import SCENARIOS
from engine.store.runs import RunError
from tui_nn.cli import scenarios as scenarios_cli
from tui_nn.cli import serve as serve_cli
from tui_nn.cli import sweep as sweep_cli
from tui_nn.cli import tour as tour_cli
from tui_nn.cli import verify as verify_cli
from tui_nn.cli.gradcheck import run_gradcheck
from tui_nn.cli.lab import run_lab
from tui_nn.cli.options import add_config_options, config_from_args, count, given_options
from tui_nn.cli.train import run_resume, run_train


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
        help="open the lab on a lecture scenario and start it; the experiment options "
        "given change its preset (--lr 0.1); names: " + ", ".join(SCENARIOS),
    )
    lab.add_argument(
        "--open",
        metavar="DIR",
        help="open the lab on a saved run directory, paused where it stopped, or on a "
        "sweep directory: its members side by side in the compare view",
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
    tour_cli.add_parser(commands)
    serve_cli.add_parser(commands)
    sweep_cli.add_parser(commands)
    verify_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "resume", None):
            return run_resume(args)
        if args.command:
            return int(args.run(args, config_from_args(args)))
        return run_lab(args)
    except (ConfigError, RunError) as error:
        parser.exit(2, f"tui-nn: error: {error}\n")
    except OSError as error:  # e.g. a run directory that cannot be written
        parser.exit(1, f"tui-nn: error: {error}\n")
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "config_from_args", "given_options", "main"]
