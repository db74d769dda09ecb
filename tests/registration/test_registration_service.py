"""Registration rules enforced in the database: capacity, quotas, waitlist, changes, cancellation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.errors import NotFound
from live.models.base import utcnow
from live.models.registration import Attendance, Status
from live.registration import service
from live.registration.rules import Refusal
from live.registration.validate import Changes, Submission
from tests.support.registration import (
    COUNTIES,
    db_fixture,  # noqa: F401  (the `db` fixture)
    seed,
)

DB = async_sessionmaker[AsyncSession]
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def person(
    i: int,
    *,
    organisation: str | None = None,
    occurrence: str = "elverum",
    attendance: Attendance = Attendance.IN_PERSON,
) -> Submission:
    return Submission(
        occurrence=occurrence,
        attendance=attendance,
        name=f"Person {i}",
        email=f"p{i}@example.no",
        organisation=organisation or COUNTIES[i % 30],
        theme="tema-1",
        diet="vegetar" if i % 3 == 0 else "",
    )


async def test_cancellation_promotes_first_on_waitlist(db: DB) -> None:
    """Cancelling a confirmed place confirms the first waitlisted registrant, and only them."""
    await seed(db, capacity=2, quota=None)
    first = await service.register(db, "konf", person(1))
    await service.register(db, "konf", person(2))
    third = await service.register(db, "konf", person(3))
    fourth = await service.register(db, "konf", person(4))
    assert (third.receipt.status, third.receipt.waitlist_position) == (Status.WAITLISTED, 1)
    assert fourth.receipt.waitlist_position == 2
    outcome = await service.cancel(db, first.receipt.token)
    assert outcome.receipt.status == Status.CANCELLED
    assert [r.email for r in outcome.promoted] == ["p3@example.no"]
    assert outcome.promoted[0].status == Status.CONFIRMED
    assert (await service.view(db, fourth.receipt.token)).waitlist_position == 1
    with pytest.raises(NotFound):
        await service.view(db, first.receipt.token)


@SQLITE_ONLY  # pure rule checks; the rest run on both databases
async def test_deadline_passed_is_refused_with_the_date(db: DB) -> None:
    """After the occurrence's deadline the refusal names the deadline's date."""
    deadline = dt.datetime(2026, 12, 13, 23, 30, tzinfo=dt.UTC)
    await seed(db, deadline=deadline)
    with pytest.raises(Refusal) as caught:
        await service.register(db, "konf", person(1), now=deadline + dt.timedelta(minutes=1))
    assert caught.value.code == "registration.deadline_passed"
    assert "14 December" in caught.value.message  # 00:30 in Oslo is the 14th


@SQLITE_ONLY  # pure rule checks; the rest run on both databases
async def test_closed_registration_is_refused(db: DB) -> None:
    """An event whose organiser closed registration refuses with registration.closed."""
    await seed(db, registration_open=False)
    with pytest.raises(Refusal) as caught:
        await service.register(db, "konf", person(1))
    assert caught.value.code == "registration.closed"


async def test_duplicate_email_conflicts_until_cancelled(db: DB) -> None:
    """The same e-mail (any case) registers once per event; after cancelling it may again."""
    await seed(db)
    first = await service.register(db, "konf", person(1))
    with pytest.raises(Refusal) as caught:
        await service.register(db, "konf", person(1))
    assert (caught.value.code, caught.value.status) == ("registration.duplicate", 409)
    await service.cancel(db, first.receipt.token)
    again = await service.register(db, "konf", person(1))
    assert again.receipt.status == Status.CONFIRMED


async def test_typed_organisation_names_count_as_one_for_quotas(db: DB) -> None:
    """ "Fylke 01 fylkeskommune" typed in other case and spacing shares one quota."""
    await seed(db, quota=2)
    await service.register(db, "konf", person(1, organisation="fylke 01  FYLKESKOMMUNE "))
    await service.register(db, "konf", person(2, organisation="Fylke 01 fylkeskommune"))
    with pytest.raises(Refusal) as caught:
        await service.register(db, "konf", person(3, organisation=" fylke 01 fylkeskommune"))
    assert caught.value.code == "registration.quota_exceeded"
    assert "2 of 2" in caught.value.message


async def test_move_to_full_occurrence_keeps_place(db: DB) -> None:
    """A confirmed registrant cannot move into a full occurrence and keeps their place."""
    await seed(db, quota=None)
    await service.register(db, "konf", person(1, occurrence="otta"))
    await service.register(db, "konf", person(2, occurrence="otta"))
    mine = await service.register(db, "konf", person(3))
    with pytest.raises(Refusal) as caught:
        await service.change(db, mine.receipt.token, Changes(occurrence="otta"))
    assert caught.value.code == "registration.full"
    assert (await service.view(db, mine.receipt.token)).city == "Elverum"


async def test_moving_away_frees_the_place_for_the_waitlist(db: DB) -> None:
    """Moving from the room to online confirms the first waitlisted for the room."""
    await seed(db, capacity=1, quota=None)
    mine = await service.register(db, "konf", person(1))
    waiting = await service.register(db, "konf", person(2))
    outcome = await service.change(
        db, mine.receipt.token, Changes(attendance=Attendance.ONLINE, diet="ingen")
    )
    assert outcome.receipt.attendance == Attendance.ONLINE
    assert outcome.receipt.status == Status.CONFIRMED
    assert outcome.receipt.diet == "ingen"
    assert [r.token for r in outcome.promoted] == [waiting.receipt.token]


@SQLITE_ONLY  # pure rule checks; the rest run on both databases
async def test_mode_not_offered_is_refused(db: DB) -> None:
    """Otta offers no online attendance: registering online there is refused."""
    await seed(db)
    with pytest.raises(Refusal) as caught:
        await service.register(
            db, "konf", person(1, occurrence="otta", attendance=Attendance.ONLINE)
        )
    assert caught.value.code == "registration.mode_unavailable"
    assert "attendance" in caught.value.fields


async def test_raised_capacity_promotes_waitlist(db: DB) -> None:
    """promote_event fills places after the organiser raises the capacity."""
    seeded = await seed(db, capacity=1, quota=None)
    await service.register(db, "konf", person(1))
    await service.register(db, "konf", person(2))
    async with db() as session, session.begin():
        from live.models import Occurrence

        occurrence = await session.get_one(Occurrence, seeded.elverum)
        occurrence.capacity_in_person = 5
    promoted = await service.promote_event(db, seeded.event_id)
    assert [r.email for r in promoted] == ["p2@example.no"]
    assert utcnow()  # sanity: time helpers are aware
