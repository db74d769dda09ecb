"""The uvicorn fence: how `salen serve` runs uvicorn, and the only module that touches its
internals (uvicorn 0.55; tests/test_server.py checks the behaviour relied on here).

- `SalenWebSocket`, given to uvicorn through its documented `ws=` setting, is its
  websockets-sansio protocol with three changes for large audiences. It offers each
  connection a `SalenSocket` in `scope["extensions"]["salen.raw"]`, which writes whole
  frames straight to the transport (the `RawSocket` contract of `live.realtime.rawframes`)
  and answers the keepalive's pings (`live.realtime.keepalive`): the socket is pinged on the
  shared beat instead of by two timers of its own. It keeps its receive events in a
  `ReceiveQueue` (one list) instead of an `asyncio.Queue` (four deques and an event), and it
  lets go of the handshake's response once the accept is written: about 5 KiB less per idle
  viewer.
- A connection given up on (too slow for the fan-out, or silent to pings) is set at once to
  be reset when closed (SO_LINGER 0), gets its close frame and `ABORT_AFTER` seconds to
  read it, and is then aborted. However it ends (uvicorn's own close timer, the peer's close,
  the abort), its kernel buffers are freed at once rather than held in FIN_WAIT1 while the
  peer reads nothing. (A close frame still in the kernel when the socket closes is lost
  with the rest: such a peer was not reading.)
- `Server` wakes once a second on the beat (a stop request, the `Date` header) instead of
  ten times a second, and at once on a signal. With `--workers` above 1 uvicorn's
  supervisor builds its own servers in the workers, and those keep uvicorn's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
import struct
import sys
from types import FrameType
from typing import Any, ClassVar, cast

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import STARTUP_FAILURE
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import Request

from live.realtime.beat import next_beat
from live.realtime.keepalive import Keepalive, for_interval
from live.realtime.rawframes import RAW_EXTENSION

# Seconds a connection given up on has to read its close frame before it is reset.
ABORT_AFTER = 10.0
# uvicorn's `on_tick(counter)` refreshes the Date header when `counter % 10 == 0`.
TICKS_PER_WAKE = 10
WAKE_SECONDS = 1.0
PING_TIMEOUT = (1011, "keepalive ping timeout")  # as uvicorn closes a silent socket


class ReceiveQueue:
    """What uvicorn's protocol uses of its receive queue, for one reader: a list and a future."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
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


class QuietLog:
    """A socket's logger without the INFO lines uvicorn and `websockets` write for every
    accepted WebSocket; everything else goes to `logger`.

    In a reconnect storm those lines were thousands a second, each a `LogRecord` made and
    formatted only to be dropped (and the log's bulk when they were kept).
    """

    QUIET = frozenset({'%s - "WebSocket %s" [accepted]', "connection open", "connection closed"})

    __slots__ = ("_logger",)

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if msg not in self.QUIET:
            self._logger.info(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


class SalenSocket:
    """One connection's raw frames and pings (`RawSocket` and `Pinged`), for its protocol."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: SalenWebSocket) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport

    def _closing(self) -> bool:
        protocol = self._protocol
        return protocol.close_sent or protocol.disconnected or self._transport.is_closing()

    def write(self, frame: bytes) -> bool:
        # Once per viewer and tick: the checks are inlined. uvicorn writes its frames whole
        # too, so this one falls between two of them.
        protocol, transport = self._protocol, self._transport
        if protocol.close_sent or protocol.disconnected or transport.is_closing():
            return False
        if not protocol.handshake_complete:
            return False
        transport.write(frame)
        return True

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()

    def abort_later(self) -> None:
        self._reset_on_close()
        self._protocol.loop.call_later(self._protocol.abort_after, self.reset)

    def _reset_on_close(self) -> None:
        """Whoever closes the socket from now on resets it: the kernel drops its buffers."""
        sock = self._transport.get_extra_info("socket")
        if sock is not None and not self._protocol.disconnected:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def reset(self) -> None:
        """Cut the connection now, dropping what the kernel still holds for it."""
        if self._protocol.disconnected:
            return
        self._reset_on_close()
        self._transport.abort()

    def ping(self, frame: bytes, payload: bytes) -> bool:
        protocol = self._protocol
        if self._closing():
            return True  # it leaves the keepalive when the connection is lost
        if protocol.pending_ping_payload is not None:
            self._time_out()
            return False
        # uvicorn's `handle_pong` clears the pending payload when its pong comes back.
        protocol.pending_ping_payload = payload
        protocol.ping_sent_at = protocol.loop.time()
        self._transport.write(frame)
        return True

    def _time_out(self) -> None:
        """Close as uvicorn's own keepalive does, but reset if the close is never read."""
        protocol = self._protocol
        protocol.pending_ping_payload = None
        code, reason = PING_TIMEOUT
        with contextlib.suppress(InvalidState):
            protocol.conn.send_close(code, reason)
        self._transport.write(b"".join(protocol.conn.data_to_send()))
        protocol.close_sent = True
        protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if protocol.read_paused:  # so that the peer's close reply is read
            protocol.read_paused = False
            self._transport.resume_reading()
        # The peer's close reply cancels this and closes (uvicorn's `handle_close`).
        self._reset_on_close()
        protocol.close_timer = protocol.loop.call_later(protocol.abort_after, self.reset)


class SalenWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol with raw frames, beat pings and a slim footprint."""

    # Seconds between two visits of the keepalive's slots: the beat.
    ping_step: ClassVar[float] = 1.0
    abort_after: ClassVar[float] = ABORT_AFTER

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.logger = self.conn.logger = QuietLog(self.logger)  # type: ignore[assignment]
        self.queue = ReceiveQueue()  # type: ignore[assignment]  # what uvicorn uses of a Queue
        self._salen: SalenSocket | None = None
        self._keepalive: Keepalive | None = None

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.handshake_initiated and not self.close_sent:  # the app will run
            self._salen = SalenSocket(self)
            extensions = cast("dict[str, object]", self.scope["extensions"])
            extensions[RAW_EXTENSION] = self._salen

    def start_keepalive(self) -> None:
        # uvicorn calls this once the accept is written: the handshake is over, and its
        # request and response (read only until then) need not live as long as the socket
        # (the request stays referenced by the `websockets` parser all the same).
        del self.request, self.response
        if self.ping_interval and self._salen is not None:
            self._keepalive = for_interval(self.ping_interval, self.ping_step)
            self._keepalive.add(self._salen)

    def stop_keepalive(self) -> None:
        super().stop_keepalive()
        if self._keepalive is not None and self._salen is not None:
            self._keepalive.discard(self._salen)
            self._keepalive = None


class Server(uvicorn.Server):
    """uvicorn's server, waking once a second (or on a signal) instead of ten times, and
    removing its Unix socket (`unix_path`) when it shuts down."""

    def __init__(self, config: uvicorn.Config, unix_path: str | None = None) -> None:
        super().__init__(config)
        self.unix_path = unix_path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # Here, not after `run`: uvicorn ends the process with the signal that stopped it.
        if self.unix_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.unix_path)

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(next_beat(self._loop, WAKE_SECONDS)):
                    await self._wake.wait()
            counter = (counter + TICKS_PER_WAKE) % 864_000

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            # A signal handler may run between any two bytecodes; this only queues the wake-up.
            self._loop.call_soon_threadsafe(self._wake.set)


def proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's proxy settings for `SALEN_TRUSTED_PROXIES`: with none, no client's
    X-Forwarded-* headers are believed (uvicorn's own default believes 127.0.0.1's)."""
    trusted = ",".join(p.strip() for p in trusted_proxies.split(",") if p.strip())
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def run(app: str, *, workers: int = 1, uds: str | None = None, **options: Any) -> None:
    """`uvicorn.run(app, **options)` with `SalenWebSocket`, through `Server` in one process;
    with `uds`, listening on that Unix socket as well as on the host and port."""
    options["ws"] = SalenWebSocket
    if workers > 1:
        uvicorn.run(app, workers=workers, **options)
        return
    config = uvicorn.Config(app, **options)
    server = Server(config, uds)
    sockets = None if uds is None else [config.bind_socket(), bind_unix(uds, config.backlog)]
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def unix_path_problem(path: str) -> str | None:
    """Why `bind_unix` could not listen at `path` (None: it can)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.lexists(path) and not stat.S_ISSOCK(os.lstat(path).st_mode):
        return f"{path} exists and is not a socket"
    if _listening(path):
        return f"another process listens on {path}"
    if not os.path.isdir(folder):
        return f"{folder} does not exist (deploy/systemd/salen@.service makes /run/salen)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable by this user"
    if len(os.fsencode(path)) > 107:
        return f"{path} is too long for a Unix socket (107 bytes at most)"
    return None


def bind_unix(path: str, backlog: int) -> socket.socket:
    """A listening Unix socket at `path`, for the owner and group only (mode 0660): who may
    connect is who `UnixSocketProxy` believes. A socket left by a crashed worker is
    replaced; any other file there is an error."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise OSError(f"{path} exists and is not a socket")
        if _listening(path):
            raise OSError(f"another process listens on {path}")
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o117)  # created 0660: no moment when others may connect
    try:
        sock.bind(path)
    finally:
        os.umask(umask)
    sock.listen(backlog)
    return sock


def _listening(path: str) -> bool:
    """Does a process accept connections on the Unix socket `path` (not a crash's leftover)?"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


class UnixSocketProxy:
    """Believes X-Forwarded-For and X-Forwarded-Proto on connections through a Unix socket.

    nginx on the same machine reaches the workers through `salen serve --uds` (a Unix
    socket costs a frame a third less than loopback TCP, on both sides). uvicorn's proxy
    trust goes by the client's IP address, which such a connection has not; only those
    who may open the socket file (nginx, by its group) can connect, so what they say of
    the client is taken as uvicorn takes it from a trusted proxy. Connections over TCP are
    left to `SALEN_TRUSTED_PROXIES` (`proxy_options`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.trusting = ProxyHeadersMiddleware(app, trusted_hosts="*")  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope.get("client") is None and server is not None and server[1] is None:
            await self.trusting(scope, receive, send)  # type: ignore[arg-type]
        else:
            await self.app(scope, receive, send)
