"""Registration e-mail through a real SMTP server (aiosmtpd), with .ics entries parsed back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Occurrence, Registration
from live.models.registration import Attendance, Status
from live.outbox.transport import Mailer, parse_smtp_url, read_outbox
from live.registration.ics import calendar_entry
from live.registration.notify import promote_and_notify
from live.registration.service import Receipt
from live.settings import Settings
from tests.support.registration import (
    ADMIN_TOKEN,
    COUNTIES,
    client,
    db_fixture,  # noqa: F401  (the `db` fixture)
    make_app,
    seed,
)
from tests.support.servers import free_port
from tests.support.smtp import Inbox, smtp_server

DB = async_sessionmaker[AsyncSession]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback (offering SMTPUTF8) for the duration of one test."""
    port = free_port()
    with smtp_server(port, smtputf8=True) as inbox:
        yield inbox, port


def calendars(message: EmailMessage) -> list[icalendar.Calendar]:
    found = []
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            raw = part.get_content()
            found.append(
                icalendar.Calendar.from_ical(raw if isinstance(raw, bytes) else raw.encode())
            )
    return found


def body(i: int, **overrides: Any) -> dict[str, Any]:
    return {
        "occurrence": "elverum",
        "attendance": "in_person",
        "name": f"Person {i}",
        "email": f"p{i}@example.no",
        "organisation": COUNTIES[i],
        "theme": "tema-1",
    } | overrides


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_confirmation_and_promotion_arrive_by_smtp(
    db: DB, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """The registrant gets a confirmation with an Oslo-time .ics; a cancellation mails the promoted person."""
    inbox, port = smtp
    await seed(db, capacity=1, quota=None)
    settings = Settings.from_env(
        {},
        secret_key="s",
        admin_token=ADMIN_TOKEN,
        base_url="http://testserver",
        smtp_url=f"smtp://127.0.0.1:{port}",
        outbox_dir=tmp_path / "outbox",
    )
    async with client(make_app(settings, db)) as http:
        first = (await http.post("/api/events/konf/registrations?lang=nb", json=body(1))).json()
        second = (await http.post("/api/events/konf/registrations?lang=en", json=body(2))).json()
        assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
        await inbox.wait_for(2)
        await http.delete(httpx.URL(first["manage_url"]).path)
        await inbox.wait_for(4)
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [
        "Påmelding bekreftet: Regional konferanse",
        "On the waiting list: Regional konferanse",
        "Avmelding bekreftet: Regional konferanse",
        "You have a place: Regional konferanse",
    ]
    assert inbox.recipients[3] == ["p2@example.no"]
    assert calendars(inbox.messages[1]) == [] and calendars(inbox.messages[2]) == []
    [calendar] = calendars(inbox.messages[3])
    [timezone] = calendar.walk("VTIMEZONE")
    [entry] = calendar.walk("VEVENT")
    assert str(timezone["TZID"]) == "Europe/Oslo"
    assert entry["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert entry.decoded("DTSTART").utcoffset() == dt.timedelta(hours=1)  # winter, CET
    assert entry.decoded("DTSTART").hour == 10 and str(entry["SUMMARY"]) == "Regional konferanse"
    link = second["page_url"]
    assert link in inbox.messages[3].get_body(("plain",)).get_content()
    assert not (tmp_path / "outbox").exists()


def receipt(**overrides: Any) -> Receipt:
    values: dict[str, Any] = {
        "id": 7,
        "token": "t0k",
        "status": Status.CONFIRMED,
        "waitlist_position": None,
        "attendance": Attendance.ONLINE,
        "name": "Åse",
        "email": "ase@example.no",
        "locale": "en",
        "diet": "",
        "event_slug": "konf",
        "event_title": "Konferanse",
        "occurrence_id": 3,
        "occurrence_slug": "gjovik",
        "city": "Gjøvik",
        "venue": "Fjellhallen",
        "address": "",
        "starts_at": dt.datetime(2027, 6, 23, 8, 0, tzinfo=dt.UTC),
        "ends_at": dt.datetime(2027, 6, 23, 14, 30, tzinfo=dt.UTC),
        "theme_title": None,
        "theme_slug": None,
        "organisation": None,
        "job_title": "",
        "answers": {},
    }
    return Receipt(**(values | overrides))


def test_calendar_entry_uses_summer_time_in_oslo() -> None:
    """A June occurrence is written as local CEST time with a matching VTIMEZONE."""
    calendar = icalendar.Calendar.from_ical(calendar_entry(receipt(), base_url="https://salen.no"))
    [entry] = calendar.walk("VEVENT")
    start = entry.decoded("DTSTART")
    assert (start.hour, start.utcoffset()) == (10, dt.timedelta(hours=2))
    assert entry.decoded("DTEND").astimezone(dt.UTC) == dt.datetime(
        2027, 6, 23, 14, 30, tzinfo=dt.UTC
    )
    assert str(entry["UID"]) == "registration-7-3@salen.no"
    assert str(entry["LOCATION"]) == "Fjellhallen, Gjøvik"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Oslo"]


async def test_outbox_when_no_smtp(tmp_path: Path) -> None:
    """Without an SMTP URL mail is written as .eml files that read back intact, newest first."""
    mailer = Mailer("", tmp_path / "outbox", "Salen <salen@localhost>")
    for subject in ("first", "second"):
        message = EmailMessage()
        message["Subject"], message["To"] = subject, "a@example.no"
        message.set_content("Hei på deg")
        await mailer.send(message)
    read = read_outbox(tmp_path / "outbox")
    assert [m["Subject"] for _, m in read] == ["second", "first"]
    assert read[0][1]["From"] == "Salen <salen@localhost>"
    assert read[0][1].get_content().strip() == "Hei på deg"


def test_smtp_url_parsing() -> None:
    """smtp:// and smtps:// URLs give host, port, credentials and TLS mode; others are refused."""
    target = parse_smtp_url("smtps://user%40x:p%2Fss@mail.example.no")
    assert (target.host, target.port, target.username, target.password, target.implicit_tls) == (
        "mail.example.no",
        465,
        "user@x",
        "p/ss",
        True,
    )
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example.no")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_raised_capacity_promotes_and_mails(db: DB, tmp_path: Path) -> None:
    """promote_and_notify confirms the waitlist into new places and writes their mail."""
    seeded = await seed(db, capacity=1, quota=None)
    settings = Settings.from_env({}, secret_key="s", outbox_dir=tmp_path / "outbox")
    async with client(make_app(settings, db)) as http:
        await http.post("/api/events/konf/registrations?lang=en", json=body(1))
        await http.post("/api/events/konf/registrations?lang=en", json=body(2))
    async with db() as session, session.begin():
        occurrence = await session.get_one(Occurrence, seeded.elverum)
        occurrence.capacity_in_person = 2
    promoted = await promote_and_notify(settings, db, seeded.event_id)
    assert [r.email for r in promoted] == ["p2@example.no"]
    newest = read_outbox(tmp_path / "outbox")[0][1]
    assert newest["Subject"] == "You have a place: Regional konferanse"
    assert len(calendars(newest)) == 1


def smtp_settings(port: int, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        secret_key="s",
        admin_token=ADMIN_TOKEN,
        base_url="http://testserver",
        smtp_url=f"smtp://127.0.0.1:{port}",
        outbox_dir=tmp_path / "outbox",
    )


async def registrations(db: DB) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count(Registration.id))) or 0)


async def test_idn_domain_registration_gets_its_mail(db: DB, tmp_path: Path) -> None:
    """ola@ÆRØ.no registers, is stored as ola@ærø.no and gets the link at ola@xn--r-3fa9c.no."""
    await seed(db, capacity=10, quota=None)
    port = free_port()
    with smtp_server(port) as inbox:
        async with client(make_app(smtp_settings(port, tmp_path), db)) as http:
            response = await http.post(
                "/api/events/konf/registrations?lang=en", json=body(1, email="Ola@ÆRØ.no")
            )
            assert response.status_code == 201
            own = (await http.get(httpx.URL(response.json()["manage_url"]).path)).json()
        await inbox.wait_for(1)
    assert own["email"] == "ola@ærø.no"
    assert inbox.recipients == [["ola@xn--r-3fa9c.no"]]
    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == "ola@xn--r-3fa9c.no"
    assert response.json()["page_url"] in message.get_body(("plain",)).get_content()


async def test_non_ascii_local_part_goes_with_smtputf8(db: DB, tmp_path: Path) -> None:
    """øla@example.no is registered and mailed with SMTPUTF8 when the server offers it."""
    await seed(db, capacity=10, quota=None)
    port = free_port()
    with smtp_server(port, smtputf8=True) as inbox:
        async with client(make_app(smtp_settings(port, tmp_path), db)) as http:
            response = await http.post(
                "/api/events/konf/registrations", json=body(1, email="øla@example.no")
            )
        await inbox.wait_for(1)
    assert response.status_code == 201
    assert inbox.recipients == [["øla@example.no"]] and inbox.smtputf8 == [True]
    assert inbox.messages[0]["To"].addresses[0].addr_spec == "øla@example.no"


async def test_non_ascii_local_part_refused_before_saving_without_smtputf8(
    db: DB, tmp_path: Path
) -> None:
    """Without SMTPUTF8 on the server, øla@example.no is a field error and nothing is saved."""
    await seed(db, capacity=10, quota=None)
    port = free_port()
    with smtp_server(port, smtputf8=False) as inbox:
        async with client(make_app(smtp_settings(port, tmp_path), db)) as http:
            response = await http.post(
                "/api/events/konf/registrations?lang=nb", json=body(1, email="øla@example.no")
            )
            ascii_one = await http.post("/api/events/konf/registrations", json=body(2))
        await inbox.wait_for(1)
    assert response.status_code == 422
    assert response.json()["code"] == "registration.invalid"
    assert "a–z" in response.json()["fields"]["email"]
    assert ascii_one.status_code == 201 and await registrations(db) == 1
    assert inbox.recipients == [["p2@example.no"]]
