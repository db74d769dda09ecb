"""Periodic timers set on the same beat, so that they wake the loop together.

Every wake-up of an otherwise idle process costs CPU (on a virtual machine whose core has
gone idle, a millisecond or more of cold caches each), and several of Salen's timers run
whatever happens: every second the server's main loop (`live/server.py`: a stop request,
the `Date` header), the keepalive's sweep (`live/realtime/keepalive.py`) and the live
captions' check for streams (`live/captions/hls.py`); every few seconds or minutes the
hub's probe, the attendance flush and the job scheduler's poll. Sleeping their period from
their own last turns, they would drift apart and each wake the loop on its own. They sleep
instead until the next whole multiple of their period on the loop's clock (`next_beat`,
`sleep_beats`): asyncio runs every timer that is due when it wakes, so the ones due
together share one wake-up. A beat that falls while the loop is busy runs late; nothing
catches up on it.
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


async def sleep_beats(step: float) -> None:
    """Sleep until the next whole multiple of `step` seconds on the running loop's clock."""
    await sleep_until(next_beat(asyncio.get_running_loop(), step))


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # the sleeper was cancelled
        future.set_result(None)
