"""Keepalive pings a slot at a time on the beat: clients that answer stay, silent ones are
closed 1011 (and reset when they do not read their close either)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from live.realtime.keepalive import Keepalive, for_interval
from live.realtime.rawframes import raw_socket
from live.server import SalenWebSocket
from live.settings import Settings
from tests.support.liveserver import serve_app
from tests.support.sockets import ESTABLISHED, handshake, port_of, tcp_state
from tests.support.ws_app import build_app
from tests.support.ws_client import joined, make_db

INTERVAL, STEP = 0.4, 0.1  # four slots visited ten times a second


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


class FastPings(SalenWebSocket):
    """Salen's protocol with a beat of `STEP` seconds, so that tests take a few seconds."""

    ping_step = STEP
    abort_after = 0.3


def keepalive_app() -> Starlette:
    """One route: says whether the socket has the server's raw path, then echoes."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(json.dumps({"raw": raw_socket(websocket.scope) is not None}))
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return Starlette(routes=[WebSocketRoute("/", endpoint)])


@contextlib.asynccontextmanager
async def watched_client(
    *, answer_pings: bool, ws_ping_interval: float | None = INTERVAL
) -> AsyncIterator[tuple[Keepalive, RawClient]]:
    """uvicorn serving `keepalive_app` with `FastPings`, its keepalive and one client.

    uvicorn's `ws_ping_interval` is the keepalive's interval: were uvicorn's own ping timer
    running too, the client would get twice the pings.
    """
    async with (
        serve_app(keepalive_app(), lifespan="off", ws_ping_interval=ws_ping_interval,
                  ws=FastPings) as url,
        raw_client(url.replace("http", "ws") + "/", answer_pings=answer_pings) as client,
    ):
        yield for_interval(INTERVAL, STEP), client


async def until_unwatched(keepalive: Keepalive) -> None:
    """Give closed sockets' handlers up to 2 s to let go of them."""
    for _ in range(100):
        if len(keepalive) == 0:
            return
        await asyncio.sleep(0.02)


async def test_answering_client_is_pinged_each_round_and_stays() -> None:
    async with watched_client(answer_pings=True) as (keepalive, client):
        await client.read_for(INTERVAL * 5.5)
        assert json.loads(client.texts[0]) == {"raw": True}
        assert client.close is None
        assert 4 <= client.pings <= 6  # one each round of the slots, none of uvicorn's own
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


async def test_client_that_reads_nothing_is_reset_after_its_close() -> None:
    """A client silent to pings that does not read its close frame either is cut off once
    the grace period ends: the server's end is gone from the kernel, not left waiting."""
    async with serve_app(
        keepalive_app(), lifespan="off", ws_ping_interval=INTERVAL, ws=FastPings
    ) as url:
        port = port_of(url)
        sock = await handshake(port)
        try:
            client_port = sock.getsockname()[1]
            assert tcp_state(port, client_port) == ESTABLISHED
            # A ping on its slot's turn, the close on the next, the reset 0.3 s later.
            await asyncio.sleep(2 * INTERVAL + FastPings.abort_after + 0.6)
            assert tcp_state(port, client_port) is None
            assert len(for_interval(INTERVAL, STEP)) == 0
        finally:
            sock.close()


async def test_no_pings_when_the_server_is_told_not_to_ping() -> None:
    """`--ws-ping-interval 0` (or None) means no keepalive: the socket is not watched."""
    async with watched_client(answer_pings=True, ws_ping_interval=None) as (keepalive, client):
        await client.read_for(INTERVAL * 2)
        assert json.loads(client.texts[0]) == {"raw": True}
        assert client.pings == 0 and len(keepalive) == 0


async def test_live_sockets_are_watched_while_connected(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", secret_key="k"
    )
    await make_db(settings.database_url)
    app = build_app(settings)
    async with serve_app(app, ws_ping_interval=20) as url:
        keepalive = for_interval(20)
        async with (
            joined(url.replace("http", "ws")) as (viewer, _),
            joined(url.replace("http", "ws"), "?token=mod-secret") as (mod, _),
        ):
            assert len(keepalive) == 2
            assert (await viewer.call("ping"))["type"] == "ok"
            assert (await mod.call("ping"))["type"] == "ok"
        await until_unwatched(keepalive)
        assert len(keepalive) == 0
