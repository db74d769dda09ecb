"""App fixtures: a migrated database (SQLite and PostgreSQL), the app, an HTTP client, a live server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from live.app import create_app
from live.db import create_engine, sessionmaker
from live.demo import OSLO, demo_shift, load_demo
from live.migrate import upgrade
from live.settings import Settings
from tests.support.liveserver import serve_app

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# The day the test session loads the demo on, fixed once: a run that crosses midnight
# between Sunday and Monday in Oslo would otherwise load it with one week's shift and
# expect another (`demo_shift`).
DEMO_DAY = dt.datetime.now(OSLO).date()


def demo_time(text: str) -> dt.datetime:
    """A time written in the demo files, where the loaded demo has it (see `demo_shift`)."""
    return dt.datetime.fromisoformat(text) + demo_shift(DEMO_DAY)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Templates:
    """Databases migrated once per session ("empty") and with the demo loaded ("demo")."""

    backend: str
    empty: str
    demo: str


def _prepare(url: str, tmp: Path, demo: bool) -> None:
    upgrade(url)
    if demo:
        asyncio.run(load_demo_into(make_settings(url, tmp)))


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    root = tmp_path_factory.mktemp("templates")
    paths = {kind: root / f"{kind}.db" for kind in ("empty", "demo")}
    for kind, path in paths.items():
        _prepare(f"sqlite+aiosqlite:///{path}", root, demo=kind == "demo")
    return Templates("sqlite", str(paths["empty"]), str(paths["demo"]))


@pytest.fixture(scope="session")
def postgres_templates(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Templates:
    root = tmp_path_factory.mktemp("pg-templates")
    for kind in ("empty", "demo"):
        _prepare(postgres_server.create_database(f"tpl_{kind}"), root, demo=kind == "demo")
    return Templates("postgres", "tpl_empty", "tpl_demo")


class Database:
    """One test's database, copied from a session template (cheap on both backends)."""

    def __init__(self, request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.templates: Templates = request.getfixturevalue("sqlite_templates")
            self.path = tmp_path / "salen.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
        else:
            self.templates = request.getfixturevalue("postgres_templates")
            self.server = request.getfixturevalue("postgres_server")
            self.name = f"t_{uuid.uuid4().hex[:16]}"
            self.url = self.server.url(self.name)

    def copy_from(self, template: str) -> None:
        if self.backend == "sqlite":
            shutil.copyfile(template, self.path)
            return
        self.server.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.server.psql(f"CREATE DATABASE {self.name} TEMPLATE {template}")

    def drop(self) -> None:
        if self.backend == "postgres":
            self.server.drop_database(self.name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that uses a database runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    db = Database(request, backend, tmp_path)
    db.copy_from(db.templates.empty)
    yield db
    db.drop()


@pytest.fixture
def database_url(database: Database) -> str:
    """A fresh database with every migration applied and no data."""
    return database.url


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database without any table (for testing the migrations themselves)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_templates: Templates) -> str:
    """A fresh migrated SQLite database only, for tests that are not about the database."""
    path = tmp_path / "salen.db"
    shutil.copyfile(sqlite_templates.empty, path)
    return f"sqlite+aiosqlite:///{path}"


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
def app(settings: Settings) -> Starlette:
    """The app on a migrated database (migrated once per session by `salen db upgrade`'s code)."""
    return create_app(settings)


async def load_demo_into(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        await load_demo(session, DEMO_DAY)
    await engine.dispose()


@pytest.fixture
def demo_app(app: Starlette, settings: Settings, request: pytest.FixtureRequest) -> Starlette:
    """The app with the demo events and the demo organiser loaded."""
    if settings.database_url.startswith("sqlite") and "database" not in request.fixturenames:
        # A module chose SQLite only through `sqlite_url`: copy the demo over it.
        path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
        shutil.copyfile(request.getfixturevalue("sqlite_templates").demo, path)
    else:
        database: Database = request.getfixturevalue("database")
        database.copy_from(database.templates.demo)
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
