"""Registration e-mail through a real SMTP server (aiosmtpd), with .ics entries parsed back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Occurrence
from live.models.registration import Attendance, Status
from live.registration.ics import calendar_entry
from live.registration.mail import Mailer, parse_smtp_url, read_outbox
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

DB = async_sessionmaker[AsyncSession]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback for the duration of one test."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


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


async def wait_for(inbox: Inbox, n: int) -> None:
    # aiosmtpd hands the message over before the client's QUIT; allow that moment.
    for _ in range(200):
        if len(inbox.messages) >= n:
            return
        await asyncio.sleep(0.01)


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
        await wait_for(inbox, 2)
        await http.delete(httpx.URL(first["manage_url"]).path)
        await wait_for(inbox, 4)
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
