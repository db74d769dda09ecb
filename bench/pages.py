"""Page benchmark: requests per second of the event and archive pages against a bare handler.

The database holds the demo events (programme, speakers, occurrences) and a few published
recordings. Salen (`salen serve`) and a bare Starlette app returning the same bytes
(bench/bare_http.py, same uvicorn settings) each run pinned to core 0; `wrk` runs on
core 1. Database queries per page view are counted in this process with a SQLAlchemy
`before_cursor_execute` listener around one request through the real app.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.procs import LOADGEN_CORE, SERVER_CORE, WORK, free_port, pinned, salen_cmd, salen_env

CONNECTIONS = 32


async def seed(url: str) -> str:
    """The demo events plus published recordings; returns the slug of the event to fetch."""
    from sqlalchemy import select

    from live.db import create_engine, sessionmaker
    from live.demo import load_demo
    from live.migrate import upgrade_async
    from live.models import Event, Recording, RecordingState

    await upgrade_async(url)
    engine = create_engine(url)
    async with sessionmaker(engine)() as session, session.begin():
        slugs = await load_demo(session)
    async with sessionmaker(engine)() as session, session.begin():
        events = list(await session.scalars(select(Event)))
        for i, event in enumerate(events):
            when = dt.datetime(2026, 1 + i, 10, 9, tzinfo=dt.UTC)
            session.add(Recording(event_id=event.id, state=RecordingState.PUBLISHED,
                                  title=f"Opptak: {event.title}", started_at=when, duration=3600.0,
                                  published_at=when, chapters=[]))
    await engine.dispose()
    return max(slugs, key=len)


def count_queries(url: str, paths: list[str]) -> dict[str, int]:
    """Database statements one GET of each path runs (after one warm-up GET)."""
    return asyncio.run(_count_queries(url, paths))


async def _count_queries(url: str, paths: list[str]) -> dict[str, int]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from live.app import create_app
    from live.settings import Settings
    from tests.support.app import http_client

    settings = Settings.from_env(salen_env(url))
    counts: dict[str, int] = {}
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    async with http_client(create_app(settings)) as client:
        for path in paths:
            (await client.get(path)).raise_for_status()
            event.listen(Engine, "before_cursor_execute", listener)
            seen.clear()
            (await client.get(path)).raise_for_status()
            event.remove(Engine, "before_cursor_execute", listener)
            counts[path] = len(seen)
    return counts


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reports."""

    rps: float
    requests: int
    p99_ms: float


def wrk(url: str, seconds: float) -> float:
    """Requests per second that wrk on core 1 gets from `url`."""
    return wrk_run(url, seconds).rps


def wrk_run(url: str, seconds: float, connections: int = CONNECTIONS) -> WrkRun:
    """Run `wrk -t1 --latency` on core 1 against `url`; fail on any non-2xx/3xx reply."""
    out = subprocess.run(
        ["taskset", "-c", LOADGEN_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s",
         "--latency", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout
    return parse_wrk(out, url)


def parse_wrk(out: str, url: str = "") -> WrkRun:
    """Requests/s, request count and p99 latency from wrk's `--latency` report."""
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    count = re.search(r"(\d+) requests in ", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not rps or not count or errors:
        raise RuntimeError(f"wrk failed on {url}:\n{out}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return WrkRun(float(rps.group(1)), int(count.group(1)),
                  float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"))


def measure(seconds: float, log: Any) -> list[dict[str, Any]]:
    """Rows: page, queries, Salen req/s, bare req/s, ratio."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "pages.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    slug = asyncio.run(seed(url))
    pages = [f"/e/{slug}", "/archive"]
    queries = count_queries(url, pages)
    port = free_port()
    rows = []
    with pinned(salen_cmd(port), SERVER_CORE, WORK / "pages-salen.log", salen_env(url), port):
        bodies = {p: urllib.request.urlopen(f"http://127.0.0.1:{port}{p}").read() for p in pages}
        salen_rps = {p: wrk(f"http://127.0.0.1:{port}{p}", seconds) for p in pages}
    for page in pages:
        body_file = WORK / "bare-body.html"
        body_file.write_bytes(bodies[page])
        bare_port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "bench.bare_http:app", "--host", "127.0.0.1",
               "--port", str(bare_port), "--log-level", "info"]
        env = dict(os.environ) | {"BENCH_BODY": str(body_file)}
        with pinned(cmd, SERVER_CORE, WORK / "pages-bare.log", env, bare_port):
            bare = wrk(f"http://127.0.0.1:{bare_port}{page}", seconds)
        row = {"page": page, "bytes": len(bodies[page]), "queries": queries[page],
               "salen_rps": salen_rps[page], "bare_rps": bare, "ratio": salen_rps[page] / bare}
        log(f"pages: {row}")
        rows.append(row)
    return rows

