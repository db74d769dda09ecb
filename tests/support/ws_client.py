"""A client for the live socket's protocol, and the database the socket tests share.

`make_db` creates the tables and two events: "panel" (published) and "draft" (not), both
with the moderator token "mod-secret"; `joined` connects to "panel" and reads its snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

import live.models.qa  # noqa: F401  (registers the Q&A tables)
from live.db import create_engine, sessionmaker
from live.models import Base, Event

Message = dict[str, Any]


class Client:
    """A test client speaking the protocol: numbered requests, replies and pushes apart."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.pushes: list[Message] = []

    async def read(self) -> Message:
        return json.loads(await asyncio.wait_for(self.ws.recv(), 10))

    async def call(self, type: str, **fields: Any) -> Message:
        self.next_id += 1
        await self.ws.send(json.dumps({"type": type, "id": self.next_id, **fields}))
        return await self.reply(self.next_id)

    async def reply(self, message_id: int | None) -> Message:
        while True:
            message = await self.read()
            if message["type"] in ("ok", "error") and message.get("id") == message_id:
                return message
            self.pushes.append(message)

    async def push(self, check: Callable[[Message], bool]) -> Message:
        """The first push (already received or coming) that satisfies `check`."""
        for i, message in enumerate(self.pushes):
            if check(message):
                return self.pushes.pop(i)
        while True:
            message = await self.read()
            if check(message):
                return message
            self.pushes.append(message)


async def make_db(url: str) -> dict[str, str]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with sessionmaker(engine)() as session, session.begin():
        session.add(Event(slug="panel", title="Panel", moderator_token="mod-secret"))
        session.add(
            Event(
                slug="draft",
                title="Draft",
                moderator_token="mod-secret",
                display_token="display-secret",
                published=False,
            )
        )
    await engine.dispose()
    return {"moderator": "mod-secret"}


@contextlib.asynccontextmanager
async def client(base: str, query: str = "") -> AsyncIterator[Client]:
    async with connect(f"{base}/ws/events/panel{query}") as ws:
        yield Client(ws)


@contextlib.asynccontextmanager
async def joined(base: str, query: str = "") -> AsyncIterator[tuple[Client, Message]]:
    """A client connected to the panel event, with its first push (the snapshot)."""
    async with client(base, query) as c:
        first = await c.read()
        yield c, first
