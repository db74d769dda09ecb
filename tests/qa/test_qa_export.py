"""Exporting an event's Q&A as CSV and JSON with the time of every step."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import live.models.qa  # noqa: F401  (registers the Q&A tables)
from live.db import create_engine, open_writer, sessionmaker
from live.hub import open_hub
from live.identity import Participant
from live.models import Base, Event
from live.qa.export import export_rows, to_csv, to_json
from live.qa.messages import Approve, Ask, Done, Now
from live.qa.service import Actor, QaService

MOD = Actor(Participant("m", "Mona"), moderator=True)
VIEWER = Actor(Participant("v"))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'export.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield sessionmaker(engine)
    await engine.dispose()


async def run_session(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session, session.begin():
        event = Event(slug="x", title="X")
        session.add(event)
        await session.flush()
        event_id = event.id
    async with open_hub("memory://") as hub, open_writer(db) as writer:
        qa = QaService(db, hub, writer)
        await qa.ensure(event_id)
        q = await qa.ask(event_id, VIEWER, Ask(id=1, text="=SUM(A1) trains?", name="Ada"))
        await qa.moderate(event_id, MOD, Approve(id=1, question=q.id))
        await qa.panel(event_id, MOD, Now(id=1, question=q.id))
        await qa.panel(event_id, MOD, Done(id=1, question=None))
        await qa.ask(event_id, VIEWER, Ask(id=2, text="Still pending"))
    return event_id


async def test_export_has_times_of_each_step(db: async_sessionmaker[AsyncSession]) -> None:
    """The answered question has asked/approved/on-air/answered times; the pending one none."""
    rows = await export_rows(db, await run_session(db))
    assert [r["status"] for r in rows] == ["answered", "pending"]
    first, second = rows
    assert first["asked_at"] <= first["approved_at"] <= first["on_air_at"] <= first["answered_at"]
    assert second["approved_at"] is None and second["answered_at"] is None


async def test_csv_and_json_formats(db: async_sessionmaker[AsyncSession]) -> None:
    """CSV has a header and defuses formula-like text; JSON is a plain array of objects."""
    rows = await export_rows(db, await run_session(db))
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["text"] == "'=SUM(A1) trains?" and parsed[0]["name"] == "Ada"
    assert parsed[1]["approved_at"] == ""
    assert json.loads(to_json(rows))[0]["text"] == "=SUM(A1) trains?"
