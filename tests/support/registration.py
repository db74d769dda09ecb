"""Shared fixtures for the registration tests: a database on SQLite or PostgreSQL, and a seeded event."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import live.models
import live.models.registration
from live.db import create_engine, sessionmaker
from live.models import Base, Event, Occurrence, Organisation, OrganisationKind, Quota, Theme
from live.models.base import utcnow
from tests.support.servers import PostgresServer

COUNTIES = [f"Fylke {i:02d} fylkeskommune" for i in range(30)]


@dataclass(frozen=True)
class Seeded:
    """Ids and slugs of the seeded event."""

    slug: str
    event_id: int
    elverum: int
    otta: int
    theme_ids: tuple[int, ...]


async def open_db(url: str) -> tuple[object, async_sessionmaker[AsyncSession]]:
    """An engine with every table created, and its sessionmaker."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine, sessionmaker(engine)


@pytest.fixture(name="db", params=["sqlite", "postgres"])
async def db_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh database with all tables, on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}"
        name = None
        server = None
    else:
        server = request.getfixturevalue("postgres_server")
        assert isinstance(server, PostgresServer)
        name = f"t_{uuid.uuid4().hex[:16]}"
        url = server.create_database(name)
    engine, maker = await open_db(url)
    yield maker
    await engine.dispose()  # type: ignore[attr-defined]
    if server is not None and name is not None:
        server.drop_database(name)


async def seed(
    db: async_sessionmaker[AsyncSession],
    *,
    capacity: int | None = 50,
    quota: int | None = 4,
    deadline: dt.datetime | None = None,
    registration_open: bool = True,
    slug: str = "konf",
) -> Seeded:
    """An event with two occurrences (Elverum, Otta), two themes and a county quota."""
    now = utcnow()
    start = (now + dt.timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    async with db() as session, session.begin():
        event = Event(
            slug=slug,
            title="Regional konferanse",
            registration_open=registration_open,
            registration_questions=[{"key": "allergy", "label": "Allergier"}],
        )
        elverum = Occurrence(
            slug="elverum",
            city="Elverum",
            venue="Festsalen",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=6),
            registration_deadline=deadline or now + dt.timedelta(days=20),
            capacity_in_person=capacity,
            capacity_online=None,
            online=True,
            serves_food=True,
        )
        otta = Occurrence(
            slug="otta",
            city="Otta",
            starts_at=start + dt.timedelta(days=7),
            ends_at=start + dt.timedelta(days=7, hours=6),
            registration_deadline=now + dt.timedelta(days=27),
            capacity_in_person=2,
            capacity_online=0,
            online=False,
        )
        event.occurrences = [elverum, otta]
        event.themes = [
            Theme(slug="tema-1", title="Tema 1", position=1),
            Theme(slug="tema-2", title="Tema 2", position=2),
        ]
        if quota is not None:
            event.quotas = [Quota(organisation_kind=OrganisationKind.COUNTY, limit=quota)]
        session.add(event)
        known = set(await session.scalars(select(Organisation.key)))
        for name in COUNTIES:
            if live.models.normalise_name(name) in known:
                continue
            session.add(
                Organisation(
                    name=name, key=live.models.normalise_name(name), kind=OrganisationKind.COUNTY
                )
            )
        await session.flush()
        return Seeded(slug, event.id, elverum.id, otta.id, tuple(t.id for t in event.themes))


ADMIN_TOKEN = "registration-admin-token"


def make_app(
    settings: object, db: async_sessionmaker[AsyncSession], limiter: object | None = None
) -> object:
    """The registration routes in a bare Starlette app with the app's error handler.

    State is put on each request's scope as the lifespan would, so httpx's ASGITransport
    (which runs no lifespan) can drive it.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException

    from live.errors import SalenError
    from live.registration.api import routes
    from live.registration.ratelimit import RateLimiter
    from live.web import error_response
    from tests.support.state import shared_state

    app = Starlette(
        routes=routes,
        exception_handlers={SalenError: error_response, HTTPException: error_response},
    )
    state = {
        "app": shared_state(settings, db),
        "registration_limiter": limiter or RateLimiter(limit=100_000),
    }

    async def with_state(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)  # type: ignore[arg-type]

    return with_state


def client(asgi: object) -> object:
    """An httpx client bound to the ASGI app."""
    import httpx

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi),  # type: ignore[arg-type]
        base_url="http://testserver",
    )
