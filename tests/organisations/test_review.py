"""Typed names against the registry in the database: matches, suggestions, review, flags, regions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Quota, Registration
from live.models.people import OrganisationKind
from live.models.registration import Attendance, Status
from live.organisations import review
from live.organisations.domain import Entry, read_registry
from live.organisations.service import load_registry, search
from live.registration import service
from live.registration.quota import OrganisationUnclear
from live.registration.rules import Refusal
from live.registration.validate import Submission
from tests.support.registration import (
    db_fixture,  # noqa: F401  (the `db` fixture)
    seed,
)

DB = async_sessionmaker[AsyncSession]


async def prepared(db: DB, quota: int = 1) -> str:
    async with db() as session, session.begin():
        await load_registry(session, read_registry())
    return (await seed(db, quota=quota)).slug


def person(i: int, organisation: str, *, as_typed: bool = False) -> Submission:
    return Submission(occurrence="elverum", attendance=Attendance.IN_PERSON, name=f"Person {i}",
                      email=f"p{i}@example.no", organisation=organisation, theme="tema-1",
                      organisation_as_typed=as_typed)


async def test_unknown_name_is_accepted_and_waits_for_review(db: DB) -> None:
    """A name the registry does not know is accepted, listed for review, and never suggested."""
    slug = await prepared(db)
    outcome = await service.register(db, slug, person(1, "Mjøsen Bryggeri AS"))
    assert outcome.receipt.status == Status.CONFIRMED
    assert [p.name for p in await review.pending(db)] == ["Mjøsen Bryggeri AS"]
    async with db() as session:
        assert await search(session, "Mjøsen") == []
        assert [o.name for o in await search(session, "innlandet fylke")] == [
            "Innlandet fylkeskommune"]


async def test_split_county_is_ambiguous(db: DB) -> None:
    """"Viken fylkeskommune" is refused with the three counties it became; nothing is saved."""
    slug = await prepared(db)
    with pytest.raises(OrganisationUnclear) as caught:
        await service.register(db, slug, person(1, "Viken fylkeskommune"))
    assert caught.value.code == "registration.organisation_unclear"
    assert caught.value.suggestions == (
        "Akershus fylkeskommune", "Buskerud fylkeskommune", "Østfold fylkeskommune")
    assert await review.pending(db) == []


async def test_near_miss_suggests_unless_kept_as_typed(db: DB) -> None:
    """A misspelling is answered "Did you mean Innlandet fylkeskommune?"; kept as typed, it is accepted."""
    slug = await prepared(db)
    with pytest.raises(OrganisationUnclear) as caught:
        await service.register(db, slug, person(1, "Innlandet fylkeskomune"))
    assert caught.value.message == "Did you mean Innlandet fylkeskommune?"
    outcome = await service.register(db, slug, person(1, "Innlandet fylkeskomune", as_typed=True))
    assert outcome.receipt.organisation == "Innlandet fylkeskomune"


async def test_merge_flags_a_breach_and_cancels_nothing(db: DB) -> None:
    """Merging an unknown name into a county over its quota flags the later registration only."""
    slug = await prepared(db, quota=1)
    first = await service.register(db, slug, person(1, "Innlandet fylkeskommune"))
    second = await service.register(db, slug, person(2, "Fylkeshuset på Hamar", as_typed=True))
    pending = await review.pending(db)
    flagged = await review.merge(db, pending[0].id, "innlandet FK")
    assert flagged == [second.receipt.id]
    async with db() as session:
        statuses = set(await session.scalars(select(Registration.status)))
    assert statuses == {Status.CONFIRMED}
    assert first.receipt.status == Status.CONFIRMED
    event_id = await event_of(db, slug)
    assert [(f.name, f.subject, f.used, f.limit) for f in await review.flags(db, event_id)] == [
        ("Person 2", "Innlandet fylkeskommune", 2, 1)]
    with pytest.raises(Refusal) as caught:  # the merged name now counts for Innlandet at once
        await service.register(db, slug, person(3, "Fylkeshuset på Hamar"))
    assert caught.value.code == "registration.quota_exceeded"


async def event_of(db: DB, slug: str) -> int:
    from live.models import Event

    async with db() as session:
        return int(await session.scalar(select(Event.id).where(Event.slug == slug)) or 0)


async def test_classify_applies_the_kind_quota(db: DB) -> None:
    """Classifying an unknown organisation as a county flags its registrations beyond the county quota."""
    slug = await prepared(db, quota=1)
    for i in (1, 2):
        await service.register(db, slug, person(i, "Longyearbyen lokalstyre", as_typed=True))
    pending = await review.pending(db)
    assert pending[0].registrations == 2
    flagged = await review.classify(db, pending[0].id, "county")
    assert len(flagged) == 1
    assert await review.pending(db) == []


async def test_oslo_is_one_body_under_a_county_quota(db: DB) -> None:
    """Oslo kommune is also the county authority of Oslo: under one place per county it
    takes Oslo's place, whichever name is typed; other municipalities are not counties."""
    slug = await prepared(db, quota=1)
    first = await service.register(db, slug, person(1, "Oslo kommune"))
    assert first.receipt.status == Status.CONFIRMED
    for i, name in ((2, "Oslo fylkeskommune"), (3, "oslo kommune")):
        with pytest.raises(Refusal) as caught:
            await service.register(db, slug, person(i, name))
        assert caught.value.code == "registration.quota_exceeded"
    for i, name in ((4, "Bærum kommune"), (5, "Bærum kommune"), (6, "Innlandet fylkeskommune")):
        assert (await service.register(db, slug, person(i, name))).receipt.status == (
            Status.CONFIRMED)


async def test_region_quota_counts_the_region_together(db: DB) -> None:
    """A region quota counts every body of the region: Sel and Lom fill Nord-Gudbrandsdal's two."""
    slug = await prepared(db, quota=4)
    event_id = await event_of(db, slug)
    async with db() as session, session.begin():
        session.add(Quota(event_id=event_id, region="Nord-Gudbrandsdalsregionen", limit=2))
    await service.register(db, slug, person(1, "Sel kommune"))
    await service.register(db, slug, person(2, "Lom kommune"))
    await service.register(db, slug, person(3, "Gjøvik kommune"))
    with pytest.raises(Refusal) as caught:
        await service.register(db, slug, person(4, "Vågå kommune"))
    assert caught.value.message.startswith(
        "Nord-Gudbrandsdalsregionen has already used its 2 of 2 places.")


async def test_region_quota_of_one_kind_counts_only_that_kind(db: DB) -> None:
    """A region quota for municipalities ignores a firm of the region, when checked and when reflagged."""
    slug = await prepared(db, quota=4)
    event_id = await event_of(db, slug)
    async with db() as session, session.begin():
        session.add(Quota(event_id=event_id, region="Nord-Gudbrandsdalsregionen",
                          organisation_kind=OrganisationKind.MUNICIPALITY, limit=1))
    await service.register(db, slug, person(1, "Otta Rekneskap AS", as_typed=True))
    await service.register(db, slug, person(2, "Sel kommune"))
    [firm] = await review.pending(db)
    assert await review.classify(db, firm.id, "private", "Nord-Gudbrandsdalsregionen") == []
    third = await service.register(db, slug, person(3, "Otta Rekneskap AS"))
    assert third.receipt.status == Status.CONFIRMED
    with pytest.raises(Refusal) as caught:
        await service.register(db, slug, person(4, "Lom kommune"))
    assert caught.value.message.startswith(
        "Nord-Gudbrandsdalsregionen has already used its 1 of 1 places.")


async def test_organisation_number_and_former_names_match(db: DB) -> None:
    """An organisation number or a former name counts for the body the registry gives it."""
    slug = await prepared(db, quota=4)
    by_number = await service.register(db, slug, person(1, "939 617 671"))
    assert by_number.receipt.organisation == "Sel kommune"
    former = await service.register(db, slug, person(2, "Oppland fylkeskommune"))
    assert former.receipt.organisation == "Innlandet fylkeskommune"


async def test_an_unknown_organisation_number_asks_for_the_name(db: DB) -> None:
    """A number the registry lacks is refused with a request for the name, never put up for review."""
    slug = await prepared(db, quota=4)
    for as_typed in (False, True):
        with pytest.raises(Refusal) as caught:
            await service.register(db, slug, person(1, "920 717 152", as_typed=as_typed))
        assert caught.value.code == "registration.organisation_unclear"
        assert caught.value.message == (
            "The organisation number 920717152 is not in Salen's register. "
            "Type the organisation's name instead.")
    assert await review.pending(db) == []


async def test_an_import_that_knows_a_typed_name_flags_the_breach(db: DB) -> None:
    """Two from a body the registry lacked, a kind quota of 1: the import that adds it flags one."""
    slug = await prepared(db, quota=4)
    event_id = await event_of(db, slug)
    async with db() as session, session.begin():
        session.add(Quota(event_id=event_id, organisation_kind=OrganisationKind.STATE_AGENCY,
                          limit=1))
    for i in (1, 2):
        await service.register(db, slug, person(i, "Nye Veier AS", as_typed=True))
    entries = [*read_registry(), Entry(OrganisationKind.STATE_AGENCY, "Nye Veier AS")]
    async with db() as session, session.begin():
        loaded, flagged = await review.load_and_reflag(session, entries)
    assert loaded == 421 and len(flagged) == 1
    assert [f.name for f in await review.flags(db, event_id)] == ["Person 2"]
    assert await review.pending(db) == []


async def test_reloading_the_registry_adopts_a_typed_name(db: DB) -> None:
    """A body typed before the registry knew it is adopted by the registry with its registrations."""
    slug = (await seed(db, quota=4)).slug
    typed = await service.register(db, slug, person(1, "innlandet  fylkeskommune"))
    async with db() as session, session.begin():
        await load_registry(session, read_registry())
    again = await service.view(db, typed.receipt.token)
    assert again.organisation == "Innlandet fylkeskommune"
    assert await review.pending(db) == []
