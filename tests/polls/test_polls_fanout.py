"""Poll pushes through the polls' own fan-out: moderators at once, viewers one merged frame."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import create_engine, open_writer, sessionmaker
from live.hub import open_hub
from live.identity import Participant
from live.models import Base, Event
from live.polls.domain import Answer, PollKind, Spec
from live.polls.messages import coalesce
from live.polls.runtime import polls_channels
from live.polls.service import PollService
from live.qa.service import Actor
from live.realtime.fanout import Fanout
from tests.realtime.test_fanout import Socket, until

MOD = Actor(Participant("m", "Mona"), moderator=True)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fanout.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield sessionmaker(engine)
    await engine.dispose()


async def test_votes_reach_moderators_each_and_viewers_merged(
    db: async_sessionmaker[AsyncSession],
) -> None:
    """Twenty votes: twenty frames to the moderator at once, one frame to each viewer."""
    async with db() as session, session.begin():
        event = Event(slug="p", title="P")
        session.add(event)
        await session.flush()
        event_id = event.id
    viewer, moderator = Socket(), Socket()
    async with (
        open_hub("memory://") as hub, open_writer(db) as writer,
        Fanout(hub, coalesce, 3600, 3600, channels=polls_channels) as fanout,
        fanout.join(event_id, viewer.conn()) as room,
        fanout.join(event_id, moderator.conn(moderator=True)),
    ):
        service = PollService(db, hub, writer)
        poll = await service.create(event_id, MOD, Spec(PollKind.SINGLE, "Q?", ("A", "B")),
                                    launch=True)
        for n in range(20):
            await service.answer(event_id, Actor(Participant(f"p{n}")), poll.id,
                                 Answer(choices=(n % 2,)))
        await until(lambda: len(moderator.frames) == 21 and len(room.pending) == 21)
        assert viewer.frames == []
        assert room.flush() == 1
    assert len(viewer.frames) == 1
    frame = msgspec.json.decode(viewer.frames[0])
    assert frame["type"] == "polls.update" and frame["polls"][0]["answers"] == 20
    assert "results" not in frame["polls"][0]  # not revealed
    last = msgspec.json.decode(moderator.frames[-1])
    assert last["polls"][0]["results"]["counts"] == [10, 10]
