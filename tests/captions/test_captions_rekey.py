"""A replaced captioner link ends the captioners' connections made with the old one: through
the captions channel's notice, and after a loss of the channel (Redis away) once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.captions.service import CaptionService
from live.db import create_engine, sessionmaker
from live.hub import Hub, open_hub
from live.models import Event
from live.qa.messages import coalesce
from live.realtime.channels import captions_channel
from live.realtime.conn import Conn
from live.realtime.envelope import CloseCode
from live.realtime.fanout import Fanout
from tests.captions.test_captions_fanout import Socket, until


class Closable(Socket):
    """A socket that remembers how it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed_with: int | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    yield sessionmaker(engine)
    await engine.dispose()


async def new_event(db: async_sessionmaker[AsyncSession], key: str) -> int:
    async with db() as session, session.begin():
        event = Event(slug="seminar", title="Seminar", captions_token=key)
        session.add(event)
        await session.flush()
        return event.id


async def set_key(db: async_sessionmaker[AsyncSession], event_id: int, key: str) -> None:
    async with db() as session, session.begin():
        await session.execute(update(Event).where(Event.id == event_id).values(captions_token=key))


def joined(service: CaptionService, event_id: int, socket: Socket, key: str | None) -> Conn:
    conn = socket.conn()
    if key is not None:
        service.enlist(event_id, conn, key)
    return conn


async def test_replace_key_ends_only_the_old_link_s_connections(
    hub: Hub, db: async_sessionmaker[AsyncSession]
) -> None:
    """After the new key is stored, `replace_key` closes (4401) the connections opened with the
    old link; one opened with the new link, and a viewer, stay open."""
    event_id = await new_event(db, "old")
    service = CaptionService(db, hub)
    old, new, viewer = Closable(), Closable(), Closable()
    conns: dict[str, Any] = {}
    async with Fanout(hub, coalesce, tick_seconds=0.01, min_tick_seconds=0.01,
                      sides=[service]) as fanout:
        conns["old"] = joined(service, event_id, old, "old")
        conns["new"] = joined(service, event_id, new, "new")
        conns["viewer"] = joined(service, event_id, viewer, None)
        async with fanout.join(event_id, conns["old"]) as room, \
                fanout.join(event_id, conns["new"]), fanout.join(event_id, conns["viewer"]):
            await room.ready.wait()
            await set_key(db, event_id, "new")
            await service.replace_key(event_id)
            await until(lambda: old.closed_with is not None)
            assert old.closed_with == CloseCode.KEY_REPLACED
            assert not conns["new"].closed and not conns["viewer"].closed
            service.discharge(event_id, conns["old"])
            assert list(service.captioners[event_id].values()) == ["new"]
    await until(lambda: not service._tasks)  # its database reads are over


async def test_a_link_replaced_while_the_channel_was_lost_ends_once_it_is_back(
    hub: Hub, db: async_sessionmaker[AsyncSession]
) -> None:
    """The notice of a new link sent while this process had lost the captions channel (Redis
    away) is not heard; once the channel is live again the old link's connection ends."""
    event_id = await new_event(db, "old")
    service = CaptionService(db, hub)
    old = Closable()
    async with Fanout(hub, coalesce, tick_seconds=0.01, min_tick_seconds=0.01,
                      sides=[service]) as fanout:
        conn = joined(service, event_id, old, "old")
        async with fanout.join(event_id, conn) as room, open_hub("memory://") as elsewhere:
            await room.ready.wait()
            channel = captions_channel(event_id)
            room.lost(channel)
            await set_key(db, event_id, "new")
            await CaptionService(db, elsewhere).replace_key(event_id)
            assert not conn.closed
            room.live(channel)
            await until(lambda: old.closed_with is not None)
            assert old.closed_with == CloseCode.KEY_REPLACED
    await until(lambda: not service._tasks)  # its database reads are over
