"""Live captions' service on SQLite and PostgreSQL: lines stored once, and a recording's track."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.captions.recording import LANG, write_draft
from live.captions.service import CaptionService
from live.db import create_engine, sessionmaker
from live.errors import Invalid
from live.hub import open_hub
from live.models import CaptionLine, Event, Recording
from live.models.recordings import RecordingCaption
from live.settings import Settings
from stream.package.captions import parse_captions

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def event_id(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session, session.begin():
        event = Event(slug="teksting", title="Teksting")
        session.add(event)
        await session.flush()
        return event.id


@pytest.fixture
async def service(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[CaptionService]:
    async with open_hub("memory://") as hub:
        yield CaptionService(db, hub)


async def texts(db: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with db() as session:
        rows = (await session.scalars(select(CaptionLine).order_by(CaptionLine.seq))).all()
        return [(row.seq, row.text) for row in rows]


async def test_same_key_twice_is_stored_once(
    service: CaptionService, event_id: int, db: async_sessionmaker[AsyncSession]
) -> None:
    """A line committed again with its key returns the stored line and stores nothing."""
    first = await service.commit(event_id, "a", "Kari", "k1", "Hei")
    again = await service.commit(event_id, "b", "Ola", "k1", "Hei")
    assert first == again and await texts(db) == [(1, "Hei")]


async def test_concurrent_captioners_get_consecutive_sequences(
    service: CaptionService, event_id: int, db: async_sessionmaker[AsyncSession]
) -> None:
    """Lines committed at once by two captioners each get their own next sequence number."""
    await asyncio.gather(*(
        service.commit(event_id, who, who, f"{who}{n}", f"{who} {n}")
        for n in range(5) for who in ("a", "b")
    ))
    stored = await texts(db)
    assert [seq for seq, _ in stored] == list(range(1, 11))


async def test_blank_line_is_refused(service: CaptionService, event_id: int) -> None:
    """A line of only white space is `captions.empty`."""
    with pytest.raises(Invalid) as refused:
        await service.commit(event_id, "a", "", "k", " \t ")
    assert refused.value.code == "captions.empty"


async def test_recording_gets_a_draft_track_on_its_clock(
    service: CaptionService, event_id: int, db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """Lines typed while a stream ran become the recording's nb track, timed from its start."""
    async with db() as session, session.begin():
        session.add_all([
            CaptionLine(event_id=event_id, seq=1, key="before", text="før opptaket",
                        started_at=START - dt.timedelta(minutes=5),
                        at=START - dt.timedelta(minutes=4)),
            CaptionLine(event_id=event_id, seq=2, key="in", text="Velkommen <alle> & enhver",
                        started_at=START + dt.timedelta(seconds=10.5),
                        at=START + dt.timedelta(seconds=12.5)),
            CaptionLine(event_id=event_id, seq=3, key="after", text="etterpå",
                        started_at=START + dt.timedelta(minutes=10),
                        at=START + dt.timedelta(minutes=10)),
        ])
        recording = Recording(event_id=event_id, source="stream", started_at=START,
                              duration=120.0, cut_start=0.5)
        session.add(recording)
        await session.flush()
        recording_id = recording.id
    assert await write_draft(settings, db, service, recording_id)
    path = Path(settings.recordings_dir) / "archive" / str(recording_id) / "captions" / "nb.vtt"
    parsed = parse_captions(path.read_text())
    assert [(c.start, c.end, c.text) for c in parsed.cues] == [
        (10.0, 16.0, "Velkommen &lt;alle&gt; &amp; enhver")]
    async with db() as session:
        tracks = (await session.scalars(select(RecordingCaption))).all()
    assert [t.lang for t in tracks] == [LANG]
    assert not await write_draft(settings, db, service, recording_id)  # kept, never replaced
