"""`tui-nn` with no subcommand: the lab, on a config, a scenario or a saved run."""

from __future__ import annotations

import argparse
from typing import Any

from engine import ConfigError, ExperimentConfig
from engine.lecture.scenarios import SCENARIOS
from tui_nn.cli.options import given_options


def run_lab(args: argparse.Namespace, config: ExperimentConfig) -> int:
    from tui_nn.core.files import file_sets_steps, open_run, with_lab_budget

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
