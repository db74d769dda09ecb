"""The registrant's organisation and the event's quotas for it, counted under the event lock.

Which organisation a typed name is: `live.organisations.service.identify` (the registry,
aliases, organisation numbers; unknown names go to the organisers' review list). Quotas:
- per kind ("max four from each county"): each organisation of the kind counts its own;
- per named organisation: that organisation's;
- per region: everybody whose organisation lies in the region, together.
Each applicable quota is checked on its own, so the tightest one refuses. The counts are
the event's live registrations (confirmed and waitlisted), taken under the event's write
lock (see `service`), so concurrent registrations cannot pass a quota together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models.events import Event, Quota
from live.models.people import Organisation, OrganisationKind
from live.models.registration import Registration, Status
from live.organisations.domain import orgnr_of
from live.organisations.service import exact, identify
from live.registration import rules
from live.registration.rules import N_, Message, Refused


class OrganisationUnclear(Refused):
    """422: the typed organisation is ambiguous or only close to a known one."""

    def __init__(self, names: Sequence[str]) -> None:
        self.suggestions = tuple(names)
        text = (
            Message(N_("Did you mean %(name)s?"), {"name": names[0]})
            if len(names) == 1
            else Message(N_("Did you mean one of these: %(names)s?"), {"names": "; ".join(names)})
        )
        super().__init__("registration.organisation_unclear", text, {"organisation": text})


class UnknownNumber(Refused):
    """422: an organisation number the registry does not know (a number is no name to review)."""

    def __init__(self, number: str) -> None:
        text = Message(
            N_("The organisation number %(number)s is not in Salen's register. "
               "Type the organisation's name instead."), {"number": number})
        super().__init__("registration.organisation_unclear", text, {"organisation": text})


async def organisation_for(
    session: AsyncSession, name: str, *, as_typed: bool = False
) -> Organisation:
    """The organisation a registration naming `name` counts for; refused when unclear."""
    number = orgnr_of(name)
    if number is not None and not await exact(session, name):
        raise UnknownNumber(number)
    found = await identify(session, name, as_typed=as_typed)
    if isinstance(found, tuple):
        raise OrganisationUnclear(found)
    return found


@dataclass(frozen=True)
class Body:
    """An organisation as quotas see it. Oslo is one body in two rows of the registry: the
    municipality 0301 and the county 03 it alone makes up; its registrations count as one,
    under per-county and per-municipality quotas alike, whichever of the names was typed."""

    ids: tuple[int, ...]
    kinds: frozenset[str]
    name: str
    region: str


async def body_of(session: AsyncSession, organisation: Organisation) -> Body:
    """`organisation` with its twin, when the registry has a county of a single municipality."""
    twin = await _twin(session, organisation)
    found = [organisation] if twin is None else [organisation, twin]
    return Body(ids=tuple(o.id for o in found), kinds=frozenset(str(o.kind) for o in found),
                name=organisation.name,
                region=organisation.region or (twin.region if twin is not None else ""))


async def _twin(session: AsyncSession, organisation: Organisation) -> Organisation | None:
    kind = str(organisation.kind)
    if not organisation.in_registry or not organisation.county or kind not in _TWINS:
        return None
    in_county = (Organisation.in_registry.is_(True), Organisation.county == organisation.county)
    municipalities = list(await session.scalars(
        select(Organisation).where(*in_county, Organisation.kind == OrganisationKind.MUNICIPALITY)
        .limit(2)))
    if len(municipalities) != 1:
        return None
    if kind == OrganisationKind.COUNTY:
        return municipalities[0]
    if municipalities[0].id != organisation.id:
        return None
    return await session.scalar(
        select(Organisation).where(*in_county, Organisation.kind == OrganisationKind.COUNTY))


_TWINS = frozenset({OrganisationKind.COUNTY, OrganisationKind.MUNICIPALITY})


@dataclass(frozen=True)
class Applied:
    """A quota that covers an organisation: whose places it counts and how many."""

    subject: str
    limit: int
    organisation_ids: tuple[int, ...] = ()
    region: str | None = None
    # A region quota for one kind of body counts only that kind in the region.
    kind: str | None = None


def applicable(quotas: list[Quota], body: Body) -> list[Applied]:
    """The quotas that cover `body`."""
    found = []
    for q in quotas:
        if q.region is not None:
            kind_ok = q.organisation_kind is None or str(q.organisation_kind) in body.kinds
            if body.region == q.region and kind_ok:
                kind = None if q.organisation_kind is None else str(q.organisation_kind)
                found.append(Applied(q.region, q.limit, region=q.region, kind=kind))
        elif any(
            rules.applicable_limit(
                [rules.QuotaRule(q.limit, q.organisation_kind, q.organisation_id)], id_, kind
            ) is not None
            for id_ in body.ids for kind in body.kinds
        ):
            found.append(Applied(body.name, q.limit, organisation_ids=body.ids))
    return found


def counted(query: Select[Any], quota: Applied) -> Select[Any]:
    """`query` over an event's live registrations narrowed to those the quota counts."""
    if quota.region is None:
        return query.where(Registration.organisation_id.in_(quota.organisation_ids))
    query = query.join(Organisation, Organisation.id == Registration.organisation_id).where(
        Organisation.region == quota.region
    )
    return query if quota.kind is None else query.where(Organisation.kind == quota.kind)


async def used(session: AsyncSession, event_id: int, quota: Applied) -> int:
    """Live registrations of the event that the quota counts."""
    query = select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status != Status.CANCELLED
    )
    return int(await session.scalar(counted(query, quota)) or 0)


async def event_quotas(session: AsyncSession, event: Event) -> list[Quota]:
    return list(await session.scalars(select(Quota).where(Quota.event_id == event.id)))


async def check_quota(session: AsyncSession, event: Event, organisation: Organisation) -> None:
    """Refuse when a quota covering the organisation is already used up."""
    quotas = await event_quotas(session, event)
    if not quotas:
        return
    for quota in applicable(quotas, await body_of(session, organisation)):
        rules.check_quota(
            quota.limit,
            await used(session, event.id, quota),
            subject=quota.subject,
            contact=event.contact_email,
        )
