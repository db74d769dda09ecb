"""Shared helpers for the archive tests: an event with three timed items, and test videos."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx

from live.db import create_engine, sessionmaker
from live.models import Event, EventType, ProgrammeBlock, ProgrammeItem, Speaker
from live.settings import Settings
from stream.package.synth import make_test_video

SLUG = "opptak-test"
T0 = dt.datetime(2026, 10, 21, 8, 0, tzinfo=dt.UTC)
ITEMS = ["Velkommen", "Innlegg om planstrategi", "Spørsmål fra salen"]


async def add_event(settings: Settings) -> None:
    """An event with three programme items 10 seconds apart, starting at T0."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event = Event(
            slug=SLUG,
            title="Opptak av planseminaret",
            event_type=EventType.DEBATE,
            summary="Om regional planstrategi.",
        )
        session.add(event)
        await session.flush()
        speaker = Speaker(
            event_id=event.id,
            key="kari",
            name="Kari Nordmann",
            organisation="Innlandet fylkeskommune",
        )
        session.add(speaker)
        await session.flush()
        block = ProgrammeBlock(
            event_id=event.id,
            title="Formiddag",
            starts_at=T0,
            ends_at=T0 + dt.timedelta(seconds=30),
        )
        block.items = [
            ProgrammeItem(
                event_id=event.id,
                position=i,
                title=title,
                starts_at=T0 + dt.timedelta(seconds=10 * i),
                ends_at=T0 + dt.timedelta(seconds=10 * i + 10),
                speaker_ids=[speaker.id] if i == 1 else [],
            )
            for i, title in enumerate(ITEMS)
        ]
        session.add(block)
    await engine.dispose()


def video(tmp_path: Path, seconds: float = 30, name: str = "opptak.ts", **options: object) -> Path:
    """A generated H.264/Opus test video (keyframes every 2 s)."""
    return make_test_video(tmp_path / name, seconds, **options)  # type: ignore[arg-type]


async def wait_processed(
    client: httpx.AsyncClient, recording_id: int, admin: dict[str, str]
) -> dict[str, object]:
    """Poll the API until the recording has left `processing` (bounded by the test timeout)."""
    while True:
        body = (await client.get(f"/api/recordings/{recording_id}", headers=admin)).json()
        if body["state"] == "failed" or (body["state"] != "processing" and body["progress"] >= 1):
            return body  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
