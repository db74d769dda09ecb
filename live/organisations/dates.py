"""Regions per date: which of an event's occurrences a registrant's organisation is meant for.

Seed 000 holds one conference in three cities, each for named regions, and lets people
choose another "as far as capacity allows". An occurrence lists its regions
(`Occurrence.regions`); a body of the registry has its region. The suggested occurrence is
the first (by date) whose regions include the body's region. A suggestion only orders the
form: any open occurrence with room may still be chosen.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models.events import Event, Occurrence
from live.models.people import Organisation
from live.organisations.service import exact, suggested, suggestions_index


def for_region(occurrences: list[Occurrence], region: str) -> Occurrence | None:
    """The first occurrence, by date, meant for `region`."""
    if not region:
        return None
    meant = [o for o in occurrences if region in (o.regions or [])]
    return min(meant, key=lambda o: o.starts_at) if meant else None


async def suggested_occurrence(
    session: AsyncSession, slug: str, region: str
) -> Occurrence | None:
    """The event's occurrence meant for `region`, if any."""
    if not region:
        return None
    event_id = await session.scalar(select(Event.id).where(Event.slug == slug))
    if event_id is None:
        return None
    occurrences = list(await session.scalars(
        select(Occurrence).where(Occurrence.event_id == event_id)))
    return for_region(occurrences, region)


async def region_of(session: AsyncSession, typed: str) -> str:
    """The region of the body `typed` names, or of every body it may mean when they share
    one ("Lom", "Vaga kommune"); "" when none or several. Only orders the form's dates."""
    if not typed.strip():
        return ""
    found = await exact(session, typed)
    if not found:
        names = suggested(typed, await suggestions_index(session))
        found = list(await session.scalars(select(Organisation).where(
            Organisation.name.in_(names), Organisation.reviewed.is_(True)))) if names else []
    regions = {o.region for o in found}
    return regions.pop() if len(regions) == 1 else ""
