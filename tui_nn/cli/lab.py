"""`tui-nn` with no subcommand: the lab, on a config, a scenario, a saved run or a sweep
directory (its members side by side in the compare view).

A scenario's preset takes the experiment options given over it (`--scenario dead_relu
--lr 0.1`), as a --config file does."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from engine import ConfigError, ExperimentConfig
from engine.lecture.scenarios import SCENARIOS
from tui_nn.cli.options import changes_from_args, config_from_args, given_options


def is_sweep(path: str) -> bool:
    """A sweep directory (tui-nn sweep --out wrote it) rather than a run directory."""
    from engine.sweep.files import SWEEP_TOML

    return (Path(path) / SWEEP_TOML).is_file()


def leave_a_core_for_the_ui() -> int:
    """Cap the BLAS threads at one fewer than the cores, and return the cap. A big net's
    matmuls otherwise take every core and each key waits for one (p95 over 100 ms at
    1024x3 on 2 cores, against about 80 ms capped); small nets use one BLAS thread anyway."""
    from threadpoolctl import threadpool_limits

    cap = max(1, (os.cpu_count() or 1) - 1)
    threadpool_limits(limits=cap, user_api="blas")
    return cap


def lab_setup(args: argparse.Namespace) -> tuple[ExperimentConfig, dict[str, Any]]:
    """The lab's config and what else it opens on (a scenario, a run, a sweep), after the
    checks: a --config file that cannot go with --scenario or --open is refused as such,
    not read first. ConfigError or RunError for what cannot be opened."""
    from engine.sweep import load_sweep
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
        if "--config" in given:
            raise ConfigError(
                "--scenario",
                "cannot go with --config FILE: the scenario's preset is the config; "
                "give options (e.g. --lr 0.1) to change it",
            )
        # The options given apply over the preset, and over its counter-example.
        scenario = SCENARIOS[args.scenario]
        changes = changes_from_args(args)
        extra["scenario"] = scenario.with_changes(**changes) if changes else scenario
        config = extra["scenario"].config
    elif args.open is not None:
        if given:
            raise ConfigError(
                "--open", f"the run's own config.toml is used; drop {', '.join(given)}"
            )
        if is_sweep(args.open):  # its runs side by side in the compare view
            extra["sweep"] = load_sweep(args.open)  # RunError or ConfigError: exit 2
            config = extra["sweep"].base
        else:
            extra["run"] = open_run(args.open)  # RunError or ConfigError: exit 2 with its text
            config = extra["run"].config
    else:
        config = config_from_args(args)  # a missing or bad file is told here
        steps_given = hasattr(args, "steps") or (
            hasattr(args, "config") and file_sets_steps(args.config)
        )
        config = with_lab_budget(config, steps_given)
    return config, extra


def run_lab(args: argparse.Namespace) -> int:
    from tui_nn.app import LabApp

    config, extra = lab_setup(args)
    leave_a_core_for_the_ui()
    LabApp(config, fps=args.fps, **extra).run(mouse=not args.no_mouse)
    return 0
