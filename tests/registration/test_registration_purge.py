"""Retention: personal data of events long past is deleted, that of current events kept."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import create_engine, sessionmaker
from live.migrate import upgrade_async
from live.models import Event, Occurrence
from live.models.base import utcnow
from live.models.registration import Registration
from live.registration import service
from live.registration.purge import purge, purge_database
from live.registration.validate import Submission
from tests.support.registration import (
    db_fixture,  # noqa: F401  (the `db` fixture)
    seed,
)

DB = async_sessionmaker[AsyncSession]


def submission(i: int) -> Submission:
    return Submission(
        occurrence="elverum",
        attendance="in_person",
        name=f"P{i}",
        email=f"p{i}@example.no",
        organisation="NAV",
        theme="tema-1",
    )


async def test_purge_deletes_only_events_past_retention(db: DB) -> None:
    """With 90 days' retention, an event that ended 100 days ago loses its registrations."""
    await seed(db, quota=None, slug="old")
    await seed(db, quota=None, slug="new")
    for slug in ("old", "new"):
        for i in range(3):
            await service.register(db, slug, submission(i))
    async with db() as session, session.begin():
        # Move the "old" event 100 days into the past.
        for occurrence in await session.scalars(
            select(Occurrence).join(Event).where(Event.slug == "old")
        ):
            occurrence.starts_at -= dt.timedelta(days=200)
            occurrence.ends_at = utcnow() - dt.timedelta(days=100)
    assert await purge(db, dt.timedelta(days=120)) == 0
    url = str(db.kw["bind"].url.render_as_string(hide_password=False))
    assert await purge_database(url, retention_days=90) == 3
    async with db() as session:
        left = await session.scalars(select(Event.slug).join(Registration))
        assert set(left) == {"new"}


async def test_migrations_create_the_registrations_table(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`salen db upgrade` (Alembic head) creates the table with its partial unique index."""
    for backend in ("sqlite", "postgres"):
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        else:
            server = request.getfixturevalue("postgres_server")
            name = f"t_{uuid.uuid4().hex[:16]}"
            url = server.create_database(name)
            request.addfinalizer(functools.partial(server.drop_database, name))
        await upgrade_async(url)
        engine = create_engine(url)
        maker = sessionmaker(engine)
        await seed(maker, quota=None)
        first = await service.register(maker, "konf", submission(1))
        await service.cancel(maker, first.receipt.token)
        again = await service.register(maker, "konf", submission(1))
        assert again.receipt.status == "confirmed"
        await engine.dispose()
