"""Who may open the lab: the holder of the token, from the served page.

textual-serve has no authentication and no Origin check, so without this any web page a
user visits could open the lab on localhost. Every request needs the token, in the URL
(`/?token=...`, as printed) or in the cookie the page sets when that URL is loaded (the
page's assets and websocket carry no token of their own). A websocket must also come
from the served origin: --public-url's when given, else the address the request was
sent to (same origin)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def origin_of(url: str) -> str:
    """'https://host:443/lab' -> 'https://host' (an Origin header's form)."""
    return str(URL(url).origin())


@dataclass(frozen=True)
class Guard:
    token: str
    cookie: str  # its name: one a port, so two servers on one host keep their own
    public_url: str | None = None

    def holds_token(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(self.cookie) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def base_url(self, request: web.Request) -> str:
        """Where the page's links point: --public-url, else the address asked for."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get(hdrs.ORIGIN, "")
        return hmac.compare_digest(origin.encode(), origin_of(self.base_url(request)).encode())

    def remember(self, response: web.StreamResponse, request: web.Request) -> None:
        """The cookie for the page's own requests: this host only, never sent from a
        page on another site (SameSite=Strict), unreadable by scripts."""
        response.set_cookie(
            self.cookie,
            self.token,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.base_url(request).startswith("https:"),
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.holds_token(request):
            raise web.HTTPForbidden(
                text="403: tui-nn serve needs its token: open the address it printed "
                "(http://HOST:PORT/?token=...).\n"
            )
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if upgrade and not self.origin_allowed(request):
            origin = request.headers.get(hdrs.ORIGIN, "none")
            raise web.HTTPForbidden(
                text=f"403: tui-nn serve takes websockets only from its own page, "
                f"{origin_of(self.base_url(request))}, not from {origin}.\n"
            )
        return await handler(request)
