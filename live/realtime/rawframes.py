"""Whole WebSocket frames written straight to uvicorn's transport, for the fan-out's ticks.

Every viewer of an event gets the same bytes each tick, and server frames are unmasked, so
the complete frame (header and payload) can be built once and written to each viewer's
transport. That skips what costs most per frame on the ASGI path: the middleware `send`
wrappers, the message dict and uvicorn's per-frame serialisation.

Reaching the transport depends on uvicorn internals: the server's own `send` is a bound
method of its `WebSocketsSansIOProtocol`, which holds `transport`, `close_sent` and
`disconnected`. `CaptureServerSend`, placed outermost, keeps that `send` in the scope
before anything wraps it; `raw_socket()` returns None whenever the shape is not the one
pinned (another server, another protocol class, the ASGI test transport, an extension
other than permessage-deflate), and the caller keeps the ASGI path. Under permessage-deflate
raw frames go uncompressed (RSV1 clear), which RFC 7692 allows for any message and which
leaves both sides' compression contexts alone. tests/test_rawframes.py fails loudly when
the internals move.

Once the handshake is done, `trim_accepted()` drops the handshake's request and response
that the protocol would otherwise keep for the connection's life (uvicorn reads them only
until the accept is sent), and swaps its receive queue, an `asyncio.Queue` with four
deques and an event, for a `ReceiveQueue` with one list (together about 5 KiB per idle
viewer).

Raw frames are written only between whole frames the library writes (transport writes are
whole frames, in order), so they never interleave with a snapshot, reply, ping or close.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

# The scope key under which `CaptureServerSend` keeps the server's own `send`.
SERVER_SEND = "salen.server_send"
# What the raw path calls on a transport (uvloop's are not registered as asyncio's ABCs).
TRANSPORT_METHODS = ("write", "get_write_buffer_size", "is_closing", "abort")
# How long a connection closed for being slow may take to read its close frame.
ABORT_AFTER = 10.0


class CaptureServerSend:
    """ASGI middleware (outermost): keeps the server's unwrapped `send` in WebSocket scopes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send  # the connection's own scope: no copy per connection
        await self.app(scope, receive, send)


def text_frame(text: str) -> bytes:
    """One complete, unmasked, final text frame carrying `text`."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def _protocol_class() -> type | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:
        return None
    return WebSocketsSansIOProtocol


class RawSocket:
    """One connection's transport, written to directly; the protocol says when it is closing."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.WriteTransport = protocol.transport

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._transport.get_write_buffer_size()

    def write(self, frame: bytes) -> bool:
        """Write one whole frame; False (nothing written) once the socket is closing."""
        protocol = self._protocol
        if protocol.close_sent or protocol.disconnected or self._transport.is_closing():
            return False
        self._transport.write(frame)
        return True

    def abort_later(self, delay: float = ABORT_AFTER) -> None:
        """Cut the connection in `delay` seconds unless it is gone by then.

        A client that stopped reading never takes its close frame, and a transport with
        unsent data never finishes closing: without this it would be held for ever.
        """
        asyncio.get_running_loop().call_later(delay, self._abort)

    def _abort(self) -> None:
        if not self._protocol.disconnected:
            self._transport.abort()


def sansio_protocol(scope: Scope) -> Any:
    """uvicorn's websockets-sansio protocol behind the connection, or None."""
    protocol = getattr(scope.get(SERVER_SEND), "__self__", None)
    cls = _protocol_class()
    if cls is None or type(protocol) is not cls:
        return None
    return protocol


class ReceiveQueue:
    """What uvicorn's protocol uses of its receive queue, for one reader: a list and a future.

    An `asyncio.Queue` holds four deques (about 600 bytes each, empty) and an event for
    `join()`, `put()` and many readers, none of which the protocol uses.
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self, items: list[Any]) -> None:
        self._items = items
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


def trim_accepted(scope: Scope) -> None:
    """Slim uvicorn's protocol down once the connection is accepted (see the module's doc).

    Call it from the one task that reads the socket, between reads. Nothing happens under
    another server or before the accept.
    """
    protocol = sansio_protocol(scope)
    if protocol is None or not protocol.handshake_complete or protocol.initial_response:
        return
    if getattr(protocol, "response", None) is not None:
        protocol.request = protocol.response = None
    queue = protocol.queue
    if type(queue) is asyncio.Queue:
        items = []
        while not queue.empty():
            items.append(queue.get_nowait())
        protocol.queue = ReceiveQueue(items)


def raw_socket(scope: Scope) -> RawSocket | None:
    """The connection's transport, when the server is uvicorn's websockets-sansio protocol."""
    protocol = sansio_protocol(scope)
    if protocol is None:
        return None
    transport = getattr(protocol, "transport", None)
    conn = getattr(protocol, "conn", None)
    if conn is None or not all(hasattr(transport, name) for name in TRANSPORT_METHODS):
        return None
    extensions = getattr(conn, "extensions", None)
    if not isinstance(extensions, list) or not protocol.handshake_complete:
        return None
    if not all(isinstance(e, PerMessageDeflate) for e in extensions):
        return None  # an extension that might need to see every frame
    return RawSocket(protocol)
