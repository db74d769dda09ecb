"""Keepalive pings a slot at a time: clients that answer stay, silent ones are closed 1011."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live.realtime.keepalive import Keepalive
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from live.realtime.rawframes import SERVER_SEND, CaptureServerSend
from live.settings import Settings
from tests.support.liveserver import serve_app
from tests.test_ws import joined, make_db
from tests.ws_app import build_app

INTERVAL, STEP = 0.4, 0.1  # four slots visited ten times a second


def test_protocol_keepalive_internals_exist() -> None:
    """What `Keepalive` uses of uvicorn's protocol is still there, under the same names."""
    init = inspect.getsource(WebSocketsSansIOProtocol.__init__)
    for name in ("self.ping_interval", "self.pending_ping_payload", "self.ping_sent_at"):
        assert name in init, name
    pong = inspect.getsource(WebSocketsSansIOProtocol.handle_pong)
    # A pong for the pending ping clears it; with no pong timer it schedules nothing.
    assert "self.pending_ping_payload = None" in pong
    assert "if self.pong_timer is not None:" in pong
    timeout = inspect.getsource(WebSocketsSansIOProtocol.keepalive_timeout)
    assert 'self.conn.fail(1011, "keepalive ping timeout")' in timeout
    stop = inspect.getsource(WebSocketsSansIOProtocol.stop_keepalive)
    assert "self.ping_timer.cancel()" in stop


@dataclass
class RawClient:
    """A WebSocket client on the sans-I/O protocol, so a test sees (and may ignore) pings."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: ClientProtocol
    answer_pings: bool
    accepted: bool = False
    pings: int = 0
    texts: list[str] = field(default_factory=list)
    close: Frame | None = None

    async def read_for(self, seconds: float) -> None:
        """Read frames for `seconds` (or until the server closes), answering pings if told to."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.close is None and (left := deadline - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except TimeoutError:
                return
            if not data:
                return
            self.feed(data)

    def feed(self, data: bytes) -> None:
        """Take bytes from the server; send what the protocol answers (pongs only if told to)."""
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):  # typed as a Request, but a client gets responses
                self.accepted = event.status_code == 101
            elif isinstance(event, Frame):
                self._frame(event)
        outgoing = self.protocol.data_to_send()
        if self.answer_pings or self.close is not None:
            self.writer.write(b"".join(outgoing))

    def _frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.PING:
            self.pings += 1
        elif frame.opcode is Opcode.TEXT:
            self.texts.append(bytes(frame.data).decode())
        elif frame.opcode is Opcode.CLOSE:
            self.close = frame


@contextlib.asynccontextmanager
async def raw_client(url: str, *, answer_pings: bool) -> AsyncIterator[RawClient]:
    uri = parse_uri(url)
    reader, writer = await asyncio.open_connection(uri.host, uri.port)
    protocol = ClientProtocol(uri)
    protocol.send_request(protocol.connect())
    writer.write(b"".join(protocol.data_to_send()))
    client = RawClient(reader, writer, protocol, answer_pings)
    try:
        while not client.accepted:
            client.feed(await asyncio.wait_for(reader.read(65536), 10))
            assert protocol.handshake_exc is None, protocol.handshake_exc
        yield client
    finally:
        writer.close()


def keepalive_app(keepalive: Keepalive) -> Starlette:
    """One route: the socket is watched, says what the server's keepalive is, then echoes."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        protocol = websocket.scope[SERVER_SEND].__self__
        with keepalive.watch(websocket.scope) as watched:
            state = {"watched": watched, "uvicorn_timer": protocol.ping_timer is not None}
            await websocket.send_text(json.dumps(state))
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    await websocket.send_text(await websocket.receive_text())

    return Starlette(
        routes=[WebSocketRoute("/", endpoint)], middleware=[Middleware(CaptureServerSend)]
    )


@contextlib.asynccontextmanager
async def watched_client(
    *, answer_pings: bool, ws_ping_interval: float | None = 20
) -> AsyncIterator[tuple[Keepalive, RawClient]]:
    """A keepalive, uvicorn serving `keepalive_app` with it, and one client connected."""
    async with (
        Keepalive(INTERVAL, STEP) as keepalive,
        serve_app(keepalive_app(keepalive), lifespan="off", ws_ping_interval=ws_ping_interval) as url,
        raw_client(url.replace("http", "ws") + "/", answer_pings=answer_pings) as client,
    ):
        yield keepalive, client


async def until_unwatched(keepalive: Keepalive) -> None:
    """Give closed sockets' handlers up to 2 s to let go of them."""
    for _ in range(100):
        if len(keepalive) == 0:
            return
        await asyncio.sleep(0.02)


async def test_answering_client_is_pinged_each_round_and_stays() -> None:
    async with watched_client(answer_pings=True) as (keepalive, client):
        await client.read_for(INTERVAL * 5.5)
        assert json.loads(client.texts[0]) == {"watched": True, "uvicorn_timer": False}
        assert client.close is None
        assert 4 <= client.pings <= 6  # one each round of the slots
        assert len(keepalive) == 1


async def test_silent_client_is_closed_as_uvicorn_would() -> None:
    async with watched_client(answer_pings=False) as (keepalive, client):
        await client.read_for(INTERVAL * 5)
        assert client.close is not None, "never closed"
        assert client.pings == 1  # one ping, unanswered by its next turn: closed
        assert bytes(client.close.data)[:2] == (1011).to_bytes(2, "big")
        assert b"keepalive ping timeout" in bytes(client.close.data)
        await until_unwatched(keepalive)
        assert len(keepalive) == 0


async def test_socket_stays_with_uvicorn_when_it_does_not_ping() -> None:
    """`--ws-ping-interval 0` (or None) means no keepalive: nothing is taken over."""
    async with watched_client(answer_pings=True, ws_ping_interval=None) as (keepalive, client):
        await client.read_for(INTERVAL * 2)
        assert json.loads(client.texts[0]) == {"watched": False, "uvicorn_timer": False}
        assert client.pings == 0 and len(keepalive) == 0


async def test_live_sockets_are_watched_while_connected(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", secret_key="k"
    )
    await make_db(settings.database_url)
    app = build_app(settings)
    async with serve_app(app, ws_ping_interval=20) as url:
        keepalive: Any = app.state.live.keepalive
        async with (
            joined(url.replace("http", "ws")) as (viewer, _),
            joined(url.replace("http", "ws"), "?token=mod-secret") as (mod, _),
        ):
            assert len(keepalive) == 2
            assert (await viewer.call("ping"))["type"] == "ok"
            assert (await mod.call("ping"))["type"] == "ok"
        await until_unwatched(keepalive)
        assert len(keepalive) == 0
