"""`tui-nn scenarios`: the lecture's scenarios and depth profiles, run headless and judged.

Prints each claim with its verdict and the numbers behind it; exits 1 if any claim is not
observed (or, with --counterexamples, if a counter-example shows it anyway).

    from tui_nn.cli.scenarios import add_parser
    add_parser(commands)   # commands = parser.add_subparsers(...)
"""

from __future__ import annotations

import argparse
import functools
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any, TextIO

from engine.config import ModelConfig
from engine.lecture.profiles import PROFILES, Profile, judge_profile, run_profile
from engine.lecture.scenarios import (
    NOT_OBSERVED,
    OBSERVED,
    SCENARIOS,
    Scenario,
    Verdict,
    run_scenario,
)

WIDTH = 80


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `scenarios` on an argparse subparsers object."""
    parser = commands.add_parser(
        "scenarios",
        help="run the lecture's scenarios headless and judge each claim",
        description="Run every lecture scenario (a short preset training run) and depth "
        "profile (CS231n's 10 x 500 net at init), and judge each claim from the run's own "
        "diagnostics. The presets fix their own settings; experiment options do not apply.",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[*SCENARIOS, *PROFILES],
        metavar="NAME",
        help="run only this scenario or profile (repeatable); "
        f"names: {', '.join([*SCENARIOS, *PROFILES])}",
    )
    parser.add_argument(
        "--counterexamples",
        action="store_true",
        help="also run each counter-example, which must come out not observed",
    )
    parser.set_defaults(run=run_scenarios)
    return parser


def _mark(ok: bool) -> str:
    return "ok " if ok else "BAD"


def _numbers(numbers: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.3g}" for name, value in numbers.items())


def _block(out: TextIO, head: str, rows: list[tuple[str, str]]) -> None:
    """A head line, then labelled rows wrapped to the terminal's 80 columns."""
    out.write(head + "\n")
    for label, text in rows:
        lines = textwrap.wrap(text, WIDTH - 13) or [""]
        out.write(f"    {label:<8} {lines[0]}\n")
        for line in lines[1:]:
            out.write(f"    {'':<8} {line}\n")


def _rows(claim: str, verdict: Verdict, counter: str) -> list[tuple[str, str]]:
    rows = [("claim", claim)]
    if counter:
        rows.append(("counter", f"{counter}: expected not observed"))
    rows += [
        ("verdict", f"{verdict.status}: {verdict.summary}"),
        ("numbers", _numbers(verdict.numbers)),
    ]
    return rows


def _scenario_run(scenario: Scenario, is_counter: bool) -> tuple[Verdict, str]:
    trainer, verdict = run_scenario(scenario, counterexample=is_counter)
    return verdict, f"{trainer.steps_done} steps"


def _profile_run(profile: Profile, model: ModelConfig) -> tuple[Verdict, str]:
    return judge_profile(profile, run_profile(model)), "at init"


def _judge(
    out: TextIO,
    kind: str,
    item: Scenario | Profile,
    is_counter: bool,
    run: Callable[[], tuple[Verdict, str]],
) -> bool:
    """Time run() (a verdict, and how far it ran), print the block; True when as claimed:
    observed for the claim itself, not observed for its counter-example."""
    began = time.perf_counter()
    verdict, extent = run()
    seconds = time.perf_counter() - began
    ok = verdict.status == (NOT_OBSERVED if is_counter else OBSERVED)
    head = f"{_mark(ok)} {kind}{item.name}: {item.title}  ({extent}, {seconds:.1f} s)"
    note = item.counterexample if is_counter else ""
    _block(out, head, _rows(item.claim, verdict, note))
    return ok


def run_scenarios(args: argparse.Namespace, config: object, out: TextIO = sys.stdout) -> int:
    """Run and judge; `config` (the global experiment options) is unused: presets fix theirs."""
    only = set(args.only or [])
    counter = bool(getattr(args, "counterexamples", False))
    failed, judged = 0, 0
    start = time.perf_counter()
    for scenario in SCENARIOS.values():
        if only and scenario.name not in only:
            continue
        runs = [False, True] if counter and scenario.counterexample_config else [False]
        for is_counter in runs:
            run = functools.partial(_scenario_run, scenario, is_counter)
            failed += not _judge(out, "", scenario, is_counter, run)
            judged += 1
    for profile in PROFILES.values():
        if only and profile.name not in only:
            continue
        models = [(False, profile.model)]
        if counter:
            models.append((True, profile.counterexample_model))
        for is_counter, model in models:
            run = functools.partial(_profile_run, profile, model)
            failed += not _judge(out, "profile ", profile, is_counter, run)
            judged += 1
    total = time.perf_counter() - start
    if failed:
        result = f"{failed} of {judged} not as claimed"
    else:
        result = "every claim observed" + (", every counter-example not" if counter else "")
    out.write(f"\n{judged} judged in {total:.1f} s: {result}\n")
    return 1 if failed else 0
