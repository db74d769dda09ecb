"""The real-time hub: change notices between processes, chosen by URL scheme.

async with open_hub("memory://") as hub: ...          # one process (default)
async with open_hub("redis://127.0.0.1:6379/0") as hub: ...   # many processes

A `Relay` shares one subscription per channel among a process's local listeners.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from live.hub.base import Entry, Hub, Lagged, Signal, Subscription, gapless_since
from live.hub.relay import Listener, Relay

__all__ = [
    "Entry", "Hub", "Lagged", "Listener", "Relay", "Signal", "Subscription", "gapless_since",
    "open_hub",
]


@asynccontextmanager
async def open_hub(url: str) -> AsyncIterator[Hub]:
    """The hub for `url` (memory:// or redis:// / rediss://), closed on exit."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from live.hub.memory import MemoryHub

        memory = MemoryHub()
        try:
            yield memory
        finally:
            await memory.aclose()
    elif scheme in {"redis", "rediss"}:
        from live.hub.redis import RedisHub

        redis_hub = RedisHub(url)
        await redis_hub.start()
        try:
            yield redis_hub
        finally:
            await redis_hub.aclose()
    else:
        raise ValueError(f"hub URL must start with memory:// or redis://, got {url!r}")
