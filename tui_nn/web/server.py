"""textual-serve's Server for the lab: the guard in front of every request, at most
max_sessions lab processes (one a tab, and one spare started ahead for the next tab, so
that a tab need not wait for a lab to start), and each tab's lab process ended when its
tab closes (or the server stops), killed if it does not quit in time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server, to_int

from tui_nn.web.guard import Guard

log = logging.getLogger("tui-nn serve")

# Seconds a lab gets to quit when asked, then again after SIGTERM, before SIGKILL.
GRACE = 5.0
# Seconds the page waits for a free session: a reloaded tab's old socket closes just
# after the new page is asked for, and must not count against it.
SLOT_WAIT = 3.0
# Seconds a tab's lab may take to start before the next spare starts anyway.
READY_WAIT = 30.0
# textual-serve's page asks Google for its font; the lab's page asks no other site (a
# classroom may be offline, and a student's browser need not tell Google it is here).
FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)
PAGE = "app_index.html"


class LabSession(AppService):
    """One lab process (textual-serve's AppService), started before its tab comes: its
    output waits until a websocket is attached, and its end is sure."""

    def __init__(self, command: str, download_manager: DownloadManager) -> None:
        super().__init__(
            command,
            write_bytes=self._send_bytes,
            write_str=self._send_str,
            close=self._close,
            download_manager=download_manager,
        )
        self.websocket: web.WebSocketResponse | None = None
        self._attached = asyncio.Event()  # set on attach, or on an end before one
        self.ready = asyncio.Event()  # its first output: the slow start-up is behind it

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def attach(self, websocket: web.WebSocketResponse) -> None:
        self.websocket = websocket
        self._attached.set()

    async def _send_bytes(self, data: bytes) -> None:
        self.ready.set()
        await self._attached.wait()
        if self.websocket is not None:
            await self.websocket.send_bytes(data)

    async def _send_str(self, data: str) -> None:
        await self._attached.wait()
        if self.websocket is not None:
            await self.websocket.send_str(data)

    async def _close(self) -> None:  # the lab quit by itself (q)
        if self.websocket is not None:
            await self.websocket.close()

    async def end(self) -> None:
        """Ask the lab to quit (textual-serve's stop), then SIGTERM, then SIGKILL. A
        spare that never had a tab has nothing to lose: SIGTERM at once (it may still
        be starting, too soon to read a quit)."""
        had_tab = self.websocket is not None
        self._attached.set()  # output with no tab to go to is dropped
        if had_tab:
            try:
                await asyncio.wait_for(self.stop(), GRACE)
            except TimeoutError:
                log.warning("lab pid %s did not quit when asked; terminating it", self.pid)
        process = self._process
        if process is None or process.returncode is not None:
            return
        if had_tab:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), GRACE)
                return
        elif self._task is not None:
            self._task.cancel()  # no "failed to start" for a spare ended while it starts
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._task is not None:  # the reader ends at the closed pipe
            await asyncio.wait([self._task])


class LabServer(Server):
    def __init__(
        self, command: str, host: str, port: int, guard: Guard, max_sessions: int, url: str
    ) -> None:
        super().__init__(command, host=host, port=port, title="tui-nn lab")
        self.guard = guard
        self.max_sessions = max_sessions
        self.url = url  # the address printed, with the token
        self.sessions: set[LabSession] = set()  # the labs of open tabs
        self.tabs = 0  # tabs taken, counted before any await so the cap cannot be raced
        self.spare: LabSession | None = None  # a lab started for the next tab
        self.spare_lock = asyncio.Lock()
        self.size = (80, 24)  # the last tab's, for the next spare
        self.closing = False
        self._refills: set[asyncio.Task[None]] = set()

    @property
    def full(self) -> bool:
        return self.tabs >= self.max_sessions

    def full_text(self) -> str:
        return (
            f"tui-nn serve: all {self.max_sessions} lab sessions are in use. Close a lab "
            "tab and reload this one, or restart tui-nn serve with a larger --max-sessions."
        )

    def initialize_logging(self) -> None:
        # Plain lines: textual-serve's rich tracebacks print local variables, the token too.
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard.middleware)
        page = FONT_LINK.sub("", (Path(self.templates_path) / PAGE).read_text("utf-8"))
        aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({PAGE: page}))
        return app

    async def on_startup(self, app: web.Application) -> None:
        print(f"tui-nn serve: the lab at {self.url}", flush=True)
        print(
            f"  each tab runs its own lab (at most {self.max_sessions}): {self.command}",
            flush=True,
        )
        print("  Ctrl+C stops the server and every lab", flush=True)
        await self._refill()

    async def on_shutdown(self, app: web.Application) -> None:
        async with self.spare_lock:
            labs = [*self.sessions, *([self.spare] if self.spare is not None else [])]
            self.spare = None
            self.closing = True  # no new spare while the labs end
            for task in self._refills:
                task.cancel()
            await asyncio.gather(*(lab.end() for lab in labs))

    async def _refill(self) -> None:
        """A spare lab for the next tab, so that it need not wait for a lab to start
        (most of the first screen's time); the spare counts against --max-sessions."""
        async with self.spare_lock:
            if self.spare is None and self.tabs < self.max_sessions and not self.closing:
                self.spare = LabSession(self.command, self.download_manager)
                await self.spare.start(*self.size)
                log.info("lab pid %s waits for the next tab", self.spare.pid)

    async def _refill_when_ready(self, lab: LabSession) -> None:
        """The next spare once this tab's lab is up: a lab starting for a tab, when no
        spare was ready, must not share the cores with a spare starting beside it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lab.ready.wait(), READY_WAIT)
        await self._refill()

    async def _take_lab(self, width: int, height: int) -> LabSession:
        """The spare, sized for the tab, or a new lab if there is none."""
        async with self.spare_lock:
            lab, self.spare = self.spare, None
            if lab is not None and lab.running:
                await lab.set_terminal_size(width, height)
                return lab
            if lab is not None:
                await lab.end()
            lab = LabSession(self.command, self.download_manager)
            await lab.start(width, height)
            return lab

    async def _slot(self) -> bool:
        """True once a session is free, False if none frees within SLOT_WAIT."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SLOT_WAIT
        while self.full:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page (textual-serve's template), its links on the guard's base URL, and
        the token's cookie for the page's own requests."""
        if not await self._slot():
            raise web.HTTPServiceUnavailable(text=self.full_text() + "\n")
        base = self.guard.base_url(request)
        scheme, rest = base.split(":", 1)
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest + "/ws",
            "config": {"static": {"url": base + "/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template(PAGE, request, context)
        self.guard.remember(response, request)
        response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the cap, the spare lab and a sure end of the
        tab's lab process."""
        if self.full:
            raise web.HTTPServiceUnavailable(text=self.full_text() + "\n")
        self.tabs += 1
        websocket = web.WebSocketResponse(heartbeat=15)
        lab: LabSession | None = None
        try:
            await websocket.prepare(request)
            self.size = (
                to_int(request.query.get("width", "80"), 80),
                to_int(request.query.get("height", "24"), 24),
            )
            lab = await self._take_lab(*self.size)
            self.sessions.add(lab)
            lab.attach(websocket)
            log.info("tab opened: lab pid %s (%d of %d)", lab.pid, *self._count())
            refill = asyncio.create_task(self._refill_when_ready(lab))
            self._refills.add(refill)
            refill.add_done_callback(self._refills.discard)
            await self._process_messages(websocket, lab)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("the tab of lab pid %s failed", lab.pid if lab else None)
        finally:
            if lab is not None:
                await lab.end()
                self.sessions.discard(lab)
            self.tabs -= 1
            await websocket.close()
            if lab is not None:
                log.info("tab closed: lab pid %s ended (%d of %d)", lab.pid, *self._count())
            await self._refill()
        return websocket

    def _count(self) -> tuple[int, int]:
        return self.tabs, self.max_sessions

    async def _process_messages(self, websocket: web.WebSocketResponse, app: AppService) -> None:
        """The browser's messages (stdin, resize, ping, blur, focus) to the lab; a
        message that is not one is skipped, not fatal."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = message.json()
                kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await app.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await app.set_terminal_size(
                    to_int(str(data.get("width")), 80), to_int(str(data.get("height")), 24)
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app.blur()
            elif kind == "focus":
                await app.focus()

    def serve(self, debug: bool = False) -> None:
        """Run until Ctrl+C or SIGTERM; then every lab ends before the server does.
        The address is bound first: a port in use (OSError) is told before anything
        is printed or started."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        if sys.platform != "win32":
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            sock=sock,
            handle_signals=False,
            loop=loop,
            print=None,
            access_log=None,
            shutdown_timeout=GRACE,
        )
