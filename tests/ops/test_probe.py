"""The hub probe: its lag measured through the hub, failures counted, and the hub's return."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from live.hub import open_hub
from live.ops.metrics import Metrics
from live.ops.probe import probing
from tests.support.servers import _redis_ping, start_redis

GUARD = 30.0  # seconds before a wait is declared hung (not a performance assertion)


def sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    return float(value or 0.0)


async def until(check: Callable[[], bool], what: str) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), GUARD)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


async def test_the_probe_measures_the_memory_hubs_lag() -> None:
    """Probes go round the memory hub: the lag histogram counts them, no failure."""
    metrics = Metrics()
    async with open_hub("memory://") as hub, probing(hub, metrics, every=0.01):
        await until(lambda: sample(metrics, "salen_hub_lag_seconds_count") >= 3, "three probes")
    assert sample(metrics, "salen_hub_probe_failures_total") == 0


@pytest.mark.redis
async def test_the_probe_counts_a_redis_outage_and_its_end(tmp_path: Path) -> None:
    """Redis stopped: probes fail and are counted; Redis back on its port: the hub answers
    again, counted once as a reconnect, and the lag is measured again."""
    metrics = Metrics()
    with start_redis() as server:
        async with open_hub(server.url) as hub, probing(hub, metrics, every=0.05):
            await until(lambda: sample(metrics, "salen_hub_lag_seconds_count") >= 1, "a probe")
            with contextlib.suppress(redis.exceptions.ConnectionError):
                redis.Redis(port=server.port).shutdown(nosave=True)
            await until(lambda: sample(metrics, "salen_hub_probe_failures_total") >= 1,
                        "a failed probe")
            with _redis_on(server.port, tmp_path):
                before = sample(metrics, "salen_hub_lag_seconds_count")
                await until(lambda: sample(metrics, "salen_hub_reconnects_total") == 1,
                            "the hub to answer again")
                await until(lambda: sample(metrics, "salen_hub_lag_seconds_count") > before,
                            "a probe after the outage")


@contextlib.contextmanager
def _redis_on(port: int, folder: Path):  # type: ignore[no-untyped-def]
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        while not _redis_ping(port):
            assert proc.poll() is None, "redis-server did not start again"
            time.sleep(0.02)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
