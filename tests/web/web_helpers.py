"""A real `tui-nn serve` in a subprocess, its lab processes, textual-serve's websocket
protocol, and a headless Chromium reading the page's terminal. Shared by tests/web and
benchmarks/web_bench.py.

Every wait polls a condition until a deadline; nothing sleeps and then asserts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")

TOKEN = "test-token-0123456789"
# The terminal's escape sequences (CSI, OSC, the two-byte ones); what is left is the text.
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
# The first screen: the config panels' titles and some of their fields.
FIRST_SCREEN = ("Data", "dataset", "Model", "hidden", "Optimizer", "lr", "IDLE")
# Under pytest the environment can hold COLUMNS=80 and LINES=24; a lab must size itself
# from its tab, so neither reaches the server.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def wait_for(ok: Callable[[], T], timeout: float, what: str) -> T:
    """ok()'s first truthy value, polled until the deadline; else AssertionError(what)."""
    deadline = time.monotonic() + timeout
    while True:
        value = ok()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The live processes whose parent is pid (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]


class Served:
    """`python -m tui_nn serve ARGS` on a free port, in its own process group, so that
    stop() can end it and every lab it started, whatever state a failed test left."""

    def __init__(self, *args: str, token: str = TOKEN) -> None:
        self.port = free_port()
        self.token = token
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/?token={token}"
        self.argv = [sys.executable, "-m", "tui_nn", "serve", "--port", str(self.port)]
        self.argv += ["--token", token, *args]
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=CLEAN_ENV,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 30) -> None:
        def listening() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"tui-nn serve exited:\n{self.output}")
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, timeout, f"tui-nn serve on port {self.port}\n{self.output}")

    def labs(self) -> list[int]:
        """Every lab process: the tabs' and the spare waiting for the next tab."""
        return children(self.process.pid)

    def tab_labs(self) -> list[int]:
        """The lab processes given to tabs, from the server's log, in order."""
        return [int(pid) for pid in re.findall(r"tab opened: lab pid (\d+)", self.output)]

    def wait_tabs(self, count: int, timeout: float = 30) -> list[int]:
        """tab_labs() once it holds count tabs (the log line may follow the screen)."""
        wait_for(lambda: len(self.tab_labs()) >= count, timeout, f"{count} tabs in the log")
        return self.tab_labs()

    def closed_tabs(self) -> list[int]:
        """The tabs' lab processes ended and their places freed, from the server's log."""
        return [int(pid) for pid in re.findall(r"tab closed: lab pid (\d+)", self.output)]

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, as Ctrl+C would; then SIGKILL to the whole group if anything is left.
        The server's exit code, or None if it had to be killed."""
        code: int | None = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(timeout)
        else:
            code = self.process.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the group holds only ours
        self.process.wait()
        self._reader.join(5)
        return code


@contextlib.contextmanager
def served(*args: str, token: str = TOKEN) -> Iterator[Served]:
    server = Served(*args, token=token)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def screen_text(data: bytes) -> str:
    """The text in a stream of terminal output (escape sequences dropped)."""
    return ESCAPES.sub(b"", data).decode("utf-8", "replace")


class Session:
    """One tab, as textual-serve's page speaks to it: binary frames are the terminal's
    output; text frames are JSON (["pong", ...]); the browser sends ["stdin", text]."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self.websocket = websocket
        self.data = b""

    async def read_until(self, ok: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while not ok(screen_text(self.data)):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}: {screen_text(self.data)}")
            try:
                message = await self.websocket.receive(timeout=left)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.data += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"websocket closed ({message.type}) waiting for {what}")
        return screen_text(self.data)

    async def first_screen(self, timeout: float = 60) -> str:
        return await self.read_until(
            lambda text: all(word in text for word in FIRST_SCREEN), timeout, "the first screen"
        )

    async def press(self, keys: str) -> None:
        await self.websocket.send_json(["stdin", keys])


def client() -> aiohttp.ClientSession:
    """A client that keeps the page's cookie, as a browser does (for 127.0.0.1 too)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_session(
    http: aiohttp.ClientSession, server: Served, origin: str | None = None, query: str = ""
) -> Session:
    websocket = await http.ws_connect(
        f"{server.base}/ws?width=120&height=40{query}", origin=origin or server.base
    )
    return Session(websocket)


# ---------------------------------------------------------------------- the browser

CHROMIUM = os.environ.get("TUI_NN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# textual.js keeps its xterm.js Terminal to itself; the test's copy of the script (served
# to this browser only, through Playwright's routing) also lists it on window, so the
# page's terminal text can be read from xterm's buffer (what its renderer draws).
HOOK_AT = "t.fit(),s||t.connect()"
HOOK = "(window.__tuiNnTerms=window.__tuiNnTerms||[]).push(t)," + HOOK_AT
READ_SCREEN = """() => {
    const t = (window.__tuiNnTerms || [])[0];
    if (!t) return "";
    const buffer = t.terminal.buffer.active, lines = [];
    for (let y = 0; y < t.terminal.rows; y++) {
        const line = buffer.getLine(buffer.viewportY + y);
        lines.push(line ? line.translateToString(true) : "");
    }
    return lines.join("\\n");
}"""


def chromium_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'needs Playwright: pip install ".[test]"'
    if not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium, as .ci/run does)"
    return None


def hook_textual_js(route: Any) -> None:
    """Serve textual.js with the terminal listed on window (see HOOK)."""
    response = route.fetch()
    script = response.text()
    if HOOK_AT not in script:
        raise AssertionError(f"textual.js changed: {HOOK_AT!r} not found; update HOOK")
    route.fulfill(response=response, body=script.replace(HOOK_AT, HOOK, 1))


@contextlib.contextmanager
def browser_page(width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A page of a headless Chromium (its own empty profile) with the terminal hook."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            context.route("**/static/js/textual.js", hook_textual_js)  # every tab's
            yield context.new_page()
        finally:
            context.close()


def page_screen(page: Any) -> str:
    return str(page.evaluate(READ_SCREEN))


def step_of(text: str) -> int | None:
    """The step count on the (last) status line ("RUNNING  step 1,234  epoch ...")."""
    found = re.findall(r"\b(?:IDLE|RUNNING|PAUSED|DONE|DIVERGED)\s+step ([\d,]+)", text)
    return int(found[-1].replace(",", "")) if found else None


def steps_per_sec_of(text: str) -> float | None:
    """The measured pace on the status line ("1,234 steps/s" or "1,234 of 5,000 steps/s")."""
    found = re.search(r"(?<!speed )(?<![\d,.])([\d,]+(?:\.\d+)?)(?: of [\d,.]+)? steps/s", text)
    return float(found.group(1).replace(",", "")) if found else None
