"""Raw tick frames: their encoding, the raw path under Salen's server and its ASGI fallback.

How the server offers the raw path is tested in tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from live.hub import Entry, open_hub
from live.qa.domain import QaStatus
from live.qa.messages import CloseCode, QuestionView, Update, encode
from live.realtime.channels import qa_mod_channel as mod_channel
from live.realtime.channels import qa_public_channel as public_channel
from live.realtime.rawframes import raw_socket, text_frame
from live.settings import Settings
from tests.support.liveserver import serve_app
from tests.support.ws_app import build_app
from tests.support.ws_client import Client, joined, make_db

EVENT = 1  # the "panel" event of make_db


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'raw.db'}",
        secret_key="raw-secret",
        tick_seconds=0.02,
    )


def parse_frame(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        assert reader.at_eof()  # exactly one frame, nothing left over
        frame: Frame = done.value
        return frame
    raise AssertionError("incomplete frame")


def big_update(v: int, size: int) -> bytes:
    question = QuestionView(id=v, v=v, status=QaStatus.APPROVED, text="x" * size)
    return encode(Update(v, [question]))


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 70_000])
def test_text_frame_is_one_final_unmasked_text_frame(size: int) -> None:
    """Every payload length form (7-bit, 16-bit, 64-bit) parses back to the same text."""
    text = "å" * (size // 2) + "x" * (size % 2)
    frame = parse_frame(text_frame(text))
    assert (frame.opcode, frame.fin, bytes(frame.data).decode()) == (Opcode.TEXT, True, text)


async def test_raw_socket_is_found_under_uvicorn() -> None:
    """Under Salen's uvicorn protocol the scope offers the raw path."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("raw" if raw_socket(websocket.scope) else "asgi")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with serve_app(app, lifespan="off") as url, connect(url.replace("http", "ws")) as ws:
        assert await ws.recv() == "raw"


async def test_pushes_go_raw_and_replies_still_arrive(settings: Settings) -> None:
    """Viewers' ticks and the moderator's notices go to their transports; replies (through
    ASGI) and pushes arrive in order on both kinds of connection."""
    await make_db(settings.database_url)
    app = build_app(settings)
    async with (
        serve_app(app) as url,
        joined(url.replace("http", "ws"), "?token=mod-secret") as (mod, _),
        joined(url.replace("http", "ws")) as (viewer, _),
        joined(url.replace("http", "ws")) as (other, _),
    ):
        room = app.state.live.fanout.room(EVENT)
        assert [c.raw_path for c in room.viewers | room.moderators] == [True, True, True]
        for text in ("First?", "Second?"):
            qid = (await mod.call("qa.ask", text=text))["question"]["id"]
            for client in (viewer, other, mod):
                seen = await client.push(lambda m, q=qid: q in {x["id"] for x in m.get("questions", [])})
                assert seen["type"] == "update"
            assert (await viewer.call("ping"))["type"] == "ok"
            assert (await mod.call("ping"))["type"] == "ok"
        assert not any(c.closed for c in room.viewers | room.moderators)


@pytest.mark.parametrize("role", ["viewer", "moderator"])
async def test_slow_client_is_closed_and_others_continue(settings: Settings, role: str) -> None:
    """A websockets client that stops reading (small buffers) gets SLOW; another client of the
    same kind keeps going. Viewers' ticks and moderators' notices both go raw."""
    query = "?token=mod-secret" if role == "moderator" else ""
    channel = mod_channel if role == "moderator" else public_channel
    await make_db(settings.database_url)
    async with open_hub("memory://") as hub:
        app = build_app(settings, hub=hub)
        async with serve_app(app) as url:
            base = url.replace("http", "ws")
            port = int(url.rsplit(":", 1)[1])
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            async with (
                connect(f"{base}/ws/events/panel{query}", sock=sock, max_queue=1) as slow_ws,
                joined(base, query) as (fast, _),
            ):
                slow = Client(slow_ws)
                assert (await slow.read())["type"] == "snapshot"  # then it reads nothing
                room = app.state.live.fanout.room(EVENT)
                conns = room.moderators if role == "moderator" else room.viewers
                assert len(conns) == 2 and all(c.raw_path for c in conns)
                v = 0
                while not any(c.closed for c in conns) and v < 2000:
                    v += 1
                    await hub.publish(channel(EVENT), Entry(v, v - 1, big_update(v, 60_000)))
                    await fast.push(lambda m, v=v: m.get("v") == v)
                v += 1
                await hub.publish(channel(EVENT), Entry(v, v - 1, big_update(v, 10)))
                assert (await fast.push(lambda m, v=v: m.get("v") == v))["type"] == "update"
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await slow.read()
    assert v < 2000
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.SLOW


class AsgiSocket:
    """One WebSocket driven through the ASGI interface in-process, as test transports do."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.outgoing.put(message)

    async def read(self) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(self.outgoing.get(), 10)
            if message["type"] == "websocket.send":
                decoded: dict[str, Any] = json.loads(message["text"])
                return decoded


@contextlib.asynccontextmanager
async def asgi_socket(app: Starlette, state: dict[str, Any], query: bytes) -> AsyncIterator[AsgiSocket]:
    """Open /ws/events/panel on `app` without a server."""
    sock = AsgiSocket()
    scope = {"type": "websocket", "path": "/ws/events/panel", "raw_path": b"/ws/events/panel",
             "root_path": "", "query_string": query, "headers": [], "subprotocols": [],
             "client": ("127.0.0.1", 5000), "server": ("test", 80), "state": dict(state)}
    await sock.incoming.put({"type": "websocket.connect"})
    task = asyncio.create_task(app(scope, sock.receive, sock.send))
    try:
        yield sock
    finally:
        await sock.incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, 10)


async def test_asgi_test_transport_falls_back(settings: Settings) -> None:
    """Without the server's raw extension in the scope, ticks take the ASGI path and arrive."""
    await make_db(settings.database_url)
    app = build_app(settings)
    async with (
        app.router.lifespan_context(app) as state,
        asgi_socket(app, state, b"token=mod-secret") as mod,
        asgi_socket(app, state, b"") as viewer,
    ):
        assert (await mod.read())["type"] == (await viewer.read())["type"] == "snapshot"
        room = app.state.live.fanout.room(EVENT)
        assert len(room.viewers) == 1 and not any(c.raw_path for c in room.viewers)
        ask = {"type": "qa.ask", "id": 1, "text": "Through ASGI?"}
        await mod.incoming.put({"type": "websocket.receive", "text": json.dumps(ask)})
        push = await viewer.read()
        assert push["type"] == "update" and push["questions"][0]["text"] == "Through ASGI?"
