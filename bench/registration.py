"""Registration burst: 300 concurrent sign-ups through the HTTP API of a real `salen serve`.

The event is the test suite's (tests/support/registration.seed): 50 places in the room at
Elverum and at most 4 per county, 30 counties. 300 people post at once, each from its own
loopback address (127.0.x.y, so the per-address limit sees 300 visitors, as in real life).
Correct means: exactly 50 confirmed, 70 waitlisted (4 per county minus the confirmed),
180 refused with `registration.quota_exceeded`, no server error, and the database
holding 120 registrations with waitlist positions 1..70 without gaps.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from bench.procs import SERVER_CORE, WORK, free_port, pinned, salen_cmd, salen_env

PEOPLE = 300


async def _seed(url: str) -> None:
    from live.db import create_engine, sessionmaker
    from live.migrate import upgrade_async
    from tests.support.registration import seed

    await upgrade_async(url)
    engine = create_engine(url)
    await seed(sessionmaker(engine), capacity=50, quota=4)
    await engine.dispose()


def _body(i: int) -> dict[str, Any]:
    from tests.support.registration import COUNTIES

    return {"occurrence": "elverum", "attendance": "in_person", "name": f"Person {i}",
            "email": f"p{i}@example.no", "organisation": COUNTIES[i % 30],
            "job_title": "Rådgiver", "theme": "tema-1", "diet": "vegetar"}


async def _connect(port: int, i: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    # A raw HTTP/1.1 client: httpx builds an SSL context per client, which alone took
    # longer than the server's work for 300 clients on this machine.
    return await asyncio.open_connection(
        "127.0.0.1", port, local_addr=(f"127.0.{1 + i // 250}.{1 + i % 250}", 0)
    )


async def _post(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], port: int,
                i: int) -> tuple[int, Any]:
    reader, writer = stream
    body = json.dumps(_body(i)).encode()
    writer.write(
        f"POST /api/events/konf/registrations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode() + body
    )
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload)


async def _burst(port: int) -> tuple[float, Counter[Any], list[float], bool]:
    streams = await asyncio.gather(*(_connect(port, i) for i in range(PEOPLE)))
    start = time.monotonic()
    done: list[float] = []

    async def one(i: int) -> tuple[int, Any]:
        response = await _post(streams[i], port, i)
        done.append(time.monotonic() - start)
        return response

    responses = await asyncio.gather(*(one(i) for i in range(PEOPLE)))
    elapsed = time.monotonic() - start
    outcomes: Counter[Any] = Counter(
        body["status"] if code == 201 else f"{code} {body.get('code')}" for code, body in responses
    )
    positions = sorted(body["waitlist_position"] for code, body in responses
                       if code == 201 and body["status"] == "waitlisted")
    return elapsed, outcomes, sorted(done), positions == list(range(1, len(positions) + 1))


async def _stored(url: str) -> int:
    from sqlalchemy import select

    from live.db import create_engine, sessionmaker
    from live.models.registration import Registration

    engine = create_engine(url)
    async with sessionmaker(engine)() as session:
        rows = list(await session.scalars(select(Registration)))
    await engine.dispose()
    return len(rows)


def measure(log: Any) -> dict[str, Any]:
    """One burst; the row for the results table."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "registration.db"
    for suffix in ("", "-wal", "-shm"):
        (WORK / f"registration.db{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_seed(url))
    port = free_port()
    with pinned(salen_cmd(port), SERVER_CORE, WORK / "registration.log", salen_env(url), port):
        elapsed, outcomes, done, gapless = asyncio.run(_burst(port))
    stored = asyncio.run(_stored(url))
    expected = {"confirmed": 50, "waitlisted": 70, "422 registration.quota_exceeded": 180}
    row = {"seconds": elapsed, "outcomes": dict(outcomes), "stored": stored, "gapless": gapless,
           "p50": done[len(done) // 2], "max": done[-1],
           "correct": dict(outcomes) == expected and stored == 120 and gapless}
    log(f"registration: {row}")
    return row
