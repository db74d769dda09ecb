"""App fixtures: a migrated database (SQLite and PostgreSQL), the app, an HTTP client, a live server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from live.app import create_app
from live.db import create_engine, sessionmaker
from live.demo import load_demo
from live.migrate import upgrade_async
from live.settings import Settings
from tests.support.liveserver import serve_app

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty database on SQLite and on PostgreSQL (each test runs on both)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database only, for tests that are not about the database."""
    return f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}"


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "admin_token": ADMIN_TOKEN,
        "recordings_dir": tmp_path / "recordings",
        "outbox_dir": tmp_path / "outbox",
        "base_url": "http://testserver",
    }
    return Settings.from_env({}, **(values | overrides))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> Starlette:
    """The app on a migrated database (migrations run for real, as `salen db upgrade` does)."""
    await upgrade_async(settings.database_url)
    return create_app(settings)


async def load_demo_into(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        await load_demo(session)
    await engine.dispose()


@pytest.fixture
async def demo_app(app: Starlette, settings: Settings) -> Starlette:
    """The app with the demo events and the demo organiser loaded."""
    await load_demo_into(settings)
    return app


class LifespanApp:
    """Runs the app's lifespan once and hands its state to every request (for httpx)."""

    def __init__(self, app: Starlette, state: dict[str, Any]) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(self.state)
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def http_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=LifespanApp(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def client(demo_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client for the demo app."""
    async with http_client(demo_app) as c:
        yield c


@pytest.fixture
async def live_url(demo_app: Starlette) -> AsyncIterator[str]:
    """The demo app served by uvicorn on 127.0.0.1, for Chromium tests."""
    async with serve_app(demo_app) as url:
        yield url
