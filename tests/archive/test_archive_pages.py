"""The archive list in pages: `PAGE_SIZE` recordings a page, Designsystemet's pagination, and
the search kept in every page's address."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from sqlalchemy import select

from live.archive.pages import PAGE_SIZE, pages_of
from live.db import create_engine, sessionmaker
from live.models import Event, Recording, RecordingState
from live.settings import Settings


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The list is about HTTP, not the database: SQLite only."""
    return sqlite_url


def test_pages_around_the_current_one_with_gaps() -> None:
    """First and last page always, two either side of the current one, a gap (0) between."""
    link = {"q": "plan", "year": "", "type": ""}
    assert [n for n, _ in pages_of(10 * PAGE_SIZE, 5, link)] == [1, 0, 3, 4, 5, 6, 7, 0, 10]
    assert [n for n, _ in pages_of(PAGE_SIZE + 1, 1, link)] == [1, 2]
    assert pages_of(PAGE_SIZE + 1, 2, link)[1] == (2, "/archive?q=plan&page=2")


async def test_a_long_archive_comes_in_pages(client: httpx.AsyncClient, settings: Settings) -> None:
    """Five more than a page of published recordings: the first page lists a page's worth and
    links to the second, which lists the rest; the count is of all found."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event = await session.scalar(select(Event).where(Event.published.is_(True)))
        assert event is not None
        start = dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC)
        session.add_all(Recording(
            event_id=event.id, state=RecordingState.PUBLISHED, title=f"Opptak {i}",
            started_at=start + dt.timedelta(days=i), duration=60.0, published_at=start,
            chapters=[]) for i in range(PAGE_SIZE + 4))
    await engine.dispose()
    first = (await client.get("/archive", params={"lang": "en"})).text
    total = PAGE_SIZE + 5  # and the demo's own
    assert f"{total} recordings" in first
    assert first.count('class="ds-card archive-card"') == PAGE_SIZE
    assert 'class="ds-pagination"' in first and 'href="/archive?page=2">Next page' in first
    assert re.search(r'href="/archive\?page=1" aria-current="true">1<', first)
    second = (await client.get("/archive", params={"page": "2", "lang": "en"})).text
    assert second.count('class="ds-card archive-card"') == 5
    assert 'href="/archive?page=1">Previous page' in second
    beyond = (await client.get("/archive", params={"page": "9", "lang": "en"})).text
    assert beyond.count('class="ds-card archive-card"') == 5  # the last page
