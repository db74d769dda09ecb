"""App fixtures: a migrated database (SQLite and PostgreSQL), the app, an HTTP client, a live server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
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
from live.archive.service import CAPTIONS_DIR
from live.db import create_engine, sessionmaker
from live.demo import OSLO, demo_shift, load_demo
from live.demo.content import DemoRun, add_demo_content
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
    """Databases migrated once per session ("empty") and with the demo loaded ("demo").

    `recordings` is the demo database's recordings folder (the demo debate's recording),
    copied into each demo test's own folder.
    """

    backend: str
    empty: str
    demo: str
    recordings: Path


def _prepare(url: str, tmp: Path, demo: bool, media: Path) -> None:
    upgrade(url)
    if demo:
        asyncio.run(load_demo_into(make_settings(url, tmp), media))


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the demo recording's generated media are kept: made once per run and shared by
    its xdist workers (their base folders' common parent; `make_demo_media` takes turns)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "demo-media"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory, demo_media: Path) -> Templates:
    root = tmp_path_factory.mktemp("templates")
    paths = {kind: root / f"{kind}.db" for kind in ("empty", "demo")}
    for kind, path in paths.items():
        _prepare(f"sqlite+aiosqlite:///{path}", root, kind == "demo", demo_media)
    return Templates("sqlite", str(paths["empty"]), str(paths["demo"]), root / "recordings")


@pytest.fixture(scope="session")
def postgres_templates(
    postgres_server: Any, tmp_path_factory: pytest.TempPathFactory, demo_media: Path
) -> Templates:
    root = tmp_path_factory.mktemp("pg-templates")
    for kind in ("empty", "demo"):
        _prepare(postgres_server.create_database(f"tpl_{kind}"), root, kind == "demo", demo_media)
    return Templates("postgres", "tpl_empty", "tpl_demo", root / "recordings")


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


async def load_demo_into(settings: Settings, media: Path) -> None:
    """The demo events, the organiser and their content (group work, report, the debate's
    recording with media from `media`), as `salen serve --demo` loads them."""
    engine = create_engine(settings.database_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        await load_demo(session, DEMO_DAY)
    await add_demo_content(DemoRun(settings, db, cache=media))
    await engine.dispose()


def copy_demo_recordings(templates: Templates, settings: Settings) -> None:
    """The demo's recording files into this test's recordings folder, hard-linked.

    The packager and the slide upload replace files by renaming new ones over them, so a
    test that changes the demo recording leaves the shared copy alone; captions are
    rewritten in place, so they are copied.
    """
    source = templates.recordings / "archive"
    if not source.is_dir():
        return
    target = Path(settings.recordings_dir) / "archive"
    target.mkdir(parents=True, exist_ok=True)
    for folder in source.iterdir():
        shutil.copytree(folder, target / folder.name, dirs_exist_ok=True, copy_function=_link)


def _link(src: str, dst: str) -> None:
    if f"/{CAPTIONS_DIR}/" not in src:
        with contextlib.suppress(OSError):  # another file system (a test's small disk): copy
            os.link(src, dst)
            return
    shutil.copy2(src, dst)


@pytest.fixture
def demo_app(app: Starlette, settings: Settings, request: pytest.FixtureRequest) -> Starlette:
    """The app with the demo events and the demo organiser loaded."""
    if settings.database_url.startswith("sqlite") and "database" not in request.fixturenames:
        # A module chose SQLite only through `sqlite_url`: copy the demo over it.
        path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
        templates: Templates = request.getfixturevalue("sqlite_templates")
        shutil.copyfile(templates.demo, path)
    else:
        database: Database = request.getfixturevalue("database")
        templates = database.templates
        database.copy_from(templates.demo)
    copy_demo_recordings(templates, settings)
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
