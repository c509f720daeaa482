"""What the runner tests share: the configs they run and a wait from the test's thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine import ExperimentConfig

LONG = ExperimentConfig().with_changes(training={"steps": 10**9})
SMALL = LONG.with_changes(data={"n_samples": 120}, model={"hidden": [8]})


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll until condition() holds; a deadline, not a timing: fails only if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
