"""Timers that run every second, set on the same beat so that they wake the loop together.

Every wake-up of an otherwise idle process costs CPU, and two of Salen's timers run every
second whatever happens: the server's main loop (`live/server.py`: a stop request, the
`Date` header) and the keepalive's sweep (`live/realtime/keepalive.py`). Sleeping a second
from their own last turns, they would drift apart and wake the loop twice a second.
Both sleep instead until the next whole second of the loop's clock, `next_beat`: asyncio
runs every timer that is due when it wakes, so the two share one wake-up. A beat that falls
while the loop is busy runs late; nothing catches up on it.
"""

from __future__ import annotations

import asyncio
import math


def next_beat(loop: asyncio.AbstractEventLoop, step: float = 1.0) -> float:
    """The first time on `loop`'s clock after now that is a whole number of `step`s."""
    return (math.floor(loop.time() / step) + 1) * step


async def sleep_until(when: float) -> None:
    """Sleep until the running loop's clock reads `when` (one timer at exactly that time)."""
    loop = asyncio.get_running_loop()
    woken = loop.create_future()
    timer = loop.call_at(when, _wake, woken)
    try:
        await woken
    finally:
        timer.cancel()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # the sleeper was cancelled
        future.set_result(None)
