"""Fixtures of the polls service tests: a migrated database (SQLite and PostgreSQL), an
event, the memory hub, the app's writer and reader, and the service on them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import Writer, create_engine, open_reader, open_writer, sessionmaker
from live.hub import Hub, open_hub
from live.models import Event
from live.polls.service import PollService


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database: SQLite and PostgreSQL (every test here runs on both)."""
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def event_id(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session, session.begin():
        event = Event(slug="panel", title="Panel")
        session.add(event)
        await session.flush()
        return event.id


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    async with open_hub("memory://") as opened:
        yield opened


@pytest.fixture
async def writer(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Writer]:
    """The app's writer: its own thread on SQLite, the loop on PostgreSQL."""
    async with open_writer(db) as opened:
        yield opened


@pytest.fixture
async def service(
    db: async_sessionmaker[AsyncSession], hub: Hub, writer: Writer, event_id: int
) -> AsyncIterator[PollService]:
    async with open_reader(db) as reader:
        polls = PollService(db, hub, writer, reader)
        await polls.ensure(event_id)
        yield polls
        polls.aclose()
