"""The registration HTTP API: status codes, refusal codes, the personal link and organiser lists."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models.registration import Registration
from live.outbox.transport import read_outbox
from live.registration.ratelimit import RateLimiter
from live.settings import Settings
from tests.support.registration import (
    ADMIN_TOKEN,
    COUNTIES,
    client,
    db_fixture,  # noqa: F401  (the `db` fixture)
    make_app,
    seed,
)

DB = async_sessionmaker[AsyncSession]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings.from_env(
        {},
        secret_key="s",
        admin_token=ADMIN_TOKEN,
        base_url="http://testserver",
        outbox_dir=tmp_path / "outbox",
        **overrides,
    )


def body(i: int, **overrides: Any) -> dict[str, Any]:
    return {
        "occurrence": "elverum",
        "attendance": "in_person",
        "name": f"Person {i}",
        "email": f"p{i}@example.no",
        "organisation": COUNTIES[i % 30],
        "job_title": "Rådgiver",
        "theme": "tema-1",
        "diet": "vegetar",
    } | overrides


async def count(db: DB) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Registration)) or 0)


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_register_returns_201_and_writes_confirmation_mail(db: DB, tmp_path: Path) -> None:
    """A valid registration is confirmed with a personal link, and a mail with .ics lands in the outbox."""
    await seed(db)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        response = await http.post("/api/events/konf/registrations", json=body(1))
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "confirmed" and "waitlist_position" not in data
    assert data["manage_url"].startswith("http://testserver/api/registrations/")
    [(_, mail)] = read_outbox(tmp_path / "outbox")
    assert mail["To"] == "Person 1 <p1@example.no>"
    assert [p.get_content_type() for p in mail.iter_attachments()] == ["text/calendar"]


async def test_concurrent_http_registrations(db: DB, tmp_path: Path) -> None:
    """300 concurrent POSTs: 50 confirmed in the room, no county above 4, the rest waitlisted or 422 quota_exceeded."""
    await seed(db, capacity=50, quota=4)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        responses = await asyncio.gather(
            *(http.post("/api/events/konf/registrations", json=body(i)) for i in range(300))
        )
    outcomes = Counter(
        r.json()["status"] if r.status_code == 201 else (r.status_code, r.json()["code"])
        for r in responses
    )
    assert outcomes == {
        "confirmed": 50,
        "waitlisted": 70,
        (422, "registration.quota_exceeded"): 180,
    }
    positions = sorted(
        r.json()["waitlist_position"]
        for r in responses
        if r.status_code == 201 and r.json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, 71))
    async with db() as session:
        confirmed = await session.scalar(
            select(func.count()).where(
                Registration.status == "confirmed", Registration.attendance == "in_person"
            )
        )
        per_organisation = (
            await session.execute(
                select(Registration.organisation_id, func.count())
                .where(Registration.status != "cancelled")
                .group_by(Registration.organisation_id)
            )
        ).all()
    assert confirmed == 50
    assert sorted(n for _, n in per_organisation) == [4] * 30


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_bad_input_is_422_with_fields_and_saves_nothing(db: DB, tmp_path: Path) -> None:
    """Malformed e-mail, missing and over-long fields, unknown occurrence or theme: 422 naming the fields."""
    await seed(db)
    cases = [
        (body(1, email="not-an-email"), {"email"}),
        ({k: v for k, v in body(1).items() if k != "name"}, {"name"}),
        (body(1, organisation="x" * 201, job_title="y" * 201), {"organisation", "job_title"}),
        (body(1, occurrence="lillehammer"), {"occurrence"}),
        (body(1, theme="tema-9"), {"theme"}),
        (body(1, attendance="sofa"), {"attendance"}),
        (body(1, answers={"nope": "x"}), {"answers.nope"}),
    ]
    async with client(make_app(settings_for(tmp_path), db)) as http:
        for payload, fields in cases:
            response = await http.post("/api/events/konf/registrations", json=payload)
            assert response.status_code == 422, payload
            assert response.json()["code"] == "registration.invalid"
            assert set(response.json()["fields"]) == fields
        garbage = await http.post("/api/events/konf/registrations", content=b"{nope")
        assert garbage.status_code == 422
    assert await count(db) == 0


async def test_refusals_carry_codes(db: DB, tmp_path: Path) -> None:
    """Duplicate e-mail is 409; a closed event and an unknown event give their codes."""
    await seed(db)
    await seed(db, slug="closed", registration_open=False, quota=None)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        assert (await http.post("/api/events/konf/registrations", json=body(1))).status_code == 201
        duplicate = await http.post(
            "/api/events/konf/registrations", json=body(1, email="P1@Example.no")
        )
        closed = await http.post("/api/events/closed/registrations", json=body(2))
        missing = await http.post("/api/events/nope/registrations", json=body(3))
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "registration.duplicate")
    assert (closed.status_code, closed.json()["code"]) == (422, "registration.closed")
    assert missing.status_code == 404
    assert await count(db) == 1


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_deadline_message_in_norwegian(db: DB, tmp_path: Path) -> None:
    """After the deadline the refusal names the date, in bokmål when asked for nb."""
    await seed(db, deadline=dt.datetime(2020, 12, 13, 12, 0, tzinfo=dt.UTC))
    async with client(make_app(settings_for(tmp_path), db)) as http:
        nb = await http.post("/api/events/konf/registrations?lang=nb", json=body(1))
        en = await http.post("/api/events/konf/registrations?lang=en", json=body(1))
    assert nb.json()["code"] == "registration.deadline_passed"
    assert nb.json()["message"] == "Påmeldingsfristen gikk ut 13. desember."
    assert "13 December" in en.json()["message"]


async def test_personal_link_view_change_cancel(db: DB, tmp_path: Path) -> None:
    """The personal link shows the registrant's data, changes theme and diet, and cancels."""
    await seed(db)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        created = (await http.post("/api/events/konf/registrations", json=body(1))).json()
        link = httpx.URL(created["manage_url"]).path
        seen = (await http.get(link)).json()
        assert (seen["name"], seen["theme"], seen["occurrence"]["city"]) == (
            "Person 1",
            "tema-1",
            "Elverum",
        )
        changed = await http.patch(link, json={"theme": "tema-2", "diet": "glutenfri"})
        assert (changed.json()["theme"], changed.json()["diet"]) == ("tema-2", "glutenfri")
        renamed = await http.patch(link, json={"name": "Other"})
        assert renamed.status_code == 422 and set(renamed.json()["fields"]) == {"name"}
        unknown = await http.patch(link, json={"theme": "tema-9"})
        assert unknown.status_code == 422 and set(unknown.json()["fields"]) == {"theme"}
        assert (await http.get(link)).json()["theme"] == "tema-2"
        cancelled = await http.delete(link)
        assert cancelled.json()["status"] == "cancelled"
        assert (await http.get(link)).status_code == 404
        assert (await http.get("/api/registrations/not-a-token")).status_code == 404


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_organiser_list_needs_organiser(db: DB, tmp_path: Path) -> None:
    """The participant list is 401 without credentials, 403 with a wrong token, 200 for an organiser."""
    await seed(db)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        await http.post("/api/events/konf/registrations", json=body(1))
        await http.post(
            "/api/events/konf/registrations", json=body(2, attendance="online", theme="tema-2")
        )
        anonymous = await http.get("/api/events/konf/registrations")
        wrong = await http.get(
            "/api/events/konf/registrations", headers={"Authorization": "Bearer wrong"}
        )
        csv_anonymous = await http.get("/api/events/konf/registrations.csv")
        listed = await http.get("/api/events/konf/registrations", headers=ADMIN)
        online = await http.get("/api/events/konf/registrations?attendance=online", headers=ADMIN)
    assert (anonymous.status_code, wrong.status_code, csv_anonymous.status_code) == (401, 403, 401)
    data = listed.json()
    assert [r["name"] for r in data["registrations"]] == ["Person 1", "Person 2"]
    assert data["counts"]["attendance"] == {"in_person": 1, "online": 1}
    assert data["counts"]["theme"] == {"Tema 1": 1, "Tema 2": 1}
    assert [r["name"] for r in online.json()["registrations"]] == ["Person 2"]


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_csv_and_xlsx_exports(db: DB, tmp_path: Path) -> None:
    """CSV and Excel exports hold every participant; formulas typed as names are defused."""
    await seed(db)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        await http.post(
            "/api/events/konf/registrations",
            json=body(1, name='=HYPERLINK("x")', answers={"allergy": "nøtter"}),
        )
        await http.post("/api/events/konf/registrations", json=body(2, name="Åse Ødegård"))
        csv_response = await http.get("/api/events/konf/registrations.csv", headers=ADMIN)
        xlsx_response = await http.get("/api/events/konf/registrations.xlsx", headers=ADMIN)
    text = csv_response.content.decode("utf-8-sig")
    assert "Åse Ødegård" in text and "'=HYPERLINK" in text and "nøtter" in text
    assert csv_response.headers["content-type"].startswith("text/csv")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_response.content))
    names = [row[5] for row in book["Participants"].iter_rows(min_row=2, values_only=True)]
    assert names == ['\'=HYPERLINK("x")', "Åse Ødegård"]
    counts = {(r[0], r[1]): r[2] for r in book["Counts"].iter_rows(min_row=2, values_only=True)}
    assert counts[("diet", "vegetar")] == 2


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_rate_limit_per_client(db: DB, tmp_path: Path) -> None:
    """Past the limit a client gets 429 with Retry-After, and nothing more is saved."""
    await seed(db)
    app = make_app(settings_for(tmp_path), db, limiter=RateLimiter(limit=3, window=60))
    async with client(app) as http:
        codes = [
            (await http.post("/api/events/konf/registrations", json=body(i))).status_code
            for i in range(5)
        ]
        limited = await http.post("/api/events/konf/registrations", json=body(9))
    assert codes == [201, 201, 201, 429, 429]
    assert limited.json()["code"] == "registration.rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    assert await count(db) == 3


@SQLITE_ONLY  # not about the database; the rest run on both
async def test_places_shows_what_is_left(db: DB, tmp_path: Path) -> None:
    """The public places endpoint shows places left per occurrence and mode."""
    await seed(db, capacity=5)
    async with client(make_app(settings_for(tmp_path), db)) as http:
        await http.post("/api/events/konf/registrations", json=body(1))
        places = (await http.get("/api/events/konf/places")).json()["places"]
    by_key = {(p["occurrence_slug"], p["attendance"]): p for p in places}
    assert by_key[("elverum", "in_person")]["places_left"] == 4
    assert by_key[("elverum", "online")]["places_left"] is None
    assert by_key[("otta", "online")]["offered"] is False


async def test_organiser_adds_moves_confirms_and_removes_by_hand(db: DB, tmp_path: Path) -> None:
    """After the deadline organisers still add, move, confirm beyond capacity and remove people."""
    await seed(db, capacity=1, quota=None, deadline=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    url = "/api/events/konf/registrations"
    async with client(make_app(settings_for(tmp_path), db)) as http:
        public = await http.post(url, json=body(1))
        assert public.json()["code"] == "registration.deadline_passed"
        anonymous = await http.post(f"{url}?as=organiser", json=body(1))
        first = await http.post(f"{url}?as=organiser", json=body(1), headers=ADMIN)
        second = await http.post(f"{url}?as=organiser", json=body(2), headers=ADMIN)
        assert (anonymous.status_code, first.json()["status"], second.json()["status"]) == (
            401,
            "confirmed",
            "waitlisted",
        )
        second_url = f"{url}/{second.json()['id']}"
        assert (await http.patch(second_url, json={"status": "confirmed"})).status_code == 401
        confirmed = await http.patch(second_url, json={"status": "confirmed"}, headers=ADMIN)
        assert confirmed.json()["status"] == "confirmed"
        moved = await http.patch(second_url, json={"occurrence": "otta"}, headers=ADMIN)
        assert (moved.json()["occurrence"]["city"], moved.json()["status"]) == ("Otta", "confirmed")
        removed = await http.delete(f"{url}/{first.json()['id']}", headers=ADMIN)
        assert removed.json()["status"] == "cancelled"
        again = await http.delete(f"{url}/{first.json()['id']}", headers=ADMIN)
        listed = (await http.get(url, headers=ADMIN)).json()
    assert again.status_code == 404
    assert [(r["name"], r["occurrence"][:4]) for r in listed["registrations"]] == [
        ("Person 2", "Otta")
    ]


def test_openapi_describes_the_registration_routes() -> None:
    """Every registration route carries an OpenAPI operation with its refusal codes."""
    from live.openapi import build_spec
    from live.registration.api import routes

    spec = build_spec(routes)
    post = spec["paths"]["/api/events/{slug}/registrations"]["post"]
    assert "registration.quota_exceeded" in post["responses"]["422"]["description"]
    assert set(spec["paths"]["/api/registrations/{token}"]) == {"get", "patch", "delete"}
