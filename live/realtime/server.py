"""How `salen serve` runs uvicorn: its server, with a main loop that wakes once a second.

uvicorn's `Server.main_loop` sleeps 0.1 s at a time, checking for a shutdown request and
refreshing the `Date` header every tenth wake-up. On the benchmark machine each wake-up of
an otherwise idle process costs about 0.19 ms of CPU: ~1.9 ms a second, a tenth of the
server's whole CPU at 1,000 viewers and one moderator change a second (bench/). `Server`
sleeps until a signal asks it to stop, or until the next whole second (the `Date` header's
resolution; on the beat the keepalive's sweep shares, `live/realtime/beat.py`), so a signal still
stops it at once.

With `--workers` above 1 uvicorn's supervisor builds its own servers in the worker
processes, and those keep uvicorn's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from live.realtime.beat import next_beat

# uvicorn's `on_tick(counter)` refreshes the Date header when `counter % 10 == 0`.
TICKS_PER_WAKE = 10
WAKE_SECONDS = 1.0


class Server(uvicorn.Server):
    """uvicorn's server, waking once a second (or on a signal) instead of ten times."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

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


def run(app: str, *, workers: int = 1, **options: Any) -> None:
    """`uvicorn.run(app, **options)`, through `Server` when there is one process."""
    if workers > 1:
        uvicorn.run(app, workers=workers, **options)
        return
    config = uvicorn.Config(app, **options)
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
