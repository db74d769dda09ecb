"""Retention: personal data of events long past is deleted, that of current events kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Event, Occurrence
from live.models.base import utcnow
from live.models.registration import Registration
from live.registration import service
from live.registration.purge import purge
from live.registration.validate import Submission
from tests.registration_fixtures import (
    db_fixture,  # noqa: F401  (the `db` fixture)
    seed,
)

DB = async_sessionmaker[AsyncSession]


async def test_purge_deletes_only_events_past_retention(db: DB) -> None:
    """With 90 days' retention, an event that ended 100 days ago loses its registrations."""
    await seed(db, quota=None, slug="old")
    await seed(db, quota=None, slug="new")
    for slug in ("old", "new"):
        for i in range(3):
            await service.register(
                db,
                slug,
                Submission(
                    occurrence="elverum",
                    attendance="in_person",
                    name=f"P{i}",
                    email=f"p{i}@example.no",
                    organisation="NAV",
                    theme="tema-1",
                ),
            )
    async with db() as session, session.begin():
        # Move the "old" event 100 days into the past.
        for occurrence in await session.scalars(
            select(Occurrence).join(Event).where(Event.slug == "old")
        ):
            occurrence.starts_at -= dt.timedelta(days=200)
            occurrence.ends_at = utcnow() - dt.timedelta(days=100)
    assert await purge(db, dt.timedelta(days=120)) == 0
    assert await purge(db, dt.timedelta(days=90)) == 3
    async with db() as session:
        left = await session.scalars(select(Event.slug).join(Registration))
        assert set(left) == {"new"}
