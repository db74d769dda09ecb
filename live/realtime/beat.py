"""Timers that run every second, set on the same beat so that they wake the loop together.

Each wake-up of an otherwise idle process costs it 0.2-0.35 ms of CPU on the benchmark
machine (strace and schedstat; README "Performance"). Two timers of Salen's run every second
whatever happens: the server's main loop (`live/server.py`: a stop request, the `Date`
header) and the keepalive's sweep (`live/realtime/keepalive.py`). Each used to sleep a second from
its own last turn, so they drifted apart and woke the loop twice a second (80 ms apart in
one strace). Both now sleep until the next whole second of the loop's clock, `next_beat`:
asyncio runs every timer that is due when it wakes, so the two share one wake-up.
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
