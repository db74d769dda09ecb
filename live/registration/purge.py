"""Delete participants' personal data once an event is long enough past.

Their attendance (check-ins, online attendance, reminder records; `live.models.attendance`)
goes with the registrations through ON DELETE CASCADE.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import create_engine, sessionmaker
from live.models.base import utcnow
from live.models.events import Occurrence
from live.models.plumbing import OutboxMail
from live.models.registration import Registration
from live.registration.service import write_transaction


async def purge(
    db: async_sessionmaker[AsyncSession], retention: dt.timedelta, *, now: dt.datetime | None = None
) -> int:
    """Delete every registration of events whose last occurrence ended over `retention` ago."""
    cutoff = (now or utcnow()) - retention
    async with write_transaction(db) as session:
        ended = (
            select(Occurrence.event_id)
            .group_by(Occurrence.event_id)
            .having(func.max(Occurrence.ends_at) < cutoff)
        )
        purged = select(Registration.id).where(Registration.event_id.in_(ended))
        await session.execute(  # their mails carry the same personal data
            delete(OutboxMail)
            .where(OutboxMail.ref_kind == "registration", OutboxMail.ref_id.in_(purged))
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            delete(Registration)
            .where(Registration.event_id.in_(ended))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge_database(database_url: str, retention_days: int) -> int:
    """`salen registrations purge --days N`: open the database, purge, close; returns the count."""
    engine = create_engine(database_url)
    try:
        return await purge(sessionmaker(engine), dt.timedelta(days=retention_days))
    finally:
        await engine.dispose()
