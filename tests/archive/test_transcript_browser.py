"""Headless Chromium: the demo recording's transcript filters as one types, a hit seeks the
player to its moment, and the page passes axe."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Recording
from live.settings import Settings
from tests.streaming.test_stream_page_browser import open_page
from tests.support.axe import assert_accessible

pytestmark = [pytest.mark.browser]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Not about the database: SQLite only."""
    return sqlite_url


async def test_transcript_search_jumps_to_the_moment(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Typing a word leaves only the lines holding it; clicking a hit's time seeks the player
    there without leaving the page."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        rid = (await session.scalars(select(Recording.id))).first()
    await engine.dispose()
    page = await open_page(browser, f"{live_url}/recordings/{rid}?lang=en")
    lines = page.locator("[data-transcript-line]")
    total = await lines.count()
    assert total > 5
    await page.fill("#transcript-q", "EU-prosjekter")
    visible = page.locator("[data-transcript-line]:not([hidden])")
    assert await visible.count() == 1
    assert await page.text_content("[data-transcript-count]") == '1 line holds “EU-prosjekter”.'
    hit = visible.locator("a.seek")
    start = float(str(await hit.get_attribute("data-t")))
    await page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    await page.evaluate("window.notReloaded = true")
    await hit.click()
    await page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {start}) < 0.5")
    assert await page.evaluate("window.notReloaded === true")
    await assert_accessible(page)
