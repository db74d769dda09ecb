"""The shared test harness works for real: redis, PostgreSQL, live server, Chromium, axe."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import redis.asyncio as aioredis
import websockets
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.support.axe import AccessibilityError, assert_accessible
from tests.support.liveserver import LiveServerError, serve_app
from tests.support.servers import PostgresServer

STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
CLEAN_PAGE = """<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Salen</title></head>
<body><main><h1>Planstrategi 4.0</h1>
<form><label for="name">Navn</label><input id="name" name="name"></form>
<img src="/logo.png" alt="Logo"></main></body></html>"""
BROKEN_PAGE = """<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Salen</title></head>
<body><main><h1>Påmelding</h1>
<form><input id="email" name="email" type="text"></form>
<img src="/logo.png"></main></body></html>"""


def make_app() -> Starlette:
    """A tiny app with a lifespan, pages under a strict CSP and an echo WebSocket."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "hei"}

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.greeting)

    async def page(request: Request) -> HTMLResponse:
        body = CLEAN_PAGE if request.path_params["name"] == "clean" else BROKEN_PAGE
        return HTMLResponse(body, headers={"content-security-policy": STRICT_CSP})

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in websocket.iter_text():
            await websocket.send_text(f"echo:{message}")

    routes = [Route("/", hello), Route("/page/{name}", page), WebSocketRoute("/ws", echo)]
    return Starlette(routes=routes, lifespan=lifespan)


async def test_redis_ping_and_pubsub(redis_url: str) -> None:
    """The redis-server fixture answers PING and delivers a published message."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping() is True
        pubsub = client.pubsub()
        await pubsub.subscribe("salen:test")
        subscribed = await pubsub.get_message(timeout=5)
        assert subscribed is not None and subscribed["type"] == "subscribe"
        assert await client.publish("salen:test", b"hallo") == 1
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None and message["data"] == b"hallo"
        await pubsub.aclose()
    finally:
        await client.aclose()


async def test_postgres_database_via_sqlalchemy(postgres_url: str) -> None:
    """A fresh PostgreSQL database accepts DDL and queries through SQLAlchemy async."""
    assert postgres_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id serial PRIMARY KEY, name text)"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('Otta'), ('Gjøvik')"))
        async with engine.connect() as conn:
            names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars()
            assert list(names) == ["Otta", "Gjøvik"]
    finally:
        await engine.dispose()


async def test_postgres_create_and_drop_database(postgres_server: PostgresServer) -> None:
    """create_database gives an empty database asyncpg can use; drop_database removes it."""
    url = postgres_server.create_database("harness_check")
    assert url.endswith("/harness_check")
    conn = await asyncpg.connect(postgres_server.dsn("harness_check"))
    try:
        assert await conn.fetchval("SELECT current_database()") == "harness_check"
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname='public'") == 0
    finally:
        await conn.close()
    postgres_server.drop_database("harness_check")
    listed = postgres_server.psql("SELECT datname FROM pg_database").split()
    assert "harness_check" not in listed


async def test_live_server_runs_lifespan_http_and_websocket() -> None:
    """serve_app runs the lifespan, answers HTTP and WebSocket, then stops listening."""
    async with serve_app(make_app()) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            assert (await client.get("/")).text == "hei"
        ws_url = base_url.replace("http://", "ws://") + "/ws"
        async with websockets.connect(ws_url) as ws:
            await ws.send("ping")
            assert await ws.recv() == "echo:ping"
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(base_url)


async def test_live_server_reports_failed_lifespan() -> None:
    """A lifespan that raises makes serve_app raise LiveServerError naming the cause."""

    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield

    with pytest.raises(LiveServerError, match="database unreachable"):
        async with serve_app(Starlette(lifespan=broken)):
            pass


async def test_chromium_renders_live_page_and_runs_javascript(page: Page) -> None:
    """Chromium loads a served page in bokmål/Oslo time and runs JavaScript on it."""
    async with serve_app(make_app()) as base_url:
        await page.goto(f"{base_url}/page/clean")
        assert await page.locator("h1").inner_text() == "Planstrategi 4.0"
        assert await page.evaluate("navigator.language") == "nb-NO"
        zone = await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
        assert zone == "Europe/Oslo"
        echoed = await page.evaluate(
            """(url) => new Promise((resolve, reject) => {
                const ws = new WebSocket(url);
                ws.onopen = () => ws.send('fra nettleser');
                ws.onmessage = (e) => { resolve(e.data); ws.close(); };
                ws.onerror = () => reject(new Error('websocket failed'));
            })""",
            base_url.replace("http://", "ws://") + "/ws",
        )
        assert echoed == "echo:fra nettleser"


async def test_chromium_webrtc_flags_give_fake_media_and_loopback_peers(page: Page) -> None:
    """Fake camera/microphone work without a prompt and two in-page peers connect."""
    async with serve_app(make_app()) as base_url:
        await page.goto(f"{base_url}/page/clean")
        kinds = await page.evaluate(
            """async () => {
                const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
                const kinds = s.getTracks().map((t) => t.kind).sort();
                s.getTracks().forEach((t) => t.stop());
                return kinds;
            }"""
        )
        assert kinds == ["audio", "video"]
        received = await page.evaluate(PEER_PAIR_SCRIPT)
        assert received == "hallo"


PEER_PAIR_SCRIPT = """async () => {
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const got = new Promise((resolve) => {
    b.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); };
  });
  const channel = a.createDataChannel('test');
  channel.onopen = () => channel.send('hallo');
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const data = await got;
  a.close(); b.close();
  return data;
}"""


async def test_axe_passes_clean_page_under_strict_csp(page: Page) -> None:
    """A labelled form and an image with alt text pass the check despite a strict CSP."""
    async with serve_app(make_app()) as base_url:
        await page.goto(f"{base_url}/page/clean")
        with pytest.raises(PlaywrightError, match="Content Security Policy"):
            await page.add_script_tag(content="window.injected = 1")
        await assert_accessible(page)


async def test_axe_fails_on_unlabelled_input_and_missing_alt(page: Page) -> None:
    """An input without a label and an image without alt make the check fail by rule."""
    async with serve_app(make_app()) as base_url:
        await page.goto(f"{base_url}/page/broken")
        with pytest.raises(AccessibilityError) as failure:
            await assert_accessible(page)
    rules = {v.rule: v for v in failure.value.violations}
    assert {"label", "image-alt"} <= set(rules)
    assert rules["label"].targets == ("#email",)
    assert "image-alt" in str(failure.value) and "#email" in str(failure.value)


async def test_axe_context_limits_the_check(page: Page) -> None:
    """Excluding the offending nodes through `context` makes the same page pass."""
    await page.set_content(BROKEN_PAGE)
    await assert_accessible(page, context={"exclude": [["#email"], ["img"]]})
