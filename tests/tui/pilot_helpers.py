"""What the pilot tests share: a run that never finishes mid-test, and a polling wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

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


def looked_at_the_end(snap: Any) -> bool:
    """The runner looks (judge, advisor, boundary) after a run's last step, off the training
    lock: true once that look describes the final step and the claim was observed."""
    return (
        snap.verdict is not None
        and snap.verdict.status == "observed"
        and snap.boundary is not None
        and snap.boundary.step == snap.step
    )


async def wait_for_notification(pilot, says: str = "", severity: str | None = None) -> None:
    """App.notify posts a message: a notification is on the app's list only once the app
    has handled it, a moment after the code that raised it."""

    def shown() -> bool:
        return any(
            says in str(n.message) and severity in (None, n.severity)
            for n in pilot.app._notifications
        )

    await wait_until(pilot, shown)
