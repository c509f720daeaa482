"""The lab in a real browser: headless Chromium (Debian's, driven by Playwright) loads
the printed address, space starts training, and the step count rises on the page, read
from xterm.js's buffer (the text its renderer draws). Closing the tab ends its lab."""

from __future__ import annotations

import os

import pytest

# Skipped, not broken, without the web extra (it brings aiohttp, which web_helpers needs).
pytest.importorskip("textual_serve", reason='needs the web extra: pip install ".[web]"')
from web_helpers import (
    FIRST_SCREEN,
    alive,
    browser_page,
    chromium_missing,
    page_screen,
    served,
    step_of,
    wait_for,
)

MISSING = chromium_missing()
# Under CI (.ci/run installs Chromium) a missing browser is a failure, not a skip.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")
pytestmark = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")


def test_space_in_the_browser_trains_and_the_step_count_rises_on_the_page() -> None:
    if MISSING is not None:
        pytest.fail(f"CI: {MISSING}")
    with served() as server, browser_page() as page:
        page.goto(server.url)
        idle = wait_for(
            lambda: all(word in (text := page_screen(page)) for word in FIRST_SCREEN) and text,
            60,
            "the lab's first screen in the page",
        )
        assert step_of(idle) == 0
        [lab] = server.wait_tabs(1)

        page.locator(".xterm-screen").click()  # the terminal takes the keys
        page.keyboard.press(" ")
        first = wait_for(lambda: step_of(page_screen(page)), 60, "a step count above 0")
        wait_for(
            lambda: (step_of(page_screen(page)) or 0) > first, 60, f"the step count past {first}"
        )
        assert "RUNNING" in page_screen(page)

        page.close()  # the tab closes: its websocket, then its lab
        wait_for(lambda: not alive(lab), 30, f"lab pid {lab} to end with its tab")
