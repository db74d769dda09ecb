"""One WebSocket as the fan-out (`live.realtime.fanout`) sees it: non-blocking writes.

Writes never wait for a slow client. `Conn.send` starts the ASGI send and, in the usual
case where the socket is writable, it completes without suspending, so no task per viewer
exists. Only a connection whose socket is momentarily blocked gets a writer task, which
finishes that send and drains a small bounded backlog; a connection whose backlog overflows
is closed with `CloseCode.SLOW` and must reconnect and resync. There is no other
backpressure: a slow viewer never stalls the tick or the other viewers.

Under uvicorn pushes skip the ASGI path altogether: a viewers' tick, or a moderators'
notice, is framed once and written to each connection's transport (`live.realtime.rawframes`),
and a connection whose transport holds more than `MAX_BUFFER` unsent bytes is closed with
`CloseCode.SLOW` the same way (and cut off if it never reads its close). That happens only
while nothing of the library's own is waiting to be sent for the connection, so raw frames
never overtake a snapshot or a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from live.realtime.envelope import CloseCode
from live.realtime.rawframes import RawSocket

# Frames a blocked connection may have waiting before it is dropped.
MAX_BACKLOG = 16
# Unsent bytes a viewer's transport may hold on the raw path before it is dropped.
MAX_BUFFER = 256 * 1024
# Pushes held for a connection while its snapshot is being prepared.
MAX_EARLY = 256

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
Close = Callable[[int, str], Awaitable[None]]


class Conn:
    """One WebSocket as the fan-out sees it: non-blocking writes with a bounded backlog."""

    # Thousands of idle viewers each hold one: no per-instance dict.
    __slots__ = (
        "_backlog", "_close", "_closing", "_early", "_max_backlog", "_max_buffer", "_raw",
        "_ready", "_send", "_writer", "blocked_writes", "closed", "cursor", "moderator",
        "synced_v",
    )

    def __init__(
        self,
        send: Send,
        close: Close,
        *,
        moderator: bool = False,
        max_backlog: int = MAX_BACKLOG,
        raw: RawSocket | None = None,
        max_buffer: int = MAX_BUFFER,
    ) -> None:
        self.moderator = moderator
        self.closed = False
        self.synced_v = 0
        # The room's notices up to this position have been written (or were already known).
        self.cursor = 0
        # How often a write found the socket blocked and needed a writer task.
        self.blocked_writes = 0
        self._send = send
        self._close = close
        self._max_backlog = max_backlog
        # A list, not a deque: at most `max_backlog` short, and an empty deque costs 600 bytes
        # on every idle viewer.
        self._backlog: list[dict[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._ready = True
        self._early: list[tuple[dict[str, Any], int, bytes | None]] = []
        # Pushes (viewers' ticks, moderators' notices) go raw when they can; the rest is ASGI.
        self._raw = raw
        self._max_buffer = max_buffer

    def twin(self) -> Conn:
        """Another `Conn` on the same socket, for a second fan-out (its own cursor and
        version); it writes through the ASGI path only, so its frames never race raw ones."""
        return Conn(self._send, self._close, moderator=self.moderator,
                    max_backlog=self._max_backlog)

    @property
    def raw_path(self) -> bool:
        """Are this connection's ticks written straight to its transport (`live.realtime.rawframes`)?"""
        return self._raw is not None

    # --- versioned pushes ------------------------------------------------------------------

    def begin_sync(self) -> None:
        """Hold pushes until `synced` (a snapshot or replay is being prepared)."""
        self._ready = False
        self._early = []

    def synced(self, v: int, first: str | None) -> None:
        """Send the snapshot/replay `first` for version `v`, then the held pushes newer than it."""
        self.synced_v = v
        if first is not None:
            self.send(first)
        self._ready = True
        early, self._early = self._early, []
        for message, pushed_v, frame in early:
            if pushed_v > v:
                self.send_message(message, frame)

    def push(self, message: dict[str, Any], v: int, frame: bytes | None = None) -> None:
        """Send a push of version `v` unless the connection already has that version.

        `frame` is the same push as a whole WebSocket frame, for the raw path.
        """
        if not self._ready:
            if len(self._early) >= MAX_EARLY:
                self.drop(CloseCode.SLOW, "resync")
                return
            self._early.append((message, v, frame))
        elif v > self.synced_v:
            self.send_message(message, frame)

    def side(self, message: dict[str, Any], frame: bytes) -> None:
        """Send a side frame (`Side`) once the first frame is out; before, it is skipped."""
        if self._ready:
            self.send_message(message, frame)

    # --- writing ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Write one text frame now, or queue it behind a blocked write."""
        self.send_message({"type": "websocket.send", "text": text})

    def send_message(self, message: dict[str, Any], frame: bytes | None = None) -> None:
        """Write one ASGI message (shared between connections, never mutated), or its frame."""
        if self.closed:
            return
        if self._writer is None and frame is not None and self._raw is not None:
            self._write_raw(self._raw, frame)
            return
        if self._writer is not None:
            if len(self._backlog) >= self._max_backlog:
                self.give_up()
                return
            self._backlog.append(message)
            return
        coro = self._send(message)
        # Start the send eagerly (what Python 3.12's eager tasks do): a writable socket
        # completes it at once; only a blocked one needs a task to finish it.
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001  (whatever the server raises, the socket is gone)
            self.closed = True
            return
        self.blocked_writes += 1
        self._writer = asyncio.create_task(self._finish(coro, waiting))

    def _write_raw(self, raw: RawSocket, frame: bytes) -> None:
        # Nothing of the library's is queued (no writer): the frame goes after whole frames.
        if raw.buffered() > self._max_buffer:
            self.give_up()
        elif not raw.write(frame):
            self.closed = True

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            while True:
                if waiting is None:
                    await asyncio.sleep(0)
                else:
                    await asyncio.wait((waiting,))
                try:
                    waiting = coro.send(None)
                except StopIteration:
                    break
            while self._backlog and not self.closed:
                await self._send(self._backlog.pop(0))
        except asyncio.CancelledError:
            coro.close()
            raise
        except Exception:  # noqa: BLE001  (whatever the server raises, the socket is gone)
            self.closed = True
        finally:
            self._writer = None

    def give_up(self) -> None:
        """Close a connection too slow to keep up; cut it at the transport if it stays."""
        if self.closed:
            return
        self.drop(CloseCode.SLOW, "too slow; reconnect and resync")
        if self._raw is not None:
            self._raw.abort_later()

    def drop(self, code: int, reason: str) -> None:
        """Stop writing to this connection and close it with `code`."""
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self._early = []
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
        # Keep a reference: the close runs on its own, the connection is already forgotten.
        self._closing = asyncio.create_task(self._close_quietly(code, reason))

    async def _close_quietly(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._close(code, reason)

    async def aclose(self) -> None:
        """Cancel a pending writer (the connection is going away)."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
