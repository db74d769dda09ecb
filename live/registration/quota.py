"""The registrant's organisation (matched by normalised name) and the event's quota for it.

The arithmetic of quotas is `rules.applicable_limit` and `rules.check_quota`; this counts
the organisation's live registrations under the event's write lock (see `service`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from live.models.events import Event, Quota
from live.models.people import Organisation, normalise_name
from live.models.registration import Registration, Status
from live.registration import rules


async def organisation_for(session: AsyncSession, name: str) -> Organisation:
    """The organisation whose normalised name matches, created (kind OTHER) when new."""
    key = normalise_name(name)
    found = await session.scalar(select(Organisation).where(Organisation.key == key))
    if found is not None:
        return found
    try:
        # A savepoint: another event's registration may create the same name concurrently.
        async with session.begin_nested():
            organisation = Organisation(name=" ".join(name.split()), key=key)
            session.add(organisation)
        return organisation
    except IntegrityError:
        found = await session.scalar(select(Organisation).where(Organisation.key == key))
        assert found is not None
        return found


async def check_quota(session: AsyncSession, event: Event, organisation: Organisation) -> None:
    """Refuse when the organisation already holds its quota of live registrations."""
    quotas = await session.scalars(select(Quota).where(Quota.event_id == event.id))
    limit = rules.applicable_limit(
        [rules.QuotaRule(q.limit, q.organisation_kind, q.organisation_id) for q in quotas],
        organisation.id,
        organisation.kind,
    )
    if limit is None:
        return
    used = await session.scalar(
        select(func.count()).where(
            Registration.event_id == event.id,
            Registration.organisation_id == organisation.id,
            Registration.status != Status.CANCELLED,
        )
    )
    rules.check_quota(limit, int(used or 0))
