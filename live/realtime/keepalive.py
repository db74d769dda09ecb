"""Keepalive pings for the live sockets of one process, a slice of them each second.

uvicorn pings every WebSocket on timers of its own: one for the next ping and one for the
pong's deadline, each firing on its own. With 1,000 viewers that is some hundred wake-ups of
the event loop a second for pings and pongs, and it measured 3.4 ms of CPU a second: a fifth
of everything the server spent fanning out one change a second to those viewers (bench/).

A `Keepalive` takes the live sockets over from uvicorn (`watch`) and spreads them over
`interval` one-second slots. Once a second, on the whole second (`live.realtime.beat`, shared with
the server's main loop), it visits one slot: a socket that has not
answered the ping of its previous turn is closed the way uvicorn closes it (1011, keepalive
ping timeout), every other gets a ping frame built once for the slot. Their pongs come
back together and are still taken by uvicorn (`handle_pong` clears the pending ping), so
a dead client is found 20 to 40 seconds after its last sign of life, as before.

This reads and writes the same uvicorn internals as `live.realtime.rawframes` (pinned there, and
tested in tests/test_keepalive.py); under any other server `watch` leaves the socket alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from collections.abc import Iterator
from typing import Any, Self

from starlette.types import Scope
from websockets.frames import Frame, Opcode

from live.realtime.beat import next_beat, sleep_until
from live.realtime.rawframes import RawSocket, sansio_protocol

# uvicorn's own default ping interval (and pong timeout), in seconds.
INTERVAL = 20.0


class Keepalive:
    """Pings watched sockets every `interval` seconds, one slot of them each `step`."""

    def __init__(self, interval: float = INTERVAL, step: float = 1.0) -> None:
        self._step = step
        self._slots: list[set[Any]] = [set() for _ in range(max(1, round(interval / step)))]
        self._next = 0  # the slot of the next socket watched
        self._turn = 0  # the slot visited next
        self._task: asyncio.Task[None] | None = None
        self._watching = asyncio.Event()  # set while any socket is watched

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="salen-keepalive")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._slots)

    @contextlib.contextmanager
    def watch(self, scope: Scope) -> Iterator[bool]:
        """Ping this accepted socket from here on, instead of uvicorn, until the block ends.

        Yields whether it was taken over: not under another server, and not when uvicorn
        runs without pings (`ws_ping_interval` None or 0; any other value of it only says
        that sockets are pinged: the interval is this object's).
        """
        protocol = sansio_protocol(scope)
        if protocol is None or not protocol.handshake_complete or not protocol.ping_interval:
            yield False
            return
        protocol.stop_keepalive()
        slot = self._slots[self._next]
        self._next = (self._next + 1) % len(self._slots)
        slot.add(protocol)
        self._watching.set()
        try:
            yield True
        finally:
            slot.discard(protocol)

    def sweep(self) -> None:
        """Visit the next slot: close the sockets that never answered, ping the others."""
        slot = self._slots[self._turn]
        self._turn = (self._turn + 1) % len(self._slots)
        if not slot:
            return
        payload = struct.pack("!I", random.getrandbits(32))
        frame = Frame(Opcode.PING, payload).serialize(mask=False, extensions=[])
        now = asyncio.get_running_loop().time()
        for protocol in list(slot):
            if protocol.close_sent or protocol.disconnected or protocol.transport.is_closing():
                continue
            if protocol.pending_ping_payload is not None:
                slot.discard(protocol)
                protocol.keepalive_timeout()
                # A client that stopped answering will not read its close frame either.
                RawSocket(protocol).abort_later()
                continue
            protocol.pending_ping_payload = payload
            protocol.ping_sent_at = now
            protocol.transport.write(frame)  # between whole frames (live.realtime.rawframes)

    async def _run(self) -> None:
        while True:
            if not any(self._slots):  # an idle server sleeps (live/realtime/server.py)
                self._watching.clear()
                await self._watching.wait()
            # On the beat the server's main loop wakes on too: one wake-up for both.
            await sleep_until(next_beat(asyncio.get_running_loop(), self._step))
            self.sweep()
