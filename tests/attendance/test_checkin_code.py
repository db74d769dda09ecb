"""The check-in code reaches the registrant: in the confirmation mail and on the personal page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from live.app import create_app
from live.attendance.codes import checkin_png
from live.attendance.domain import checkin_code, parse_code
from live.db import create_engine, sessionmaker
from live.models import Registration
from tests.attendance.support import people
from tests.support.app import http_client, make_settings
from tests.support.registration import seed
from tests.support.servers import free_port
from tests.support.smtp import Inbox, smtp_server

DB = async_sessionmaker[AsyncSession]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    port = free_port()
    with smtp_server(port) as inbox:
        yield inbox, port


def test_the_code_names_the_registration_without_its_secret() -> None:
    """The code parses back to the id and is all QR-alphanumeric; the secret is not in it."""
    code = checkin_code(42, "the-secret-token")
    assert parse_code(f"  {code.lower()} ") == (42, code.rsplit(":", 1)[1])
    assert "secret" not in code.lower() and code == code.upper()
    assert parse_code("SALEN-CI:42:short") is None and parse_code("") is None


async def test_the_confirmation_carries_the_qr_code_for_a_place_in_the_room(
    db: DB, database_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """In the room: an HTML part with the QR as an inline PNG (cid:) and the code as text."""
    inbox, port = smtp
    await seed(db)
    settings = make_settings(database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    async with http_client(create_app(settings)) as client:
        for attendance, email in (("in_person", "eva@example.no"), ("online", "bo@example.no")):
            reply = await client.post("/api/events/konf/registrations", json={
                "occurrence": "elverum", "attendance": attendance, "name": email[:3],
                "email": email, "organisation": "Fylke 01 fylkeskommune", "theme": "tema-1"})
            assert reply.status_code == 201, reply.text
    room, online = inbox.messages
    async with db() as session:
        eva = await session.get_one(Registration, int(room_id(room)))
    code = checkin_code(eva.id, eva.token)
    plain = room.get_body(preferencelist=("plain",))
    html = room.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert code in str(plain.get_content())
    [image] = [p for p in room.walk() if p.get_content_type() == "image/png"]
    assert f'cid:{str(image["Content-ID"]).strip("<>")}' in str(html.get_content())
    assert image.get_content() == checkin_png(code)
    assert [p.get_filename() for p in room.iter_attachments()] == ["invitation.ics"]
    assert not [p for p in online.walk() if p.get_content_type() == "image/png"]
    online_text = online.get_body(preferencelist=("plain",))
    assert isinstance(online_text, EmailMessage)
    assert "SALEN-CI" not in str(online_text.get_content())


def room_id(message: EmailMessage) -> str:
    """The registration id in a mail's check-in code."""
    plain = message.get_body(preferencelist=("plain",))
    assert isinstance(plain, EmailMessage)
    found = parse_code(next(
        w for w in str(plain.get_content()).split() if w.startswith("SALEN-CI:")))
    assert found is not None
    return str(found[0])


async def test_the_personal_page_shows_the_qr_code_for_a_place_in_the_room(
    db: DB, app: Starlette
) -> None:
    """The page draws the code as an inline SVG with its text; an online place has none."""
    seeded = await people(db)
    async with http_client(app) as client:
        client.cookies.set("salen_lang", "en")
        room = await client.get(f"/r/{seeded.room.token}")
        online = await client.get(f"/r/{seeded.online.token}")
    assert room.status_code == 200
    assert '<svg role="img"' in room.text and "<title>Your check-in code</title>" in room.text
    assert checkin_code(seeded.room.id, seeded.room.token) in room.text
    assert "SALEN-CI" not in online.text and '<svg role="img"' not in online.text
