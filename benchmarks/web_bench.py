"""The lab in a browser tab (`tui-nn serve`, headless Chromium) against the terminal lab,
in one run on this machine.

    python benchmarks/web_bench.py            # ~3 minutes
    python benchmarks/web_bench.py --quick    # ~1.5 minutes

Measures (targets from issue 12):

1. first screen: from asking for the page to the lab's first screen (the config panels
   and the status line) in xterm.js's buffer, over several fresh tabs: <= 3 s;
2. key press to screen while training: a plot-tab key's keydown in the page until the
   frame in which that plot's title is in the terminal's buffer (alternating 4 and 1),
   timed in the page: p95 <= 200 ms; the terminal lab's (key written to the pty until
   the title is in its output) beside it, the two training in turn, in blocks;
3. training steps/s in a browser tab over the terminal lab's (the real `tui-nn` in a
   pseudo-terminal of the same size), both read from the labs' status lines at the same
   moments while both train, so a busy machine weighs on both: >= 0.8.

Timings are printed, never asserted: tests stay free of timing. A busy machine (see the
printed load average) skews every number; Chromium's own drawing shares the same cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import pty
import select
import statistics
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))  # the served-process and browser helpers
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from web_helpers import (  # noqa: E402
    CHROMIUM,
    CLEAN_ENV,
    FIRST_SCREEN,
    browser_page,
    chromium_missing,
    page_screen,
    screen_text,
    served,
    step_of,
    steps_per_sec_of,
    wait_for,
)

# A budget the measurements never reach, so the lab trains throughout.
LAB_OPTIONS = ["--steps", "100000000"]
PLOT_TITLES = {"4": "gradient norm", "1": "loss (log)"}
KEY_BLOCK = 10  # presses timed in one lab before the other trains
WORDS = "[" + ", ".join(f'"{word}"' for word in FIRST_SCREEN) + "]"
# In the page: the buffer's text, and whether the lab's first screen is in it.
SCREEN_JS = """() => {
    const t = (window.__tuiNnTerms || [])[0];
    if (!t) return "";
    const b = t.terminal.buffer.active, lines = [];
    for (let y = 0; y < t.terminal.rows; y++) {
        const line = b.getLine(b.viewportY + y);
        lines.push(line ? line.translateToString(true) : "");
    }
    return lines.join("\\n");
}"""
FIRST_JS = f"() => {{ const s = ({SCREEN_JS})(); return {WORDS}.every(w => s.includes(w)); }}"
# The keydown's time, taken by the page itself (capture phase, before xterm sees it).
KEY_CLOCK_JS = """() => { window.__keyAt = 0; document.addEventListener("keydown",
    () => { window.__keyAt = performance.now(); }, true); }"""
SEEN_JS = f"""(title) => {{ if (!({SCREEN_JS})().includes(title)) return false;
    window.__seenAt = performance.now(); return true; }}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def browser_first_screen(context: Any, url: str) -> float:
    """Seconds from asking for the page to the first screen, in a fresh tab (its own lab)."""
    tab = context.new_page()
    began = time.perf_counter()
    tab.goto(url)
    tab.wait_for_function(FIRST_JS, polling="raf", timeout=60_000)
    seconds = time.perf_counter() - began
    tab.close()
    return seconds


def two_tabs_second_screen(context: Any, url: str) -> float:
    """Two tabs opened together: seconds to the second one's first screen. The first takes
    the spare lab; the second's lab starts when the first's tab comes (no spare ready)."""
    first = context.new_page()
    first.goto(url)
    first.wait_for_function("document.body.classList.contains('-loaded')", polling="raf")
    seconds = browser_first_screen(context, url)
    first.close()
    return seconds


def terminal_first_screen(size: tuple[int, int]) -> float:
    """Seconds from starting the terminal lab to its first screen on the terminal."""
    began = time.perf_counter()
    lab = TerminalLab(*size)
    try:
        wait_for(lambda: all(w in lab.text() for w in FIRST_SCREEN), 60, "the first screen")
        return time.perf_counter() - began
    finally:
        lab.close()


def start_training(page: Any) -> None:
    wait_for(lambda: page.evaluate(FIRST_JS), 60, "the first screen")
    page.locator(".xterm-screen").click()
    page.keyboard.press(" ")
    wait_for(lambda: steps_per_sec_of(page_screen(page)), 60, "a pace on the status line")


def toggle_browser(page: Any, state: str) -> None:
    """Space, until the status line shows the state (RUNNING or PAUSED)."""
    page.keyboard.press(" ")
    wait_for(lambda: f"{state}  step" in page_screen(page), 30, f"{state} in the page")


def browser_key_ms(page: Any, key: str) -> float:
    """Keydown to the frame showing the plot's title, in the page's own clock."""
    page.keyboard.press(key)
    page.wait_for_function(SEEN_JS, arg=PLOT_TITLES[key], polling="raf", timeout=10_000)
    return float(page.evaluate("window.__seenAt - window.__keyAt"))


class TerminalLab:
    """The real `tui-nn` in a pseudo-terminal of cols x rows; its output drained by a
    thread (the status line is read from the newest output)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = {**CLEAN_ENV, "TERM": "xterm-256color"}
            os.execvpe(sys.executable, [sys.executable, "-m", "tui_nn", *LAB_OPTIONS], env)
        import fcntl
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.data = bytearray()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk
                del self.data[: max(0, len(self.data) - 200_000)]

    def text(self, tail: int = 200_000) -> str:
        with self.lock:
            return screen_text(bytes(self.data[-tail:]))

    def pace(self) -> float | None:
        text = self.text(20_000)
        last = text.rfind("steps/s")
        return steps_per_sec_of(text[max(0, last - 200) : last + 8]) if last >= 0 else None

    def start_training(self) -> None:
        wait_for(lambda: "IDLE" in self.text(), 60, "the terminal lab's first screen")
        os.write(self.fd, b" ")
        wait_for(self.pace, 60, "a pace on the terminal lab's status line")

    def toggle(self, state: str) -> None:
        """Space, until the status line shows the state (RUNNING or PAUSED)."""
        with self.lock:
            self.data.clear()
        os.write(self.fd, b" ")
        wait_for(lambda: f"{state}  step" in self.text(), 30, f"{state} in the terminal")

    def key_ms(self, key: str) -> float:
        """The key written to the terminal until the plot's title is in the output."""
        with self.lock:
            self.data.clear()
        began = time.perf_counter()
        os.write(self.fd, key.encode())
        wait_for(lambda: PLOT_TITLES[key] in self.text(), 10, f"the plot of key {key}")
        return 1000 * (time.perf_counter() - began)

    def close(self) -> None:
        try:
            os.write(self.fd, b"q")
            wait_for(lambda: os.waitpid(self.pid, os.WNOHANG)[0] != 0, 10, "the lab to quit")
        except (OSError, AssertionError):
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Paces:
    pairs: list[tuple[float, float]]  # (browser, terminal) steps/s, read at the same moments
    per_cpu: tuple[float, float]  # steps per CPU second of each lab process
    serve_cpu: float  # the server's CPU seconds a second meanwhile


def paired_paces(page: Any, server: Any, lab: TerminalLab, seconds: float) -> Paces:
    """Both labs training: their status lines' steps/s at the same moments, and their
    steps (status lines) per CPU second of their processes over the whole time."""
    browser_pid = server.tab_labs()[0]  # the page opened first; the others closed
    pids = (browser_pid, lab.pid, server.process.pid)

    def steps() -> tuple[int, int]:
        return step_of(page_screen(page)) or 0, step_of(lab.text(20_000)) or 0

    steps0, cpu0, began = steps(), [cpu_seconds(pid) for pid in pids], time.monotonic()
    pairs = []
    while time.monotonic() < began + seconds:
        browser, terminal = steps_per_sec_of(page_screen(page)), lab.pace()
        if browser is not None and terminal is not None:
            pairs.append((browser, terminal))
        time.sleep(0.5)
    steps1, cpu1 = steps(), [cpu_seconds(pid) for pid in pids]
    browser_rate, terminal_rate = ((steps1[i] - steps0[i]) / (cpu1[i] - cpu0[i]) for i in range(2))
    serve = (cpu1[2] - cpu0[2]) / (time.monotonic() - began)
    return Paces(pairs, (browser_rate, terminal_rate), serve)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tabs, presses, seconds")
    args = parser.parse_args()
    missing = chromium_missing()
    if missing:
        print(f"web_bench: {missing}")
        return 2
    starts, presses, seconds = (3, 20, 10.0) if args.quick else (6, 40, 20.0)
    print(f"web_bench on {platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()}")
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    print(f"  {chromium.stdout.strip()}, Python {platform.python_version()}")

    with served(*LAB_OPTIONS) as server, browser_page() as page:
        page.goto(server.url)
        wait_for(lambda: page.evaluate(FIRST_JS), 60, "the first screen")
        size = tuple(
            page.evaluate(
                "[window.__tuiNnTerms[0].terminal.cols, window.__tuiNnTerms[0].terminal.rows]"
            )
        )
        firsts: dict[str, list[float]] = {"browser": [], "terminal": []}
        for _ in range(starts):  # alternated, so a busy moment weighs on both
            # The terminal's start-up also leaves the spare lab time to start.
            firsts["terminal"].append(terminal_first_screen(size))
            firsts["browser"].append(browser_first_screen(page.context, server.url))
        crowded = [two_tabs_second_screen(page.context, server.url) for _ in range(2)]

        lab = TerminalLab(*size)
        try:
            start_training(page)
            lab.start_training()
            time.sleep(3)  # past the first, partial rate readings
            paces = paired_paces(page, server, lab, seconds)
            page.evaluate(KEY_CLOCK_JS)
            keys: dict[str, list[float]] = {"browser": [], "terminal": []}
            # One lab trains at a time, in alternating blocks: each is timed as it would
            # be alone, and a busy moment of the machine weighs on both.
            lab.toggle("PAUSED")
            for block in range(0, presses, KEY_BLOCK):
                for i in range(block, min(presses, block + KEY_BLOCK)):
                    keys["browser"].append(browser_key_ms(page, "4" if i % 2 == 0 else "1"))
                toggle_browser(page, "PAUSED")
                lab.toggle("RUNNING")
                for i in range(block, min(presses, block + KEY_BLOCK)):
                    keys["terminal"].append(lab.key_ms("4" if i % 2 == 0 else "1"))
                lab.toggle("PAUSED")
                toggle_browser(page, "RUNNING")
        finally:
            lab.close()

    pairs = paces.pairs
    ratio = statistics.median(b / t for b, t in pairs)
    browser, terminal = (statistics.median(side) for side in zip(*pairs, strict=True))
    per_cpu = paces.per_cpu[0] / paces.per_cpu[1]
    p95 = {side: percentile(values, 0.95) for side, values in keys.items()}
    first = {side: max(values) for side, values in firsts.items()}
    rows = [
        (
            "first screen after loading the page",
            f"median {statistics.median(firsts['browser']):.2f} s, max {first['browser']:.2f} s "
            f"({starts} tabs); terminal lab: median {statistics.median(firsts['terminal']):.2f} s"
            f"; the second of two tabs opened together: {', '.join(f'{t:.2f}' for t in crowded)} s",
            "<= 3 s",
            first["browser"] <= 3,
        ),
        (
            "key press to screen while training",
            f"p50 {percentile(keys['browser'], 0.5):.0f} ms, p95 {p95['browser']:.0f} ms "
            f"({presses} keys); terminal lab: p50 {percentile(keys['terminal'], 0.5):.0f} ms, "
            f"p95 {p95['terminal']:.0f} ms",
            "p95 <= 200 ms",
            p95["browser"] <= 200,
        ),
        (
            "training steps/s, browser tab / terminal lab",
            f"{browser:,.0f} / {terminal:,.0f}, median of {len(pairs)} paired readings "
            f"{ratio:.2f} ({size[0]}x{size[1]})",
            ">= 0.8",
            ratio >= 0.8,
        ),
        (
            "steps per CPU second of the lab process, browser / terminal",
            (
                f"{paces.per_cpu[0]:,.0f} / {paces.per_cpu[1]:,.0f} = {per_cpu:.2f}"
                if min(paces.per_cpu) > 0
                # A step count read from a terminal's output, which Textual updates cell by
                # cell, can be a stale or partial number: then there is no honest figure.
                else "not read (a step count read from the terminal went backwards)"
            )
            + f"; the server used {paces.serve_cpu:.3f} of a core",
            "(the web path's cost in the lab)",
            None,
        ),
    ]
    print()
    print("| measure | result | target | met |")
    print("|---|---|---|---|")
    for name, result, target, met in rows:
        mark = "-" if met is None else "yes" if met else "NO"
        print(f"| {name} | {result} | {target} | {mark} |")
    print()
    for side in ("browser", "terminal"):
        print(f"first screens, {side}: " + ", ".join(f"{t:.2f}" for t in firsts[side]) + " s")
        print(
            f"keys, {side}, slowest 5: "
            + ", ".join(f"{t:.0f}" for t in sorted(keys[side])[-5:])
            + " ms"
        )
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
