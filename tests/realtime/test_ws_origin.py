"""The live socket's Origin check: a cookie gives roles only to Salen's own pages."""

from __future__ import annotations

import json

import httpx
from websockets.asyncio.client import connect

from live.realtime.origin import origin_of
from tests.support.admin import login

SLUG = "planstrategi-4-0"


async def session_cookie(live_url: str) -> str:
    """The Cookie header of the demo organiser (a site admin) logged in on the live server."""
    async with httpx.AsyncClient(base_url=live_url) as client:
        response = await login(client)
        assert response.status_code == 303, response.text[:300]
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def roles(live_url: str, cookie: str, origin: str | None, query: str = "") -> list[str]:
    """The roles the socket's snapshot reports, opened with `cookie` from `origin`."""
    url = f"{live_url.replace('http://', 'ws://')}/ws/events/{SLUG}{query}"
    headers = ({"Cookie": cookie} if cookie else {}) | ({"Origin": origin} if origin else {})
    async with connect(url, additional_headers=headers) as ws:
        snapshot = json.loads(await ws.recv())
    assert snapshot["type"] == "snapshot"
    return list(snapshot["you"]["roles"])


async def test_cross_site_socket_gets_no_role_from_the_cookie(live_url: str) -> None:
    """A foreign Origin with a valid organiser cookie connects as a viewer only."""
    cookie = await session_cookie(live_url)
    assert await roles(live_url, cookie, "https://evil.example") == ["viewer"]
    assert await roles(live_url, cookie, "null") == ["viewer"]


async def test_own_origin_and_no_origin_keep_the_cookie_roles(live_url: str) -> None:
    """From the server's own origin (or a client that sends none) the cookie's roles count."""
    cookie = await session_cookie(live_url)
    assert "moderator" in await roles(live_url, cookie, live_url)
    assert "organiser" in await roles(live_url, cookie, None)


async def test_cross_site_socket_keeps_roles_from_its_own_token(live_url: str) -> None:
    """The admin token in the query string is no cookie: it still counts from any origin."""
    roles_seen = await roles(live_url, "", "https://evil.example", "?token=test-admin-token")
    assert "moderator" in roles_seen


def test_origins_compare_scheme_host_and_port() -> None:
    """Default ports, case and ws/wss schemes compare equal; another port or host does not."""
    assert origin_of("HTTPS://Salen.example:443/") == origin_of("wss://salen.example")
    assert origin_of("http://salen.example:8000") != origin_of("http://salen.example")
    assert origin_of("https://salen.example.evil") != origin_of("https://salen.example")
