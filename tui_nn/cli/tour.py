"""`tui-nn tour`: the lab on the guided tour, the lecture in its order, each stop a
comparison of runs side by side with their verdicts (engine.lecture.tour).

    from tui_nn.cli.tour import add_parser
    add_parser(commands)   # commands = parser.add_subparsers(...)
"""

from __future__ import annotations

import argparse
from typing import Any

from engine import ConfigError, ExperimentConfig
from engine.lecture.tour import TOUR


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `tour` on an argparse subparsers object."""
    stops = "; ".join(f"{i}: {stop.title}" for i, stop in enumerate(TOUR, 1))
    parser = commands.add_parser(
        "tour",
        help="the guided tour of the lecture: each stop a comparison with its verdicts",
        description="Open the lab on the guided tour: one neuron, many neurons, the "
        "activation functions, the rule of thumb, random initialization. Each stop runs "
        "its comparison side by side; right and left go to the next and the last stop, "
        f"esc leaves for the lab. Stops: {stops}.",
    )
    parser.add_argument(
        "--stop", type=int, default=1, metavar="N", help=f"start at stop N (1-{len(TOUR)})"
    )
    parser.set_defaults(run=run_tour)
    return parser


def run_tour(args: argparse.Namespace, config: ExperimentConfig) -> int:
    if not 1 <= args.stop <= len(TOUR):
        raise ConfigError("--stop", f"must be 1 to {len(TOUR)}, got {args.stop}")
    if args.fps <= 0 or args.fps > 60:
        raise ConfigError("--fps", f"must be a number above 0 and at most 60, got {args.fps}")
    from tui_nn.app import LabApp

    LabApp(config, fps=args.fps, tour=args.stop - 1).run(mouse=not args.no_mouse)
    return 0
