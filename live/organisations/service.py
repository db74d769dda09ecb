"""The registry in the database: loading it, finding a typed name in it, searching it.

Contract:
- `load_registry(session, entries)` makes the database's registry the file's: bodies are
  matched by organisation number, then by name key (a name a registrant typed before the
  registry knew it is adopted, keeping its registrations), updated, given their aliases;
  bodies no longer in the file leave the registry but keep their registrations.
- `identify(session, typed, as_typed=...)` is the organisation a registration counts for:
  a known body when the name, an alias or the organisation number says so; the names to
  choose from (a tuple) when the name is ambiguous or only close to a known one, unless the
  registrant confirmed the name as typed; otherwise a new unknown organisation, which goes
  to the organisers' review list (`live.organisations.review`). Suggestions come from the
  registry and reviewed bodies only, never from names other registrants typed.
  (`live.registration.quota` turns the names into the refusal the registrant sees.)

This module and `domain` build only on the models: `events` and `registration` use them.
- `search(session, query)` is the form's suggestion list: registry and reviewed bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from live.models.people import Organisation, OrganisationAlias, OrganisationKind, normalise_name
from live.organisations import domain
from live.organisations.domain import Entry, name_key

SEARCH_MAX = 20


async def _registry_rows(session: AsyncSession) -> dict[str, Organisation]:
    rows = await session.scalars(select(Organisation))
    return {row.key: row for row in rows}


async def load_registry(session: AsyncSession, entries: Sequence[Entry]) -> int:
    """Make the registry the file's (see the module docstring); returns the bodies loaded."""
    by_key = await _registry_rows(session)
    by_orgnr = {o.orgnr: o for o in by_key.values() if o.orgnr}
    listed: set[int] = set()
    for entry in entries:
        key = name_key(entry.name)
        row = (by_orgnr.get(entry.orgnr) if entry.orgnr else None) or by_key.get(key)
        if row is None:
            row = Organisation(name=entry.name, key=key)
            session.add(row)
        row.name, row.key, row.kind = entry.name, key, entry.kind
        row.number, row.county, row.orgnr = entry.number, entry.county, entry.orgnr
        row.region, row.in_registry, row.reviewed = entry.region, True, True
        row.merged_into_id = None
        await session.flush()
        by_key[key] = row
        listed.add(row.id)
        await session.execute(
            delete(OrganisationAlias).where(OrganisationAlias.organisation_id == row.id)
        )
        aliases = {name_key(a): a for a in (*entry.aliases, entry.name)}
        session.add_all(
            OrganisationAlias(key=k, name=a, organisation_id=row.id) for k, a in aliases.items()
        )
    for row in by_key.values():
        if row.in_registry and row.id not in listed:
            row.in_registry = False
    await session.flush()
    return len(listed)


async def ensure_registry(session: AsyncSession) -> int:
    """Load the shipped registry into a database that has none; returns the bodies loaded."""
    if (await session.scalars(select(Organisation.id).where(Organisation.in_registry))).first():
        return 0
    return await load_registry(session, domain.read_registry())


async def _final(session: AsyncSession, organisation: Organisation) -> Organisation:
    """Follow merges to the body an organisation now counts as."""
    seen = set()
    while organisation.merged_into_id is not None and organisation.id not in seen:
        seen.add(organisation.id)
        organisation = await session.get_one(Organisation, organisation.merged_into_id)
    return organisation


async def exact(session: AsyncSession, typed: str) -> list[Organisation]:
    """The bodies `typed` names for certain: by organisation number, name key or alias."""
    number = domain.orgnr_of(typed)
    if number is not None:
        found = await session.scalar(select(Organisation).where(Organisation.orgnr == number))
        return [await _final(session, found)] if found is not None else []
    key = name_key(typed)
    ids = set(
        await session.scalars(
            select(OrganisationAlias.organisation_id).where(OrganisationAlias.key == key)
        )
    )
    rows = list(
        await session.scalars(
            select(Organisation).where(
                or_(
                    Organisation.id.in_(ids),
                    Organisation.key.in_([key, normalise_name(typed)]),
                )
            )
        )
    )
    final = {o.id: o for o in [await _final(session, r) for r in rows]}
    # A name someone typed before the registry knew it yields to the registry's body.
    preferred = [o for o in final.values() if o.reviewed] or list(final.values())
    return sorted(preferred, key=lambda o: o.name)


async def suggestions_index(session: AsyncSession) -> domain.Known:
    """The registry and reviewed bodies by their keys: what may be suggested to anyone."""
    known = domain.Known()
    rows = await session.execute(
        select(Organisation.id, Organisation.name, OrganisationAlias.key)
        .join(OrganisationAlias, OrganisationAlias.organisation_id == Organisation.id)
        .where(Organisation.reviewed.is_(True), Organisation.merged_into_id.is_(None))
    )
    for organisation_id, name, key in rows:
        known.add(organisation_id, name, [key], None)
    return known


def suggested(typed: str, index: domain.Known) -> tuple[str, ...]:
    """The registry's bodies a name nobody recognised may be (for the organisers' review)."""
    decision = domain.decide(typed, index)
    return decision.names if isinstance(decision, domain.Ambiguous | domain.Unsure) else ()


async def _create_unknown(session: AsyncSession, typed: str) -> Organisation:
    name = " ".join(typed.split())
    key = name_key(name)
    try:
        # A savepoint: another event's registration may create the same name concurrently.
        async with session.begin_nested():
            organisation = Organisation(name=name, key=key, kind=OrganisationKind.OTHER)
            session.add(organisation)
            await session.flush()
            session.add(OrganisationAlias(key=key, name=name, organisation_id=organisation.id))
        return organisation
    except IntegrityError:
        found = await session.scalar(select(Organisation).where(Organisation.key == key))
        assert found is not None
        return await _final(session, found)


async def identify(
    session: AsyncSession, typed: str, *, as_typed: bool = False
) -> Organisation | tuple[str, ...]:
    """The organisation `typed` counts for, or the names to choose from (module docstring)."""
    found = await exact(session, typed)
    if len(found) == 1:
        return found[0]
    if found:
        return tuple(o.name for o in found)
    if not as_typed:
        decision = domain.decide(typed, await suggestions_index(session))
        if isinstance(decision, domain.Ambiguous | domain.Unsure):
            return decision.names
    return await _create_unknown(session, typed)


@dataclass(frozen=True)
class Listed:
    """One body in the form's suggestion list."""

    id: int
    name: str
    kind: str
    region: str
    orgnr: str | None

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "region": self.region,
                "orgnr": self.orgnr}


async def search(session: AsyncSession, query: str = "", limit: int = SEARCH_MAX) -> list[Listed]:
    """Registry and reviewed bodies whose name or alias contains `query` (all when empty)."""
    where = [Organisation.reviewed.is_(True), Organisation.merged_into_id.is_(None)]
    statement = select(Organisation).where(*where).order_by(Organisation.name)
    key = name_key(query)
    number = domain.orgnr_of(query)
    if number is not None:
        statement = statement.where(Organisation.orgnr == number)
    elif key:
        matching = select(OrganisationAlias.organisation_id).where(
            OrganisationAlias.key.contains(key, autoescape=True)
        )
        statement = statement.where(Organisation.id.in_(matching))
    rows = await session.scalars(statement.limit(limit))
    return [Listed(o.id, o.name, str(o.kind), o.region, o.orgnr) for o in rows]
