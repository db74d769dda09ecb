"""Check-in at the door: the API, the page without JavaScript, and the participant list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from live.attendance import service
from live.attendance.domain import REASONS, Verdict, checkin_code
from live.db import create_engine, sessionmaker
from live.models import CheckIn
from live.models.base import utcnow
from live.registration.handover import Colleague, hand_over
from tests.attendance.support import People, people
from tests.support.admin import csrf_of, login
from tests.support.app import ADMIN, http_client
from tests.support.registration import seed

DB = async_sessionmaker[AsyncSession]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as c:
        c.cookies.set("salen_lang", "en")
        yield c


def code_of(registration: object) -> str:
    return checkin_code(registration.id, registration.token)  # type: ignore[attr-defined]


async def checkins(db: DB) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(CheckIn)) or 0)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_code_checks_in_once_then_shows_the_first_time(
    db: DB, client: httpx.AsyncClient
) -> None:
    """The first scan checks in; the second answers "already" with the first scan's time."""
    seeded = await people(db)
    url = "/api/events/konf/checkins"
    first = await client.post(url, json={"code": code_of(seeded.room)}, headers=ADMIN)
    assert first.status_code == 200 and first.json()["verdict"] == "checked_in"
    assert first.json()["name"] == "Kari"
    again = await client.post(url, json={"code": code_of(seeded.room).lower()}, headers=ADMIN)
    assert again.status_code == 200 and again.json()["verdict"] == "already"
    assert again.json()["checked_in_at"] == first.json()["checked_in_at"]
    assert await checkins(db) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_refused_codes_say_why_and_check_nobody_in(
    db: DB, client: httpx.AsyncClient
) -> None:
    """Not a code, forged, another event's, cancelled, waiting list: each refused by name."""
    seeded = await people(db)
    other = await seed(db, slug="annen")
    elsewhere = await people_elsewhere(db, other.event_id, other.elverum)
    forged = code_of(seeded.room)[:-4] + "AAAA"
    cases = [
        ("hello", 422, "checkin.not_a_code", "not a Salen check-in code"),
        (forged, 422, "checkin.forged", "forged"),
        (f"SALEN-CI:999999:{forged.rsplit(':', 1)[1]}", 422, "checkin.forged", "forged"),
        (elsewhere, 409, "checkin.other_event", "another event"),
        (code_of(seeded.cancelled), 409, "checkin.cancelled", "cancelled"),
        (code_of(seeded.waiting), 409, "checkin.not_confirmed", "waiting list"),
    ]
    for code, status, error, words in cases:
        reply = await client.post("/api/events/konf/checkins", json={"code": code}, headers=ADMIN)
        assert (reply.status_code, reply.json()["code"]) == (status, error), code
        assert words in reply.json()["message"]
    bad = await client.post("/api/events/konf/checkins", json={"code": 5}, headers=ADMIN)
    assert (bad.status_code, bad.json()["code"]) == (422, "checkin.invalid")
    assert await checkins(db) == 0


async def test_the_old_holders_code_is_refused_after_a_hand_over(db: DB) -> None:
    """The place handed to a colleague: the old QR code is refused and says so; the new one works."""
    seeded = await people(db)
    old = code_of(seeded.room)
    given = await hand_over(db, seeded.room.token, Colleague("Åse Ødegård", "ase@example.no"))
    event_id = seeded.seeded.event_id
    refused = await service.check_in(db, event_id, code=old, now=utcnow())
    assert refused.verdict == Verdict.FORGED
    assert "handed to a colleague" in REASONS[Verdict.FORGED]
    new = checkin_code(seeded.room.id, given.receipt.token)
    admitted = await service.check_in(db, event_id, code=new, now=utcnow())
    assert (admitted.verdict, admitted.name) == (Verdict.CHECKED_IN, "Åse Ødegård")
    assert await checkins(db) == 1


async def people_elsewhere(db: DB, event_id: int, occurrence_id: int) -> str:
    """A confirmed registrant of another event, as a code."""
    from live.models import Registration
    from live.models.registration import Attendance, Status

    async with db() as session, session.begin():
        row = Registration(event_id=event_id, occurrence_id=occurrence_id,
                           attendance=Attendance.IN_PERSON, status=Status.CONFIRMED,
                           name="Anne", email="anne@example.no")
        session.add(row)
        await session.flush()
        return code_of(row)


async def test_two_doors_scanning_one_code_at_once_check_in_once(db: DB) -> None:
    """Two check-ins of one code at the same moment: one "checked in", one "already"."""
    seeded: People = await people(db)
    results = await asyncio.gather(*(
        service.check_in(db, seeded.seeded.event_id, code=code_of(seeded.room), now=utcnow())
        for _ in range(2)))
    assert sorted(r.verdict for r in results) == [Verdict.ALREADY, Verdict.CHECKED_IN]
    assert await checkins(db) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_check_in_page_works_without_javascript(
    db: DB, client: httpx.AsyncClient
) -> None:
    """Search by name, check in with the button, see it as already done, refuse a bad code."""
    seeded = await people(db)
    url = "/admin/events/konf/checkin"
    found = await client.get(url, params={"q": "  KARI "}, headers=ADMIN)
    assert found.status_code == 200 and "Check in Kari" in found.text
    token = csrf_of(found.text)
    done = await client.post(url, headers=ADMIN, data={
        "csrf_token": token, "registration": str(seeded.room.id), "q": "kari"})
    assert done.status_code == 200 and "Checked in: Kari." in done.text
    assert "Checked in at" in done.text  # the search hit shows it now
    twice = await client.post(url, headers=ADMIN, data={
        "csrf_token": token, "code": code_of(seeded.room)})
    assert twice.status_code == 200 and "Already checked in at" in twice.text
    forged = await client.post(url, headers=ADMIN, data={
        "csrf_token": token, "code": code_of(seeded.online)[:-2] + "ZZ"})
    assert forged.status_code == 422 and "forged" in forged.text
    waiting = await client.post(url, headers=ADMIN, data={
        "csrf_token": token, "registration": str(seeded.waiting.id)})
    assert waiting.status_code == 409 and "waiting list" in waiting.text
    listing = await client.get("/admin/events/konf/registrations", headers=ADMIN)
    assert "In the room, " in listing.text
    assert await checkins(db) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_checking_in_needs_an_organiser(db: DB, client: httpx.AsyncClient) -> None:
    """Without the organiser's rights the API refuses and nobody is checked in."""
    seeded = await people(db)
    reply = await client.post("/api/events/konf/checkins", json={"code": code_of(seeded.room)})
    assert reply.status_code == 401 and reply.json()["code"] == "unauthorized"
    assert await checkins(db) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_logged_in_organiser_checks_in_with_the_pages_csrf_token(
    demo_app: Starlette, database_url: str
) -> None:
    """With the session cookie the API needs the page's CSRF token in X-CSRF-Token."""
    engine = create_engine(database_url)
    seeded = await people(sessionmaker(engine))
    await engine.dispose()
    async with http_client(demo_app) as client:
        await login(client)
        token = csrf_of((await client.get("/admin/events/konf/checkin")).text)
        url, body = "/api/events/konf/checkins", {"code": code_of(seeded.room)}
        without = await client.post(url, json=body)
        assert (without.status_code, without.json()["code"]) == (403, "csrf")
        done = await client.post(url, json=body, headers={"X-CSRF-Token": token})
        assert done.status_code == 200 and done.json()["verdict"] == "checked_in"
