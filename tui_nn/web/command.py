"""The lab command each browser tab runs: `python -m tui_nn` with the serve options that
belong to the lab, quoted for the shell textual-serve starts it with."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from tui_nn.cli.options import OPTIONS, dest

# The lab's options that name a file or directory (besides the experiment's path fields).
LAB_PATHS = ("--config", "--open")


def _value_args(flag: str, kind: str, value: object) -> list[str]:
    """One given option as the lab's argv reads it back."""
    if kind == "bool":
        return [flag if value else "--no-" + flag[2:]]
    if isinstance(value, list):  # widths, names: as typed, comma-separated
        return [flag, ",".join(str(item) for item in value)]
    if kind == "path":
        return [flag, os.path.abspath(str(value))]
    return [flag, str(value)]


def lab_argv(args: argparse.Namespace) -> list[str]:
    """The lab's options from parsed serve options: --fps, --no-mouse, --scenario, --open,
    --config and every experiment option given. Paths become absolute, so the lab finds
    them whatever its working directory."""
    argv = ["--fps", str(args.fps)]
    if args.no_mouse:
        argv.append("--no-mouse")
    if args.scenario is not None:
        argv += ["--scenario", args.scenario]
    for flag in LAB_PATHS:
        value = getattr(args, dest(flag), None)
        if value is not None:
            argv += [flag, os.path.abspath(value)]
    for flag, field in OPTIONS.items():
        if hasattr(args, dest(flag)):
            argv += _value_args(flag, field.kind, getattr(args, dest(flag)))
    return argv


def lab_command(argv: list[str]) -> str:
    """A shell command line; `exec` makes the shell become the lab, so the process that
    textual-serve holds (and ends when the tab closes) is the lab itself."""
    return "exec " + shlex.join([sys.executable, "-m", "tui_nn", *argv])
