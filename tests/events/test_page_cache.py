"""Cached event and archive pages: few queries per view, and never stale after a change."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from live.db import create_engine, sessionmaker
from live.events.page_cache import PageCache, change_counter
from live.models import Event, GroupSession, Recording, RecordingState
from live.settings import Settings
from tests.support.app import ADMIN

PAST = "/e/fylkestinget-internasjonal-plan"  # ended and streamed: waits for its recording
OSLO = "/e/planstrategi-4-0"


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run while the block runs."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


async def views(client: httpx.AsyncClient, path: str, n: int = 2) -> str:
    """GET `path` n times (all 200); the last page."""
    for _ in range(n):
        response = await client.get(path)
        assert response.status_code == 200, response.text
    return response.text


async def write(settings: Settings, *rows: Any, change: Any = None) -> None:
    """Add rows or run an update from a connection of its own, as another process would."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        session.add_all(rows)
        if change is not None:
            await session.execute(change)
    await engine.dispose()


async def event_id(settings: Settings, slug: str) -> int:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        found = await session.scalar(select(Event.id).where(Event.slug == slug))
    await engine.dispose()
    assert found is not None
    return found


def published_recording(event: int, title: str) -> Recording:
    when = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    return Recording(event_id=event, state=RecordingState.PUBLISHED, title=title, started_at=when,
                     duration=3600.0, published_at=when, chapters=[])


def test_page_cache_drops_the_least_recently_used() -> None:
    """Beyond its size the cache forgets the entry used longest ago, not the oldest stored."""
    cache = PageCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


async def test_change_counter_moves_on_commits_from_other_connections(sqlite_url: str) -> None:
    """Reading the counter leaves it be; a commit on another connection moves it."""
    counter = change_counter(sqlite_url)
    assert counter is not None and change_counter("postgresql+asyncpg://x/y") is None
    before = counter.read()
    assert counter.read() == before
    engine = create_engine(sqlite_url)
    async with sessionmaker(engine)() as session, session.begin():
        session.add(Event(slug="ny", title="Ny"))
    await engine.dispose()
    assert counter.read() != before
    counter.close()


def test_change_counter_does_not_hold_back_checkpoints(sqlite_url: str) -> None:
    """After a read the side connection holds no snapshot: a full checkpoint is not busy."""
    counter = change_counter(sqlite_url)
    assert counter is not None
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    counter.read()
    writer.execute("CREATE TABLE scratch (x INTEGER)")
    writer.execute("INSERT INTO scratch VALUES (1)")
    counter.read()
    busy, _, _ = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    writer.close()
    counter.close()
    assert busy == 0


async def test_event_page_takes_at_most_three_queries(client: httpx.AsyncClient) -> None:
    """A repeated view of the event page runs at most 3 statements and none for the programme."""
    await views(client, PAST, 1)
    with statements() as seen:
        await views(client, PAST, 1)
    assert len(seen) <= 3, seen
    assert not any("programme_items" in s for s in seen)


async def test_event_page_shows_an_edit_at_once(client: httpx.AsyncClient) -> None:
    """After an organiser changes the title, the next view shows the new title."""
    assert "Ny tittel" not in await views(client, OSLO)
    response = await client.patch(OSLO.replace("/e/", "/api/events/"), headers=ADMIN,
                                  json={"title": "Ny tittel"})
    assert response.status_code == 200, response.text
    assert 'dir="auto">Ny tittel</h1>' in await views(client, OSLO, 1)


async def test_event_page_shows_a_programme_edit(client: httpx.AsyncClient) -> None:
    """A change to the programme alone (the event's own fields unchanged) shows at once."""
    api = OSLO.replace("/e/", "/api/events/")
    await views(client, OSLO)
    doc = (await client.get(api)).json()
    doc["programme"][0]["items"][0]["title"] = "Et helt nytt innlegg"
    response = await client.patch(api, headers=ADMIN, json={"programme": doc["programme"]})
    assert response.status_code == 200, response.text
    assert "Et helt nytt innlegg" in await views(client, OSLO, 1)


async def test_places_left_change_after_a_registration(client: httpx.AsyncClient) -> None:
    """A registration takes a place on the next view of a cached page, in at most 3 queries."""
    assert '<dd class="places">80</dd>' in await views(client, OSLO)
    response = await client.post("/api/events/planstrategi-4-0/registrations", json={
        "occurrence": "oslo", "attendance": "in_person", "name": "Kari Nordmann",
        "email": "kari@example.no", "organisation": "Solund kommune"})
    assert response.status_code == 201, response.text
    with statements() as seen:
        html = await views(client, OSLO, 1)
    assert '<dd class="places">79</dd>' in html
    assert len(seen) <= 3, seen


async def test_published_recording_is_linked_at_once(client: httpx.AsyncClient,
                                                    settings: Settings) -> None:
    """A recording published by another process is linked on the next view of an ended event."""
    # The demo gives the debate a published recording: withdraw it so the event waits for one.
    await write(settings, change=update(Recording).values(state=RecordingState.READY))
    before = await views(client, PAST)
    assert "The recording will be published here" in before or "publisert her" in before
    await write(settings, published_recording(await event_id(settings, PAST[3:]), "Opptaket"))
    after = await views(client, PAST, 1)
    assert 'href="/recordings/' in after


async def test_group_work_opening_shows_at_once(client: httpx.AsyncClient,
                                                settings: Settings) -> None:
    """When the group work opens, the next view links the group rooms."""
    assert "/group-work" not in await views(client, OSLO)
    await write(settings, GroupSession(event_id=await event_id(settings, OSLO[3:]), state="open"))
    assert 'href="/e/planstrategi-4-0/group-work"' in await views(client, OSLO, 1)


async def test_each_language_gets_its_own_page(client: httpx.AsyncClient) -> None:
    """The cached Norwegian page is not served to a visitor who asked for English."""
    nb = await views(client, f"{OSLO}?lang=nb")
    en = await views(client, f"{OSLO}?lang=en")
    assert '<html lang="nb">' in nb and '<html lang="en">' in en


async def test_each_host_gets_its_own_links(client: httpx.AsyncClient) -> None:
    """Page links carry the host the visitor asked for, also when another host's page is
    cached; only the join address follows SALEN_BASE_URL (set to testserver here)."""
    await views(client, OSLO)
    other = await client.get(OSLO, headers={"Host": "salen.example.org"})
    assert "http://salen.example.org/static/css/salen.css" in other.text
    assert "http://testserver/static" not in other.text
    assert other.text.count("testserver") == other.text.count("testserver/j/")


async def test_server_address_given_as_a_list(demo_app: Starlette) -> None:
    """ASGI allows the server address as a list (Starlette's TestClient sends one)."""
    async with demo_app.router.lifespan_context(demo_app) as state:
        async def listed(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state or {})
            scope["server"] = list(scope["server"])
            await demo_app(scope, receive, send)

        transport = httpx.ASGITransport(app=listed)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            statuses = [(await c.get(path)).status_code for path in ["/archive", OSLO] * 2]
    assert statuses == [200] * 4


async def test_archive_takes_at_most_three_queries(client: httpx.AsyncClient,
                                                   settings: Settings) -> None:
    """A repeated view of the archive runs at most 3 statements; the first, reading the list, 4."""
    await write(settings, published_recording(await event_id(settings, PAST[3:]), "Opptaket"))
    with statements() as first:
        await views(client, "/archive", 1)
    with statements() as again:
        await views(client, "/archive", 1)
    assert len(first) <= 4, first
    assert len(again) <= 3, again


async def test_archive_follows_publishing_edits_and_withdrawal(client: httpx.AsyncClient,
                                                             settings: Settings) -> None:
    """The archive lists a new recording, shows its event's new title, and drops it again."""
    assert "Opptaket fra fylkestinget" not in await views(client, "/archive")
    await write(settings, published_recording(await event_id(settings, PAST[3:]),
                                              "Opptaket fra fylkestinget"))
    assert "Opptaket fra fylkestinget" in await views(client, "/archive")
    response = await client.patch(PAST.replace("/e/", "/api/events/"), headers=ADMIN,
                                  json={"title": "Fylkestinget (ny tittel)"})
    assert response.status_code == 200, response.text
    assert "Fylkestinget (ny tittel)" in await views(client, "/archive")
    await write(settings, change=update(Recording).values(state=RecordingState.READY))
    assert "Opptaket fra fylkestinget" not in await views(client, "/archive", 1)
