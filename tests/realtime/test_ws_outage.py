"""Two real server processes go on serving through a Redis outage, and converge after it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.test_ws_processes import (
    prepare,
    server_process,
    spawn_server,
    wait_listening,
)
from tests.support.servers import start_redis

pytestmark = pytest.mark.redis


class Client:
    """A socket whose pushes are applied in the background, as the browser's state does."""

    def __init__(self, ws: ClientConnection, before: Client | None = None) -> None:
        self.ws = ws
        # A reconnected client keeps what it had, as the browser's state does.
        self.questions: dict[int, dict[str, Any]] = dict(before.questions) if before else {}
        self.v = before.v if before else 0
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._apply()

    async def _apply(self) -> None:
        async for text in self.ws:
            message = json.loads(text)
            if message["type"] in {"ok", "error"}:
                self.replies.pop(message["id"]).set_result(message)
                continue
            if message["type"] not in {"snapshot", "update"}:
                continue  # the group work's pushes (rooms.*)
            if message["type"] == "snapshot":
                self.questions.clear()
                self.v = message["v"]
            else:
                self.v = max(self.v, message["v"])
            for q in message.get("questions", []):
                known = self.questions.get(q["id"])
                if known is None or known["v"] <= q["v"]:
                    self.questions[q["id"]] = q

    async def call(self, type: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        reply = self.replies[self.next_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"type": type, "id": self.next_id, **fields}))
        async with asyncio.timeout(30):
            return await reply

    def status(self, qid: int) -> str | None:
        q = self.questions.get(qid)
        return None if q is None else str(q["status"])

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(30):
            while not condition():
                assert not self.reader.done(), "the socket was closed"
                await asyncio.sleep(0.02)


async def ask_and_approve(base: str, mod: Client, viewer: Client, text: str) -> int:
    """One question through one process: asked on a new connection (a new participant),
    approved, seen by the process's viewer."""
    async with connect(f"{base}/ws/events/panel") as ws:
        asker = Client(ws)
        asked = await asker.call("qa.ask", text=text)
    assert asked["type"] == "ok", asked
    qid = int(asked["question"]["id"])
    await mod.until(lambda: mod.status(qid) == "pending")
    approved = await mod.call("qa.approve", question=qid)
    assert approved["type"] == "ok", approved
    await viewer.until(lambda: viewer.status(qid) == "approved")
    return qid


async def test_asks_and_approvals_go_on_through_a_redis_outage(tmp_path: Path) -> None:
    """Redis paused, then killed, for about 20 s: on each of two processes questions are
    asked, approved and seen by that process's viewers, no socket is closed, and once a
    redis-server is back on the port every client has every question; no traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await prepare(url)
    logs = (tmp_path / "one.log", tmp_path / "two.log")
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(start_redis())
        bases = [stack.enter_context(server_process(url, redis.url, log)) for log in logs]
        for base, log in zip(bases, logs, strict=True):
            wait_listening(base, log)
        async with contextlib.AsyncExitStack() as sockets:
            clients = []
            for base in bases:
                for query in ("?token=mod-secret", ""):
                    ws = await sockets.enter_async_context(connect(f"{base}/ws/events/panel{query}"))
                    clients.append(Client(ws))
            groups = [(bases[0], *clients[:2]), (bases[1], *clients[2:])]
            asked = [await ask_and_approve(*groups[0], "Before the outage")]
            redis.pause()
            for round in range(3):
                for number, group in enumerate(groups):
                    asked.append(await ask_and_approve(*group, f"Paused {round} on {number}"))
                await asyncio.sleep(2)
            os.kill(redis.pid, signal.SIGKILL)
            for round in range(3):
                for number, group in enumerate(groups):
                    asked.append(await ask_and_approve(*group, f"Killed {round} on {number}"))
                await asyncio.sleep(2)
            stack.enter_context(start_redis(redis.port))
            for client in clients:
                await client.until(lambda c=client: all(c.status(q) == "approved" for q in asked))
            assert all(not client.reader.done() for client in clients)
    for log in logs:
        assert "Traceback" not in log.read_text()


async def test_killing_one_of_two_processes_loses_nothing(tmp_path: Path) -> None:
    """Process one is killed (SIGKILL) after its questions were acknowledged: its clients
    reconnect to process two with `since` and have every question, as do process two's."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await prepare(url)
    logs = (tmp_path / "one.log", tmp_path / "two.log")
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(start_redis())
        (one, base_one), (_two, base_two) = (
            stack.enter_context(spawn_server(url, redis.url, log)) for log in logs)
        wait_listening(base_one, logs[0])
        wait_listening(base_two, logs[1])
        async with contextlib.AsyncExitStack() as sockets:

            async def client(base: str, query: str = "", before: Client | None = None) -> Client:
                ws = connect(f"{base}/ws/events/panel{query}")
                return Client(await sockets.enter_async_context(ws), before)

            mod_one, viewer_one = await client(base_one, "?token=mod-secret"), await client(base_one)
            mod_two, viewer_two = await client(base_two, "?token=mod-secret"), await client(base_two)
            asked = [await ask_and_approve(base_one, mod_one, viewer_one, f"Before {n}")
                     for n in range(4)]
            os.kill(one.pid, signal.SIGKILL)
            await mod_one.until(lambda: mod_one.reader.done())
            await viewer_one.until(lambda: viewer_one.reader.done())
            moved = [await client(base_two, f"?token=mod-secret&since={mod_one.v}", mod_one),
                     await client(base_two, f"?since={viewer_one.v}", viewer_one)]
            asked.append(await ask_and_approve(base_two, mod_two, viewer_two, "After"))
            for c in [*moved, mod_two, viewer_two]:
                await c.until(lambda c=c: all(c.status(q) == "approved" for q in asked))
    assert "Traceback" not in logs[1].read_text()
