"""The uvicorn fence (live/server.py), by behaviour on a real uvicorn server on loopback.

What Salen relies on of uvicorn is checked here by what a client sees and what the kernel
holds, never by uvicorn's source text: raw frames arrive whole and in order with the
protocol's own; the handshake and an `asyncio.Queue` are not kept per socket; a reader
that stops reading is closed and then reset; the server's main loop wakes on the beat and
stops at once on a signal. tests/test_keepalive.py covers pings and their timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from live import server as live_server
from live.realtime.beat import sleep_until
from live.realtime.rawframes import raw_socket, text_frame
from live.server import ReceiveQueue, SalenWebSocket, Server
from tests.support.liveserver import serve_app
from tests.support.sockets import ESTABLISHED, accepted, ask, handshake, port_of, tcp_state


def test_uvicorn_is_a_version_the_fence_was_tested_on() -> None:
    """live/server.py was written against uvicorn 0.55: another version needs this suite
    to pass on it before pyproject.toml allows it."""
    assert uvicorn.__version__.startswith("0.55.")


async def test_raw_frames_arrive_whole_and_in_order_with_the_protocols_own() -> None:
    """ASGI sends and raw writes, large and small, reach the client whole and in the order
    they were made; once the socket is closed a raw write is refused."""
    refused: list[bool] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raw = raw_socket(websocket.scope)
        assert raw is not None
        await websocket.send_text("reply 1")
        raw.write(text_frame("raw 1 " + "x" * 200_000))
        await websocket.send_text("reply 2")
        raw.write(text_frame("raw 2"))
        raw.write(text_frame("raw 3 " + "é" * 70_000))
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()
        refused.append(not raw.write(text_frame("too late")))

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with (
        serve_app(app, lifespan="off") as url,
        connect(url.replace("http", "ws"), max_size=None) as ws,
    ):
        await asyncio.sleep(0.2)  # everything is written before anything is read
        await ws.send("echo")
        got = [await ws.recv() for _ in range(6)]
    assert [str(m)[:7] for m in got] == ["reply 1", "raw 1 x", "reply 2", "raw 2", "raw 3 é", "echo"]
    assert (len(got[1]), len(got[4])) == (200_006, 70_006)
    assert refused == [True]


async def test_no_raw_socket_under_another_protocol() -> None:
    """uvicorn's stock protocol offers no raw path: `raw_socket` says so (None)."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("raw" if raw_socket(websocket.scope) else "asgi")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    for ws, expected in ((SalenWebSocket, "raw"), ("websockets-sansio", "asgi")):
        async with (
            serve_app(app, lifespan="off", ws=ws) as url,
            connect(url.replace("http", "ws")) as client,
        ):
            assert await client.recv() == expected


def live_objects(kind: type) -> int:
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


async def open_idle_sockets(ws: type[asyncio.Protocol] | str, count: int) -> tuple[int, int, int]:
    """Open `count` sockets; count the handshake responses kept before and after the accept
    and the `asyncio.Queue`s the accepted sockets hold (the client side makes neither)."""
    accept = asyncio.Event()
    done: list[int] = []

    async def endpoint(websocket: WebSocket) -> None:
        await accept.wait()
        await websocket.accept()
        done.append(1)
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.send_text(await websocket.receive_text())

    app = Starlette(routes=[WebSocketRoute("/idle", endpoint)])
    async with serve_app(app, lifespan="off", ws=ws) as url:
        queues_before = live_objects(asyncio.Queue)
        socks = [await ask(port_of(url), "idle") for _ in range(count)]
        try:
            await asyncio.sleep(0.2)
            before_accept = live_objects(Response)
            accept.set()
            for sock in socks:
                await accepted(sock)
            while len(done) < count:
                await asyncio.sleep(0.01)
            after_accept = live_objects(Response)
            queues = live_objects(asyncio.Queue) - queues_before
        finally:
            for sock in socks:
                sock.close()
    return before_accept, after_accept, queues


async def test_accepted_sockets_keep_neither_handshake_response_nor_asyncio_queue() -> None:
    """Salen's protocol holds the handshake's response only until the accept, and its receive
    events in a plain list; uvicorn's own keeps both for the socket's life (the control).
    (The request stays with the `websockets` parser, which uvicorn drives.)"""
    assert await open_idle_sockets(SalenWebSocket, 5) == (5, 0, 0)
    assert await open_idle_sockets("websockets-sansio", 5) == (5, 5, 5)


@pytest.mark.parametrize("protocol", [SalenWebSocket, "websockets-sansio"])
async def test_accepted_sockets_write_no_log_line_each(protocol: Any) -> None:
    """Salen's sockets leave out the INFO lines uvicorn and `websockets` write for each
    accepted socket ("[accepted]", "connection open/closed"; thousands in a reconnect storm);
    a refused handshake is still logged. uvicorn's own protocol (the control) writes them."""

    async def endpoint(websocket: WebSocket) -> None:
        if websocket.query_params.get("refuse"):
            await websocket.close()  # before the accept: a 403
            return
        await websocket.accept()
        await websocket.close()

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with serve_app(app, lifespan="off", ws=protocol) as url:
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        try:
            async with connect(url.replace("http", "ws") + "/") as ws:
                await ws.wait_closed()
            with pytest.raises(InvalidStatus):
                async with connect(url.replace("http", "ws") + "/?refuse=1"):
                    pass
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
    lines = [record.getMessage() for record in records]
    per_socket = [line for line in lines
                  if "[accepted]" in line or line in ("connection open", "connection closed")]
    assert any('"WebSocket /?refuse=1" 403' in line for line in lines), lines
    assert bool(per_socket) == (protocol != SalenWebSocket), lines


async def test_socket_without_its_handshake_still_works_both_ways() -> None:
    """After the accept frames still go both ways and the close handshake completes."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        for _ in range(3):
            await websocket.send_text(json.dumps(await websocket.receive_json()))
        await websocket.close(4000, "done")

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with serve_app(app, lifespan="off") as url, connect(url.replace("http", "ws")) as ws:
        for n in range(3):
            await ws.send(json.dumps({"n": n}))
            assert json.loads(await ws.recv()) == {"n": n}
        await ws.wait_closed()
        assert ws.close_code == 4000 and ws.close_reason == "done"


async def test_receive_queue_hands_items_over_in_order() -> None:
    """Items put before and while a reader waits come out in order; a cancelled read loses none."""
    queue = ReceiveQueue()
    queue.put_nowait("a")
    queue.put_nowait("b")
    assert [await queue.get(), await queue.get()] == ["a", "b"]
    assert queue.empty()
    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("c")
    assert await reader == "c"
    cancelled = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cancelled
    queue.put_nowait("d")
    assert await queue.get() == "d"


class QuickAbort(SalenWebSocket):
    abort_after = 0.3


async def test_slow_reader_is_closed_then_reset_freeing_its_buffers() -> None:
    """A reader that stops reading is dropped as the fan-out drops one (close, then
    `abort_later`): after the grace period its server end is gone from the kernel, not left
    in FIN_WAIT1 holding the unsent frames."""
    dropped = asyncio.Event()
    ended = asyncio.Event()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raw = raw_socket(websocket.scope)
        assert raw is not None
        frame = text_frame("x" * 65_536)
        while raw.buffered() <= 256 * 1024:  # the fan-out's MAX_BUFFER
            assert raw.write(frame)
            await asyncio.sleep(0)
        closing = asyncio.create_task(websocket.close(4008, "too slow"))
        raw.abort_later()
        dropped.set()
        with contextlib.suppress(Exception):
            await closing
        ended.set()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with serve_app(app, lifespan="off", ws=QuickAbort) as url:
        port = port_of(url)
        sock = await handshake(port, rcvbuf=4096)
        try:
            await asyncio.wait_for(dropped.wait(), 10)
            client_port = sock.getsockname()[1]
            assert tcp_state(port, client_port) == ESTABLISHED  # the frames still unsent
            await asyncio.sleep(QuickAbort.abort_after + 0.5)
            assert tcp_state(port, client_port) is None
            await asyncio.wait_for(ended.wait(), 5)
        finally:
            sock.close()


class EarlyClose(SalenWebSocket):
    """uvicorn's close timer fires before Salen's abort: the transport closes first."""

    abort_after = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.close_timeout = 0.2


async def test_slow_reader_closed_before_its_abort_is_reset_not_left_in_fin_wait() -> None:
    """A reader that stops reading, dropped, whose transport uvicorn closes before the abort
    (its frames all handed to the kernel) is reset all the same: its server end is gone
    within the grace period, not held in FIN_WAIT1 with the unsent frames."""
    dropped = asyncio.Event()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raw = raw_socket(websocket.scope)
        assert raw is not None
        frame = text_frame("x" * 65_536)
        for _ in range(16):  # about 1 MB, most of it taken by the kernel
            assert raw.write(frame)
            await asyncio.sleep(0)
        raw.abort_later()  # as `Conn.give_up` does, then the close and the app's return
        with contextlib.suppress(Exception):
            await websocket.close(4008, "too slow")
        dropped.set()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with serve_app(app, lifespan="off", ws=EarlyClose) as url:
        port = port_of(url)
        sock = await handshake(port, rcvbuf=4096)
        try:
            await asyncio.wait_for(dropped.wait(), 10)
            client_port = sock.getsockname()[1]
            async with asyncio.timeout(EarlyClose.abort_after + 5):
                while tcp_state(port, client_port) is not None:
                    await asyncio.sleep(0.05)
        finally:
            sock.close()


class QuietServer(Server):
    """Salen's server, leaving pytest's signal handlers alone and noting each wake-up."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ticks: list[float] = []

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def on_tick(self, counter: int) -> bool:
        self.ticks.append(asyncio.get_running_loop().time())
        return await super().on_tick(counter)


@contextlib.asynccontextmanager
async def running(server: uvicorn.Server) -> AsyncIterator[asyncio.Task[None]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done()
            await asyncio.sleep(0.01)
        yield task
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def test_server_wakes_on_the_beat_and_stops_at_once_on_a_signal() -> None:
    """`Server` runs its own main loop (uvicorn's wakes ten times a second): about once a
    second, on the whole second; a signal mid-second stops it without waiting for the beat."""
    loop = asyncio.get_running_loop()
    app = Starlette(routes=[])
    server = QuietServer(uvicorn.Config(app, log_config=None, lifespan="off"))
    async with running(server) as task:
        await sleep_until(math.floor(loop.time()) + 2.1)
        beats = server.ticks[1:]  # the first runs at once, on start
        assert 1 <= len(beats) <= 3, server.ticks
        assert all(when - math.floor(when) < 0.25 for when in beats), beats
        asked = loop.time()
        server.handle_exit(signal.SIGINT, None)
        await asyncio.wait_for(task, 5)
        assert loop.time() - asked < 0.5


def test_salen_serve_runs_salens_protocol_on_salens_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`live.server.run` (what `salen serve` calls) gives uvicorn `SalenWebSocket` and runs
    `Server`, whatever the caller passes."""
    ran: list[uvicorn.Config] = []

    def fake_run(self: Server, sockets: Any = None) -> None:
        ran.append(self.config)
        self.started = True

    monkeypatch.setattr(Server, "run", fake_run)
    live_server.run("live.app:create_app", factory=True, ws="websockets-sansio")
    assert [config.ws for config in ran] == [SalenWebSocket]
