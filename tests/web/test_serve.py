"""The real `tui-nn serve` in a subprocess: the token, the websocket's origin, the lab's
first screen through textual-serve's protocol, a lab process a tab that ends with it,
and the cap on sessions."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest

# Skipped, not broken, without the web extra (it brings aiohttp, which web_helpers needs).
pytest.importorskip("textual_serve", reason='needs the web extra: pip install ".[web]"')
import aiohttp
from web_helpers import (
    Served,
    Session,
    alive,
    client,
    cmdline,
    open_session,
    served,
    wait_for,
)


async def refused(http: aiohttp.ClientSession, url: str, origin: str) -> int:
    """The HTTP status a websocket handshake was refused with."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
        await http.ws_connect(url, origin=origin)
    return refusal.value.status


@pytest.fixture(scope="module")
def guarded() -> Iterator[Served]:
    """One server for the tests that open no tab."""
    with served() as server:
        yield server


async def test_every_request_without_the_token_is_refused(guarded: Served) -> None:
    server = guarded
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/static/js/textual.js", "/ws", "/download/x", "/?token=wrong"):
            async with http.get(server.base + path) as response:
                assert response.status == 403, path
                assert "token" in await response.text()
        assert await refused(http, f"{server.base}/ws", server.base) == 403
        assert await refused(http, f"{server.base}/ws?token=wrong", server.base) == 403
        # A cookie with the wrong token is no better.
        http.cookie_jar.update_cookies({f"tui-nn-token-{server.port}": "wrong"})
        async with http.get(server.base + "/") as response:
            assert response.status == 403
    assert server.tab_labs() == []  # no tab was opened by any of them
    assert len(server.labs()) <= 1  # the spare, if it has started yet


async def test_a_websocket_from_another_origin_is_refused(guarded: Served) -> None:
    server = guarded
    async with client() as http:
        async with http.get(server.url) as page:
            assert page.status == 200  # the cookie is set
        for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}"):
            assert await refused(http, f"{server.base}/ws", origin) == 403
        # With the token in the URL too: the origin is still checked.
        url = f"{server.base}/ws?token={server.token}"
        assert await refused(http, url, "https://evil.example") == 403
    assert server.tab_labs() == []


async def test_through_a_tunnel_the_links_follow_the_address_asked_for(guarded: Served) -> None:
    # ssh -L 9000:127.0.0.1:PORT: the browser asks for 127.0.0.1:9000.
    async with client() as http:
        headers = {"Host": "127.0.0.1:9000"}
        async with http.get(guarded.url, headers=headers) as page:
            html = await page.text()
        assert 'data-session-websocket-url="ws://127.0.0.1:9000/ws"' in html
        url = f"{guarded.base}/ws?token={guarded.token}"
        headers["Upgrade"] = "websocket"  # the guard's check, before any tab is opened
        async with http.get(url, headers={**headers, "Origin": guarded.base}) as refusal:
            assert refusal.status == 403
    assert guarded.tab_labs() == []


async def test_the_page_loads_and_a_tab_gets_the_labs_first_screen_and_ends_with_it() -> None:
    with served() as server:
        async with client() as http:
            async with http.get(server.url) as page:
                assert page.status == 200
                html = await page.text()
            # The page's own websocket and assets, on the served address, with no token:
            # the cookie set with the page carries it.
            assert f'data-session-websocket-url="ws://127.0.0.1:{server.port}/ws"' in html
            assert "googleapis" not in html  # the page asks no other site
            async with http.get(server.base + "/static/js/textual.js") as script:
                assert script.status == 200
            session = await open_session(http, server)
            text = await session.first_screen()
            assert re.search(r"\bIDLE\s+step 0\b", text)
            [lab] = server.wait_tabs(1)
            assert lab in server.labs()
            assert cmdline(lab)[1:3] == ["-m", "tui_nn"]
            # A spare lab starts for the next tab: two processes, one of them the tab's.
            spare = wait_for(lambda: set(server.labs()) - {lab}, 30, "a spare lab")
            await session.websocket.close()
            wait_for(lambda: not alive(lab), 30, f"lab pid {lab} to end with its tab")
            assert set(server.labs()) == spare  # the spare waits on


async def test_each_tab_runs_its_own_lab_and_the_cap_holds() -> None:
    with served("--max-sessions", "2") as server:
        async with client() as http:
            async with http.get(server.url):
                pass
            first = await open_session(http, server)
            await first.first_screen()
            second = await open_session(http, server)
            await second.first_screen()
            labs = server.wait_tabs(2)
            assert len(set(labs)) == 2
            # At the cap, no spare: the lab processes are the two tabs' only.
            wait_for(lambda: sorted(server.labs()) == sorted(labs), 30, "just the two labs")
            await first.press(" ")  # the tab's keys reach its lab
            await first.read_until(lambda text: "RUNNING" in text, 30, "the first tab running")

            assert await refused(http, f"{server.base}/ws", server.base) == 503
            async with http.get(server.url) as page:
                assert page.status == 503
                assert "all 2 lab sessions are in use" in await page.text()
            assert sorted(server.labs()) == sorted(labs)

            await first.websocket.close()
            wait_for(lambda: labs[0] in server.closed_tabs(), 30, "the first tab's place freed")
            assert not alive(labs[0])
            third = await open_session(http, server)
            await third.first_screen()
            assert len(server.wait_tabs(3)) == 3
            assert len(server.labs()) <= 2
            for session in (second, third):
                await session.websocket.close()
            wait_for(lambda: len(server.closed_tabs()) == 3, 30, "every tab closed")
            assert not any(alive(pid) for pid in server.tab_labs())
            assert len(server.labs()) <= 2


async def test_the_lab_options_reach_each_tab() -> None:
    with served("--lr", "0.0371", "--hidden", "7,5", "--no-mouse") as server:
        async with client() as http:
            async with http.get(server.url):
                pass
            session = await open_session(http, server)
            text = await session.first_screen()
            assert re.search(r"\blr\s+0\.0371\b", text)
            assert re.search(r"\bhidden\s+7,5\b", text)
            [lab] = server.wait_tabs(1)
            assert {"--lr", "0.0371", "--hidden", "7,5", "--no-mouse"} <= set(cmdline(lab))
            await session.websocket.close()


async def test_a_public_url_sets_the_links_and_the_allowed_origin() -> None:
    public = "https://lab.example.org"
    with served("--public-url", public + "/") as server:
        async with client() as http:
            async with http.get(server.url) as page:
                html = await page.text()
            assert 'data-session-websocket-url="wss://lab.example.org/ws"' in html
            assert 'href="https://lab.example.org/static/css/xterm.css"' in html
            # The proxy's origin, not the address the request reached.
            url = f"{server.base}/ws?token={server.token}"
            assert await refused(http, url, server.base) == 403
            url = f"{server.base}/ws?width=100&height=30&token={server.token}"
            session = Session(await http.ws_connect(url, origin=public))
            await session.first_screen()
            await session.websocket.close()


async def test_stopping_the_server_ends_every_lab() -> None:
    with served() as server:
        async with client() as http:
            async with http.get(server.url):
                pass
            session = await open_session(http, server)
            await session.first_screen()
            labs = wait_for(lambda: len(server.labs()) == 2 and server.labs(), 30, "tab + spare")
            server.process.send_signal(signal.SIGINT)  # Ctrl+C
            assert server.process.wait(30) == 0
            wait_for(lambda: not any(map(alive, labs)), 10, "every lab to end with the server")
