"""Captions ride the fan-out's ticks: many keystrokes and lines, one frame per connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from live.captions.messages import LineView, Notice, Partial
from live.captions.service import CaptionService
from live.db import create_engine, sessionmaker
from live.hub import Entry, Hub, open_hub
from live.models import Event
from live.qa.messages import coalesce
from live.realtime.channels import captions_channel
from live.realtime.conn import Conn
from live.realtime.envelope import encode
from live.realtime.fanout import Fanout

EVENT = 7


class Socket:
    """The ASGI side of one WebSocket, recording the frames written to it."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.frames.append(json.loads(message["text"]))

    async def close(self, code: int, reason: str) -> None:
        """Nothing to close."""

    def conn(self, *, moderator: bool = False) -> Conn:
        return Conn(self.send, self.close, moderator=moderator)


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


async def test_a_tick_carries_the_latest_partial_and_the_new_lines(hub: Hub) -> None:
    """Ten keystrokes and two lines between ticks: one captions frame to each viewer and
    moderator, with the newest partial and both lines."""
    engine = create_engine("sqlite+aiosqlite://")  # never opened: the side reads no rows
    service = CaptionService(sessionmaker(engine), hub)
    viewers, moderator = [Socket(), Socket()], Socket()
    async with Fanout(hub, coalesce, tick_seconds=3600, min_tick_seconds=3600,
                      sides=[service]) as fanout, \
            fanout.join(EVENT, viewers[0].conn()) as room, \
            fanout.join(EVENT, viewers[1].conn()), \
            fanout.join(EVENT, moderator.conn(moderator=True)):
        channel = captions_channel(EVENT)
        for n in range(1, 11):
            partial = Partial(text="ord " * n, who="a", by="Kari")
            await hub.publish(channel, Entry(0, 0, encode(Notice(partial=partial, who="a"))))
        lines = [LineView(seq=s, text=f"linje {s}", at="t") for s in (1, 2)]
        await hub.publish(channel, Entry(2, 0, encode(Notice(lines=lines, who="b"))))
        await until(lambda: room.side_waiting and service.feeds[EVENT].partial is not None)
        room.flush()
        await until(lambda: all(s.frames for s in (*viewers, moderator)))
        for socket in (*viewers, moderator):
            [frame] = socket.frames
            assert frame["type"] == "captions"
            assert frame["partial"] == {"text": "ord " * 10, "who": "a", "by": "Kari"}
            assert [line["seq"] for line in frame["lines"]] == [1, 2]
        room.flush()  # nothing new: no frame
        await asyncio.sleep(0)
        assert all(len(s.frames) == 1 for s in (*viewers, moderator))
    await engine.dispose()


async def test_captions_ride_beside_the_q_and_a_catch_up(hub: Hub, sqlite_url: str) -> None:
    """With the Q&A's catch-up on, a captions notice reaches the viewer, and the captions
    channel coming back after a loss asks the Q&A's catch-up nothing (it has no versions)."""
    asked: list[tuple[int | None, bool]] = []

    async def catch_up(event: int, since: int | None, moderators: bool) -> tuple[int, str | None]:
        asked.append((since, moderators))
        return 0, None

    engine = create_engine(sqlite_url)
    service = CaptionService(sessionmaker(engine), hub)
    viewer = Socket()
    async with Fanout(hub, coalesce, tick_seconds=0.01, min_tick_seconds=0.01,
                      catch_up=catch_up, sides=[service]) as fanout, \
            fanout.join(EVENT, viewer.conn()) as room:
        await until(lambda: len(asked) == 2)
        channel = captions_channel(EVENT)
        room.lost(channel)
        room.live(channel)
        assert room.ready.is_set()
        lines = [LineView(seq=1, text="linje 1", at="t")]
        await hub.publish(channel, Entry(1, 0, encode(Notice(lines=lines, who="b"))))
        await until(lambda: bool(viewer.frames))
        assert viewer.frames[0]["type"] == "captions"
        failed = [t for t in room.tasks if t.done() and not t.cancelled() and t.exception()]
        assert not failed and len(asked) == 2
    await engine.dispose()


async def test_lines_missed_while_the_channel_was_lost_come_once_it_is_back(
    hub: Hub, sqlite_url: str
) -> None:
    """A line another process committed while the captions channel was lost (Redis away)
    reaches the viewer once the channel is live again, read back from the database."""
    engine = create_engine(sqlite_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        event = Event(slug="seminar", title="Seminar")
        session.add(event)
        await session.flush()
        event_id = event.id
    service = CaptionService(db, hub)
    viewer = Socket()
    async with Fanout(hub, coalesce, tick_seconds=0.01, min_tick_seconds=0.01,
                      sides=[service]) as fanout, \
            fanout.join(event_id, viewer.conn()) as room, open_hub("memory://") as elsewhere:
        channel = captions_channel(event_id)
        room.lost(channel)
        await CaptionService(db, elsewhere).commit(event_id, "a", "Kari", "k1", "Hei igjen")
        room.live(channel)
        await until(lambda: bool(viewer.frames))
        [frame] = viewer.frames
        assert [line["text"] for line in frame["lines"]] == ["Hei igjen"]
    await engine.dispose()
