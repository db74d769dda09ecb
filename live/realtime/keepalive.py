"""Keepalive pings for the WebSockets of one event loop, a slice of them each beat.

A server that pings every socket on timers of its own (one for the next ping, one for the
pong's deadline) wakes the event loop some hundred times a second for 1,000 viewers. Here
the sockets are spread over `interval / step` slots and, once a `step` on the shared beat
(`live.realtime.beat`, the server's main loop wakes on it too), one slot is visited: each of
its sockets gets the same ping frame, built once for the slot, or is closed when it left
the ping of its previous turn unanswered. A dead client is found one to two intervals after
its last sign of life.

A socket is anything with a `ping(frame, payload)` method (`Pinged`): the server's protocol
class (`live.server`) adds itself with `for_interval(...).add(...)` once its handshake is
done and discards itself when it goes. The sweeping task runs only while sockets are
watched, so an idle server sleeps.
"""

from __future__ import annotations

import asyncio
import random
import struct
import weakref
from typing import Protocol

from websockets.frames import Frame, Opcode

from live.realtime.beat import next_beat, sleep_until


class Pinged(Protocol):
    """A socket the keepalive pings."""

    def ping(self, frame: bytes, payload: bytes) -> bool:
        """Write `frame` (a whole ping carrying `payload`) and return True, or, when the
        previous ping is still unanswered, close the socket for it and return False."""
        ...


class Keepalive:
    """Pings its sockets every `interval` seconds, one slot of them each `step`."""

    def __init__(self, interval: float, step: float = 1.0) -> None:
        self._step = step
        self._slots: list[set[Pinged]] = [set() for _ in range(max(1, round(interval / step)))]
        self._next = 0  # the slot of the next socket added
        self._turn = 0  # the slot visited next
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._slots)

    def add(self, sock: Pinged) -> None:
        """Ping `sock` from the next round of its slot on."""
        self._slots[self._next].add(sock)
        self._next = (self._next + 1) % len(self._slots)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="salen-keepalive")

    def discard(self, sock: Pinged) -> None:
        """Stop pinging `sock` (nothing happens if it is not watched)."""
        for slot in self._slots:
            slot.discard(sock)
        if self._task is not None and not any(self._slots):
            self._task.cancel()  # an idle server sleeps
            self._task = None

    def sweep(self) -> None:
        """Visit the next slot: ping its sockets, closing those that never answered."""
        slot = self._slots[self._turn]
        self._turn = (self._turn + 1) % len(self._slots)
        if not slot:
            return
        payload = struct.pack("!I", random.getrandbits(32))
        frame = Frame(Opcode.PING, payload).serialize(mask=False, extensions=[])
        for sock in list(slot):
            if not sock.ping(frame, payload):
                self.discard(sock)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # On the beat the server's main loop wakes on too: one wake-up for both.
            await sleep_until(next_beat(loop, self._step))
            self.sweep()


_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[float, float], Keepalive]]
_shared = weakref.WeakKeyDictionary()


def for_interval(interval: float, step: float = 1.0) -> Keepalive:
    """The running loop's keepalive for this interval and step, made on first use."""
    by_timing = _shared.setdefault(asyncio.get_running_loop(), {})
    keepalive = by_timing.get((interval, step))
    if keepalive is None:
        keepalive = by_timing[interval, step] = Keepalive(interval, step)
    return keepalive
