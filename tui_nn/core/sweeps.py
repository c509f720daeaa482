"""A sweep directory in the lab (`tui-nn --open DIR`): its members side by side, a page of
up to MAX_RUNS at a time, each where its run stopped (a member not saved yet starts from
step 0). `turn(1)` shows the next page, `turn(-1)` the one before: every member is a few
keys away, and no more lines are overlaid than stay readable. UI-free, like CompareRunner.
"""

from __future__ import annotations

import math

from engine import ConfigError
from engine.store.runs import RunError, load_run
from engine.sweep import Sweep, SweepMember
from tui_nn.core.compare import MAX_RUNS, CompareRunner, Entry

PAGE = MAX_RUNS  # members a page: the most runs a comparison overlays


def member_entry(member: SweepMember) -> Entry:
    """The member as a run to compare: restored where it stopped, else from its config."""
    try:
        trainer = load_run(member.run_dir).trainer
    except (RunError, ConfigError):  # not written yet (an unfinished sweep)
        trainer = None
    return Entry(member.member.config, trainer=trainer)


def page_count(members: int) -> int:
    return max(1, math.ceil(members / PAGE))


def page_title(sweep: Sweep, page: int) -> str:
    """What the page shows, first (a short status line keeps it): "members 9-12 of 12
    ([ ] page)", then the sweep and what it varies."""
    total = len(sweep.members)
    varies = ", ".join(sweep.keys) or "seeds"
    if total <= PAGE:
        return f"sweep {sweep.path}: {varies}"
    first = page * PAGE + 1
    last = min(total, first + PAGE - 1)
    return f"members {first}-{last} of {total} ([ ] page) · sweep {sweep.path}: {varies}"


class SweepRunner(CompareRunner):
    """The comparison of one page of a sweep's members; `turn` goes to another page."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.page = 0
        seeds = ["training.seed"] if len(sweep.seeds) > 1 else []
        super().__init__(self._entries(0), page_title(sweep, 0), [*sweep.keys, *seeds])

    @property
    def pages(self) -> int:
        return page_count(len(self.sweep.members))

    def _entries(self, page: int) -> list[Entry]:
        return [member_entry(m) for m in self.sweep.members[page * PAGE : (page + 1) * PAGE]]

    def turn(self, by: int) -> bool:
        """Show the page `by` pages on (paused); False when there is none there."""
        page = self.page + by
        if not 0 <= page < self.pages:
            return False
        # Read from disk on the caller's thread: the worker only swaps the runs.
        self.replace(self._entries(page), page_title(self.sweep, page))
        self.page = page
        return True
