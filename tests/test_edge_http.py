"""Input out of bounds over HTTP: ids past 64 bits, numbers that are not finite, text with a
NUL or a lone surrogate are refused with a 4xx and a code, never a 500, and nothing is stored."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from live.db import create_engine, sessionmaker
from live.errors import Invalid
from live.events.document import parse_event_text
from live.guard import Unforeseen
from live.models import Event, Recording, RecordingState
from live.models.registration import Registration
from live.settings import Settings
from tests.support.app import ADMIN, LifespanApp
from tests.support.fagdag import SLUG, add_event
from tests.support.registration import ADMIN_TOKEN as REGISTRATION_ADMIN_TOKEN
from tests.support.registration import (
    COUNTIES,
    db_fixture,  # noqa: F401  (the `db` fixture)
    make_app,
    seed,
)
from tests.support.registration import client as registration_client
from tests.support.state import shared_state

BIG = "99999999999999999999"  # past 2**64
JUST_PAST = str(2**63)  # the first number past a 64-bit id
DB = async_sessionmaker[AsyncSession]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The edge is not about the database: SQLite only (the JSON API test runs on both)."""
    return sqlite_url


async def add_recording(settings: Settings) -> int:
    """A ready recording of a demo event, without files (trim is refused before any work)."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event_id = await session.scalar(select(Event.id).order_by(Event.id).limit(1))
        assert event_id is not None
        recording = Recording(event_id=event_id, state=RecordingState.READY, duration=100.0)
        session.add(recording)
        await session.flush()
        rid = recording.id
    await engine.dispose()
    return rid


async def trim_of(settings: Settings, rid: int) -> tuple[float | None, float | None]:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        recording = await session.get(Recording, rid)
        assert recording is not None
        trim = (recording.trim_start, recording.trim_end)
    await engine.dispose()
    return trim


@pytest.mark.parametrize("number", [BIG, JUST_PAST])
async def test_ids_past_64_bits_are_not_found(client: httpx.AsyncClient, number: str) -> None:
    """A recording, room or registration id past 2**63-1 in the path is a 404, not a 500."""
    paths = [
        ("GET", f"/recordings/{number}"),
        ("GET", f"/recordings/{number}/files/media/video.mp4"),
        ("GET", f"/api/recordings/{number}"),
        ("PUT", f"/api/recordings/{number}/trim"),
        ("GET", f"/admin/recordings/{number}"),
        ("GET", f"/e/verksted-regional-utvikling/rooms/{number}"),
        ("DELETE", f"/api/events/verksted-regional-utvikling/registrations/{number}"),
        ("GET", f"/admin/events/verksted-regional-utvikling/registrations/{number}/edit"),
    ]
    for method, path in paths:
        response = await client.request(method, path, headers=ADMIN)
        assert response.status_code == 404, (path, response.status_code)


async def test_trim_refuses_numbers_that_are_not_finite(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """NaN, Infinity, 1e309 and numbers past 64 bits or 30 days are refused as trim points
    (JSON and form), and the recording keeps its trim."""
    rid = await add_recording(settings)
    for body in [b'{"end": NaN}', b'{"end": Infinity}', b'{"start": -Infinity}',
                 b'{"end": 1e309}', b'{"end": 1e300}', b'{"end": 99999999999999999999}']:
        response = await client.put(f"/api/recordings/{rid}/trim", headers=ADMIN, content=body)
        assert response.status_code == 422, body
        assert response.json()["code"] in ("invalid_json", "trim.invalid")
    for value in ["nan", "inf", "1e309", "-1", "99999999999:00"]:
        response = await client.post(
            f"/admin/recordings/{rid}/trim", headers=ADMIN, data={"end": value}
        )
        assert response.status_code == 422, value
    assert await trim_of(settings, rid) == (None, None)
    page = await client.get(f"/admin/recordings/{rid}", headers=ADMIN)
    assert page.status_code == 200


async def test_nul_in_path_query_or_form_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """A NUL (%00) in a path, a query string or a url-encoded form gets 400 invalid_text."""
    await add_event(settings)
    for path in ["/api/events/plan%00strategi", "/api/recordings?event=a%00b", "/e/a%00b"]:
        response = await client.get(path, headers={"accept": "application/json"})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_text"), path
    form = await client.get(f"/e/{SLUG}/register")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "occurrence": "hamar", "attendance": "in_person",
            "name": "Ola\x00Nordmann", "email": "ola@example.no", "organisation": "Hamar",
            "theme": "tema-a"}
    response = await client.post(f"/e/{SLUG}/register", data=data)
    assert response.status_code == 400
    assert "NUL" in response.text
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event.has(slug=SLUG))) == 0
    await engine.dispose()


async def test_event_title_with_nul_or_lone_surrogate_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """An event title holding a NUL or a lone surrogate is refused (422 naming the field)."""
    slug = "verksted-regional-utvikling"
    for title in ['"Plan\\u0000dag"', '"Plan\\ud800dag"']:
        body = f'{{"title": {title}}}'.encode()
        response = await client.patch(f"/api/events/{slug}", headers=ADMIN, content=body)
        assert response.status_code == 422, title
        assert response.json()["code"] == "invalid_text"
        assert set(response.json()["fields"]) == {"title"}
    document = await client.get(f"/api/events/{slug}")
    assert "\x00" not in document.json()["title"]


@pytest.mark.parametrize("escape", ["\\0", "\\ud800"])
def test_event_document_with_nul_or_lone_surrogate_is_refused(escape: str) -> None:
    """A YAML event document whose title escapes a NUL or a lone surrogate is refused."""
    text = f'slug: x\ntitle: "Plan{escape}dag"\noccurrences: []\n'
    with pytest.raises(Invalid) as refused:
        parse_event_text(text)
    assert refused.value.code == "event.invalid" and "title" in refused.value.fields


@pytest.mark.parametrize("name", ["Ola\\u0000Nordmann", "Ola\\ud800Nordmann"])
async def test_registration_name_with_nul_or_lone_surrogate_is_refused(
    db: DB, tmp_path: Path, name: str
) -> None:
    """The JSON API refuses a name with a NUL or a lone surrogate (422 on the name) and
    stores nothing, on SQLite and PostgreSQL."""
    await seed(db)
    settings = Settings.from_env({}, secret_key="s", admin_token=REGISTRATION_ADMIN_TOKEN,
                                 base_url="http://testserver", outbox_dir=tmp_path / "outbox")
    fields: dict[str, Any] = {
        "occurrence": "elverum", "attendance": "in_person", "name": "NAME",
        "email": "ola@example.no", "organisation": COUNTIES[0], "theme": "tema-1",
    }
    body = json.dumps(fields).replace("NAME", name).encode()
    async with registration_client(make_app(settings, db)) as http:  # type: ignore[attr-defined]
        response = await http.post("/api/events/konf/registrations", content=body)
    assert response.status_code == 422
    assert response.json()["code"] == "registration.invalid"
    assert set(response.json()["fields"]) == {"name"}
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Registration)) == 0


async def test_unforeseen_errors_are_a_500_logged_once_per_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug hit on every request gives 500 `internal` each time and one logged traceback."""

    async def broken(request: Request) -> None:
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/api/broken", broken)], middleware=[Middleware(Unforeseen)])
    state = {"app": shared_state(Settings.from_env({}), None)}
    transport = httpx.ASGITransport(app=LifespanApp(app, state))
    caplog.set_level(logging.ERROR)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for _ in range(20):
            response = await http.get("/api/broken")
            assert (response.status_code, response.json()["code"]) == (500, "internal")
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and "broken" in logged[0].getMessage()
