"""The hub's lag, measured: every `EVERY` seconds a probe notice goes round through the hub.

`probing(hub, metrics)` runs, for the app's lifespan, one task that publishes a notice on
`PROBE_CHANNEL` and waits for it to come back on its own subscription: the time between is
`salen_hub_lag_seconds` (for redis://, Redis' round trip plus this process's queue). A probe
that fails or gets no answer within `TIMEOUT` counts in `salen_hub_probe_failures`; the
first that succeeds after failures counts in `salen_hub_reconnects` (the hub answers
again). Every process uses the one channel and knows its own notices by a random tag, so
Redis keeps one short probe history, not one per process. It uses the hub's public
interface only and never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

from live.hub import Entry, Hub
from live.ops.health import PROBE_CHANNEL, TIMEOUT
from live.ops.metrics import Metrics
from live.realtime.beat import sleep_beats

EVERY = 10.0
log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def probing(hub: Hub, metrics: Metrics, every: float = EVERY) -> AsyncIterator[None]:
    """Probe the hub every `every` seconds while the block runs."""
    task = asyncio.create_task(_probe_forever(hub, metrics, every), name="salen-hub-probe")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _probe_forever(hub: Hub, metrics: Metrics, every: float) -> None:
    tag = secrets.token_bytes(8)
    failing = False
    count = 0
    while True:
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(TIMEOUT):
                    subscription = await stack.enter_async_context(hub.subscribe(PROBE_CHANNEL))
                while True:
                    count += 1
                    data = tag + count.to_bytes(8, "big")
                    sent = time.perf_counter()
                    async with asyncio.timeout(TIMEOUT):
                        # Ask Redis itself first: while it is away the hub still delivers
                        # this process's own notices, which would hide the outage.
                        await hub.ping()
                        await hub.publish(PROBE_CHANNEL, Entry(count, count - 1, data))
                        while (await subscription.get()).data != data:
                            pass
                    metrics.hub_lag(time.perf_counter() - sent)
                    if failing:
                        metrics.hub_reconnected()
                        failing = False
                    await sleep_beats(every)
        except Exception as exc:  # noqa: BLE001  (a failed probe is the measurement)
            metrics.hub_failures.inc()
            if not failing:
                log.warning("hub probe failed: %s", exc or type(exc).__name__)
            failing = True
            await sleep_beats(every)
