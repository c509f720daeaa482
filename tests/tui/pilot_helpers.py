"""What the pilot tests share: a run that never finishes mid-test, and a polling wait."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine import ExperimentConfig

# A budget no test reaches, and a small set: a running run never finishes mid-test.
CONFIG = ExperimentConfig().with_changes(data={"n_samples": 150}, training={"steps": 10**9})
SIZE = (120, 40)


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
