"""Two real server processes on one database and one redis-server show the same poll counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from websockets.asyncio.client import ClientConnection, connect

from tests.realtime.test_ws_processes import call, prepare, read, server_process, wait_listening
from tests.support.servers import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def servers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Two `salen serve` processes on one SQLite file and one Redis database."""
    tmp = tmp_path_factory.mktemp("poll-processes")
    url = f"sqlite+aiosqlite:///{tmp / 'shared.db'}"
    asyncio.run(prepare(url))
    redis_db = f"redis://127.0.0.1:{redis_server.port}/5"
    with Redis.from_url(redis_db) as flusher:
        flusher.flushdb()
    logs = (tmp / "one.log", tmp / "two.log")
    with server_process(url, redis_db, logs[0]) as one, server_process(url, redis_db, logs[1]) as two:
        wait_listening(one, logs[0])
        wait_listening(two, logs[1])
        yield one, two


async def polls_frame(ws: ClientConnection) -> dict[str, Any]:
    while (message := await read(ws))["type"] != "polls":
        pass
    return message


async def until_answers(ws: ClientConnection, poll_id: int, answers: int) -> dict[str, Any]:
    """The first view of the poll with this many answers (and results, when shown)."""
    while True:
        message = await read(ws)
        for poll in message.get("polls", []):
            if poll["id"] == poll_id and poll.get("answers") == answers and "results" in poll:
                return poll  # type: ignore[no-any-return]


async def test_answers_on_both_processes_give_the_same_counts(servers: tuple[str, str]) -> None:
    """Votes through either process reach moderators and viewers on both, counted alike."""
    one, two = servers
    name = uuid.uuid4().hex[:6]
    async with (
        connect(f"{one}/ws/events/panel?token=mod-secret") as mod_one,
        connect(f"{two}/ws/events/panel?token=mod-secret") as mod_two,
        connect(f"{two}/ws/events/panel") as viewer_two,
    ):
        for ws in (mod_one, mod_two, viewer_two):
            await polls_frame(ws)
        made = await call(mod_one, "poll.create", 1, kind="single", question=f"Q {name}",
                          options=["Ja", "Nei"], launch=True)
        poll_id = made["poll"]["id"]
        for i in range(6):
            async with connect(f"{(one, two)[i % 2]}/ws/events/panel") as voter:
                await polls_frame(voter)
                reply = await call(voter, "poll.answer", 1, poll=poll_id, choices=[i % 3 and 1])
                assert reply["type"] == "ok", reply
        seen = [await until_answers(ws, poll_id, 6) for ws in (mod_one, mod_two)]
        assert seen[0]["results"] == seen[1]["results"] == {"counts": [2, 4]}
        assert (await call(mod_two, "poll.reveal", 2, poll=poll_id))["type"] == "ok"
        shown = await until_answers(viewer_two, poll_id, 6)
        assert shown["results"] == {"counts": [2, 4]}
