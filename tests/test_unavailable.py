"""A database that is locked or down gives `unavailable` (503 + Retry-After, or an error
reply on the socket), never a 500 or `internal`, and no traceback in the log."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect

import live.db
from live.app import create_app
from live.db import create_engine, sessionmaker
from live.migrate import upgrade_async
from live.models import Event
from live.settings import Settings
from tests.events.test_api import NEW_EVENT
from tests.registration.test_registration_pages import (  # noqa: F401  (fixtures)
    database_url,
    fagdag,
    person,
    register,
    web,
)
from tests.support.app import ADMIN, http_client, make_settings
from tests.support.fagdag import SLUG
from tests.support.liveserver import serve_app
from tests.support.servers import start_postgres
from tests.support.ws_app import build_app
from tests.support.ws_client import make_db


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite gives up on a held lock after half a second, not thirty."""
    monkeypatch.setattr(live.db, "BUSY_TIMEOUT", 0.5)


@pytest.fixture
def locked(settings: Settings) -> Iterator[None]:
    """The SQLite file held by another writer (BEGIN EXCLUSIVE) for the test's length."""
    holder = sqlite3.connect(str(make_url(settings.database_url).database), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def is_unavailable(response: httpx.Response) -> bool:
    return response.status_code == 503 and response.headers.get("retry-after") == "5"


async def test_locked_sqlite_refuses_api_writes_as_unavailable(
    web: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    """An event created while another writer holds the SQLite file: 503 `unavailable`."""
    request.getfixturevalue("locked")
    response = await web.post("/api/events", json=NEW_EVENT, headers=ADMIN)
    assert is_unavailable(response), response.text
    assert response.json()["code"] == "unavailable"
    no_tracebacks(caplog)


async def test_locked_sqlite_refuses_a_registration_with_a_page(
    web: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    """A registration submitted while the SQLite file is held gets a 503 page, not a 500."""
    form = await web.get(f"/e/{SLUG}/register")
    assert form.status_code == 200
    request.getfixturevalue("locked")
    response = await register(web, person(1))
    assert is_unavailable(response), response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    no_tracebacks(caplog)


async def test_locked_sqlite_answers_a_question_with_unavailable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A question asked while the SQLite file is held gets an `unavailable` error reply, and
    the connection stays open."""
    settings = Settings.from_env(
        {}, database_url=f"sqlite+aiosqlite:///{tmp_path / 'ws.db'}", secret_key="s",
    )
    await make_db(settings.database_url)
    async with (
        serve_app(build_app(settings)) as url,
        connect(f"{url.replace('http', 'ws')}/ws/events/panel") as ws,
    ):
        assert json.loads(await ws.recv())["type"] == "snapshot"
        holder = sqlite3.connect(str(tmp_path / "ws.db"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        await ws.send(json.dumps({"type": "qa.ask", "id": 1, "text": "Locked?"}))
        reply = json.loads(await ws.recv())
        holder.execute("ROLLBACK")
        await ws.send(json.dumps({"type": "qa.ask", "id": 2, "text": "Free?"}))
        again = json.loads(await ws.recv())
    assert reply["type"] == "error" and reply["code"] == "unavailable"
    assert again["type"] == "ok"
    no_tracebacks(caplog)


@pytest.mark.postgres
async def test_stopped_postgres_is_unavailable_on_http_and_socket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With PostgreSQL stopped under a running app, an API write gets 503 `unavailable` and
    a question on an open socket an `unavailable` error reply."""
    caplog.set_level(logging.WARNING)
    with start_postgres() as postgres:
        url = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
        await upgrade_async(url)
        await make_db_rows(url)
        settings = make_settings(url, tmp_path)
        async with (
            http_client(create_app(settings)) as http,
            serve_app(build_app(settings)) as base,
            connect(f"{base.replace('http', 'ws')}/ws/events/panel") as ws,
        ):
            assert json.loads(await ws.recv())["type"] == "snapshot"
            postgres.stop()
            response = await http.post("/api/events", json=NEW_EVENT, headers=ADMIN)
            await ws.send(json.dumps({"type": "qa.ask", "id": 1, "text": "Down?"}))
            reply = json.loads(await ws.recv())
    assert is_unavailable(response), response.text
    assert response.json()["code"] == "unavailable"
    assert reply["type"] == "error" and reply["code"] == "unavailable"
    no_tracebacks(caplog)


async def make_db_rows(url: str) -> None:
    """The socket test's events in a migrated database."""
    engine = create_engine(url)
    async with sessionmaker(engine)() as session, session.begin():
        session.add(Event(slug="panel", title="Panel", moderator_token="mod-secret"))
    await engine.dispose()
