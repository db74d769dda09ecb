"""Two real server processes sharing one database and one redis-server behave as one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from websockets.asyncio.client import ClientConnection, connect

from live.db import create_engine, sessionmaker
from live.identity import Identities, Participant
from live.migrate import upgrade_async
from live.models import Event
from tests.support.servers import PostgresServer, RedisServer

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server_process(database_url: str, redis_url: str, log: Path) -> Iterator[str]:
    """`salen serve` (the real command and app) in its own process; yields its ws:// base."""
    with spawn_server(database_url, redis_url, log) as (_process, base):
        yield base


@contextlib.contextmanager
def spawn_server(
    database_url: str, redis_url: str, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`server_process`, yielding the process too (for a test that kills it)."""
    port = free_port()
    env = os.environ | {
        "SALEN_DATABASE_URL": database_url,
        "SALEN_HUB_URL": redis_url,
        "SALEN_SECRET_KEY": "shared-secret",
        "SALEN_TICK_SECONDS": "0.05",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, f"ws://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_listening(base: str, log: Path) -> None:
    port = int(base.rsplit(":", 1)[1])
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server on {base} did not start:\n{log.read_text()}")


async def prepare(url: str) -> None:
    await upgrade_async(url)  # as `salen db upgrade` would, before the two processes start
    engine = create_engine(url)
    async with sessionmaker(engine)() as session, session.begin():
        for slug in ("panel", "replay"):
            session.add(Event(slug=slug, title=slug, moderator_token="mod-secret"))
    await engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def servers(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """Two server processes on one database (SQLite, then PostgreSQL) and one Redis database."""
    tmp = tmp_path_factory.mktemp(f"processes-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'shared.db'}"
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        url = postgres.create_database(f"t_{uuid.uuid4().hex[:16]}")
    asyncio.run(prepare(url))
    # A Redis database of its own keeps these events' streams apart from other tests.
    redis_db = f"redis://127.0.0.1:{redis_server.port}/{3 if request.param == 'sqlite' else 4}"
    with Redis.from_url(redis_db) as flusher:
        flusher.flushdb()
    logs = (tmp / "one.log", tmp / "two.log")
    with (
        server_process(url, redis_db, logs[0]) as one,
        server_process(url, redis_db, logs[1]) as two,
    ):
        wait_listening(one, logs[0])
        wait_listening(two, logs[1])
        yield one, two


async def read(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 20))


async def call(ws: ClientConnection, type: str, id: int, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": type, "id": id, **fields}))
    while True:
        message = await read(ws)
        if message.get("id") == id:
            return message


async def until_question(ws: ClientConnection, qid: int, status: str) -> dict[str, Any]:
    while True:
        message = await read(ws)
        for q in message.get("questions", []):
            if q["id"] == qid and q["status"] == status:
                return message


async def test_question_through_one_process_reaches_viewer_on_other(
    servers: tuple[str, str],
) -> None:
    """Asked on process 1, moderated on process 2, seen by a viewer on process 2."""
    one, two = servers
    async with (
        connect(f"{one}/ws/events/panel") as asker,
        connect(f"{two}/ws/events/panel?token=mod-secret") as mod,
        connect(f"{two}/ws/events/panel") as viewer,
    ):
        for ws in (asker, mod, viewer):
            assert (await read(ws))["type"] == "snapshot"
        asked = await call(asker, "qa.ask", 1, text="Across processes?")
        qid = asked["question"]["id"]
        await until_question(mod, qid, "pending")
        assert (await call(mod, "qa.approve", 2, question=qid))["type"] == "ok"
        seen = await until_question(viewer, qid, "approved")
        assert seen["type"] == "update"


async def test_reconnect_to_other_process_replays_from_redis(servers: tuple[str, str]) -> None:
    """A viewer leaving process 2 and coming back gets a replay of what process 1 did."""
    one, two = servers
    async with connect(f"{two}/ws/events/replay") as viewer:
        since = (await read(viewer))["v"]
    async with connect(f"{one}/ws/events/replay?token=mod-secret") as mod:
        await read(mod)
        a = (await call(mod, "qa.ask", 1, text="A"))["question"]["id"]
        b = (await call(mod, "qa.ask", 2, text="B"))["question"]["id"]
    async with connect(f"{two}/ws/events/replay?since={since}") as viewer:
        replay = await read(viewer)
    assert replay["type"] == "update"
    assert {q["id"] for q in replay["questions"]} == {a, b}


async def test_one_participant_gets_no_more_questions_from_more_processes(
    servers: tuple[str, str],
) -> None:
    """Ten sockets of one participant on each process, asking four times each, get three
    questions a minute between them: the count is kept in Redis, not per process."""
    token = Identities("shared-secret").token(Participant(f"hall-{uuid.uuid4().hex[:8]}"))
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(f"{base}/ws/events/panel?p={token}"))
                   for base in servers for _ in range(10)]
        for ws in sockets:
            assert (await read(ws))["type"] == "snapshot"

        async def ask_four(ws: ClientConnection) -> list[str]:
            return [(await call(ws, "qa.ask", i, text=f"Question {i}")).get("code", "ok")
                    for i in range(1, 5)]

        replies = [r for rs in await asyncio.gather(*map(ask_four, sockets)) for r in rs]
    assert replies.count("ok") == 3
    assert set(replies) == {"ok", "qa.rate_limited"}
