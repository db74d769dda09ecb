"""The organisers' review of organisations registrants typed that the registry did not know.

Contract:
- `pending` lists them (not in the registry, not reviewed, not merged, of no kind yet),
  with how many live registrations each has.
- `classify` gives one a kind (and region); `merge` folds it into a known body: its
  registrations and its name (as an alias) move there, so later registrants typing the same
  name count for that body at once.
- Either way the quotas of every event the organisation's registrations belong to are
  counted again under those events' write locks (the registration transaction's lock,
  `live.registration.service.lock_event`), and each live registration beyond a limit, in
  the order people registered, is flagged (`QuotaFlag`) for the organiser. Nothing is
  cancelled: the organiser decides, and may dismiss the flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import Invalid, NotFound
from live.models.events import Quota
from live.models.organisations import QuotaFlag
from live.models.people import Organisation, OrganisationAlias, OrganisationKind
from live.models.registration import Registration, Status
from live.organisations.domain import Entry, name_key
from live.organisations.service import exact, load_registry
from live.registration.quota import Applied, applicable, body_of, counted
from live.registration.service import lock_event, write_transaction


@dataclass(frozen=True)
class Pending:
    """An organisation waiting for review."""

    id: int
    name: str
    registrations: int

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "name": self.name, "registrations": self.registrations}


@dataclass(frozen=True)
class Flag:
    """A registration beyond a quota, as the organiser sees it."""

    id: int
    event_id: int
    registration_id: int
    name: str
    subject: str
    used: int
    limit: int

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "registration": self.registration_id, "name": self.name,
                "subject": self.subject, "used": self.used, "limit": self.limit}


# What makes an organisation wait for review: typed, unknown, never classified or merged.
WAITING = (Organisation.in_registry.is_(False), Organisation.reviewed.is_(False),
           Organisation.merged_into_id.is_(None), Organisation.kind == OrganisationKind.OTHER)


async def count_pending(session: AsyncSession) -> int:
    """How many organisations wait for review (for the dashboard)."""
    return int(await session.scalar(
        select(func.count()).select_from(Organisation).where(*WAITING)) or 0)


async def pending(db: async_sessionmaker[AsyncSession]) -> list[Pending]:
    """Organisations registrants typed that nobody has reviewed yet."""
    async with db() as session:
        live = func.count(Registration.id).filter(Registration.status != Status.CANCELLED)
        rows = await session.execute(
            select(Organisation.id, Organisation.name, live)
            .outerjoin(Registration, Registration.organisation_id == Organisation.id)
            .where(*WAITING)
            .group_by(Organisation.id, Organisation.name)
            .order_by(Organisation.name)
        )
        return [Pending(i, name, int(n)) for i, name, n in rows]


async def _unreviewed(session: AsyncSession, organisation_id: int) -> Organisation:
    found = await session.get(Organisation, organisation_id)
    if found is None or found.in_registry or found.merged_into_id is not None:
        raise NotFound("No such organisation to review.", code="organisation.not_found")
    return found


async def _lock_events_of(session: AsyncSession, organisation_ids: list[int]) -> None:
    """Take the write lock of every event with live registrations of these organisations."""
    event_ids = sorted(set(await session.scalars(
        select(Registration.event_id).where(Registration.organisation_id.in_(organisation_ids),
                                            Registration.status != Status.CANCELLED))))
    for event_id in event_ids:
        await lock_event(session, event_id=event_id)


async def classify(
    db: async_sessionmaker[AsyncSession], organisation_id: int, kind: str, region: str = ""
) -> list[int]:
    """Give the organisation a kind and region; returns the registrations newly flagged."""
    if kind not in {str(k) for k in OrganisationKind}:
        raise Invalid("Unknown kind of organisation.", code="organisation.invalid",
                      fields={"kind": "Unknown kind."})
    async with write_transaction(db) as session:
        await _lock_events_of(session, [organisation_id])
        organisation = await _unreviewed(session, organisation_id)
        organisation.kind = OrganisationKind(kind)
        organisation.region = region.strip()[:120]
        organisation.reviewed = True
        await session.flush()
        return await reflag(session, organisation)


async def merge(db: async_sessionmaker[AsyncSession], organisation_id: int, into: str) -> list[int]:
    """Fold the organisation into the known body named `into`; returns new flags."""
    async with write_transaction(db) as session:
        known = [o for o in await exact(session, into) if o.reviewed]
        target = known[0] if len(known) == 1 else None
        if target is None or target.id == organisation_id:
            raise Invalid("Choose a known organisation to merge into.",
                          code="organisation.invalid", fields={"into": "Unknown organisation."})
        await _lock_events_of(session, [organisation_id, target.id])
        organisation = await _unreviewed(session, organisation_id)
        registrations = await session.scalars(
            select(Registration).where(Registration.organisation_id == organisation.id))
        for registration in registrations:
            registration.organisation_id = target.id
        organisation.merged_into_id = target.id
        await session.execute(delete(OrganisationAlias).where(
            OrganisationAlias.organisation_id == organisation.id))
        key = name_key(organisation.name)
        if await session.scalar(select(OrganisationAlias.id).where(
                OrganisationAlias.key == key, OrganisationAlias.organisation_id == target.id)) is None:
            session.add(OrganisationAlias(key=key, name=organisation.name, organisation_id=target.id))
        await session.flush()
        return await reflag(session, target)


async def load_and_reflag(session: AsyncSession, entries: Sequence[Entry]) -> tuple[int, list[int]]:
    """Load a registry file (`service.load_registry`), then flag registrations now beyond a
    quota because the file knows a name registrants typed (it adopts that organisation,
    giving it a kind). Returns (bodies loaded, registrations newly flagged)."""
    typed = set(await session.scalars(select(Organisation.id).where(
        Organisation.in_registry.is_(False), Organisation.merged_into_id.is_(None))))
    loaded = await load_registry(session, entries)
    adopted = list(await session.scalars(select(Organisation).where(
        Organisation.id.in_(typed), Organisation.in_registry.is_(True))))
    await _lock_events_of(session, [o.id for o in adopted])
    flagged: list[int] = []
    for organisation in adopted:
        flagged += await reflag(session, organisation)
    return loaded, flagged


async def _counted(session: AsyncSession, event_id: int, quota: Applied) -> list[int]:
    """The event's live registrations a quota counts, in the order people registered."""
    query = select(Registration.id).where(
        Registration.event_id == event_id, Registration.status != Status.CANCELLED)
    return list(await session.scalars(counted(query, quota).order_by(Registration.id)))


async def reflag(session: AsyncSession, organisation: Organisation) -> list[int]:
    """Flag the registrations now beyond a quota covering `organisation` (events locked)."""
    event_ids = sorted(set(await session.scalars(select(Registration.event_id).where(
        Registration.organisation_id == organisation.id, Registration.status != Status.CANCELLED))))
    flagged: list[int] = []
    body = await body_of(session, organisation)
    for event_id in event_ids:
        quotas = list(await session.scalars(select(Quota).where(Quota.event_id == event_id)))
        for quota in applicable(quotas, body):
            counted = await _counted(session, event_id, quota)
            for registration_id in counted[quota.limit:]:
                exists = await session.scalar(select(QuotaFlag.id).where(
                    QuotaFlag.registration_id == registration_id))
                if exists is None:
                    session.add(QuotaFlag(event_id=event_id, registration_id=registration_id,
                                          subject=quota.subject, used=len(counted),
                                          limit=quota.limit))
                    flagged.append(registration_id)
    await session.flush()
    return flagged


async def flags(db: async_sessionmaker[AsyncSession], event_id: int) -> list[Flag]:
    """The event's flagged registrations that are still live."""
    async with db() as session:
        rows = await session.execute(
            select(QuotaFlag, Registration.name)
            .join(Registration, Registration.id == QuotaFlag.registration_id)
            .where(QuotaFlag.event_id == event_id, Registration.status != Status.CANCELLED)
            .order_by(QuotaFlag.id))
        return [Flag(f.id, f.event_id, f.registration_id, name, f.subject, f.used, f.limit)
                for f, name in rows]


async def dismiss(db: async_sessionmaker[AsyncSession], event_id: int, flag_id: int) -> None:
    """The organiser has settled a flag (kept the registration, or removed it by hand)."""
    async with db() as session, session.begin():
        flag = await session.get(QuotaFlag, flag_id)
        if flag is None or flag.event_id != event_id:
            raise NotFound("No such flag.", code="organisation.flag_not_found")
        await session.delete(flag)
