"""Headless Chromium: the live state follows the stream without a reload on the front page
and the event page — poster and countdown before, "Live now" while a speaker publishes,
"Ended — recording to come" after — and the player offers the sound when autoplay is muted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from live.settings import Settings
from tests.support.app import ADMIN, make_settings
from tests.support.browser import new_context

pytestmark = [pytest.mark.media, pytest.mark.browser]
SLUG = "live-state"
GUARD_MS = 40_000  # the front page polls every 10 s behind a 5 s cache: a hang, not slowness


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages (the msgids)."""
    return make_settings(database_url, tmp_path, default_locale="en")


async def streamed_event(live_url: str, starts_in: dt.timedelta) -> str:
    """Create a published, streamed event starting after `starts_in`; return its stream key."""
    starts = (dt.datetime.now(dt.UTC) + starts_in).replace(microsecond=0)
    doc: dict[str, Any] = {
        "slug": SLUG, "title": "Direkte seminar", "streamed": True, "published": True,
        "occurrences": [{"slug": "oslo", "city": "Oslo", "starts": starts.isoformat(),
                         "ends": (starts + dt.timedelta(hours=2)).isoformat()}],
    }
    async with httpx.AsyncClient(base_url=live_url, headers=ADMIN) as client:
        assert (await client.post("/api/events", json=doc)).status_code == 201
        info = (await client.get(f"/api/events/{SLUG}/stream")).json()
    return str(info["stream_key"])


async def open_page(browser: Browser, url: str) -> Page:
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(url)
    return page


def badge(page: Page) -> Any:
    return page.locator(f"[data-live-badge='{SLUG}']").first


async def test_badges_follow_the_stream_without_a_reload(browser: Browser, live_url: str) -> None:
    """Before: a poster with the title and "Starts in N min"; a speaker starts publishing →
    "Live now" on the front page and the event page without a reload, the video replaces the
    poster and offers "Tap for sound"; the speaker stops → "Ended — recording to come" on
    both, never "Upcoming" beside it."""
    key = await streamed_event(live_url, dt.timedelta(minutes=30))
    front = await open_page(browser, f"{live_url}/?lang=en")
    event = await open_page(browser, f"{live_url}/e/{SLUG}?lang=en")
    await expect(badge(front)).to_have_text("Starts in 30 min")
    await expect(badge(event)).to_have_text("Starts in 30 min")
    poster = event.locator("[data-stream] [data-poster]")
    await expect(poster).to_be_visible()
    await expect(poster).to_contain_text("Direkte seminar")
    await expect(event.locator("[data-stream] video")).to_be_hidden()

    publisher = await open_page(browser, f"{live_url}/e/{SLUG}/publish?key={key}&lang=en")
    await publisher.click("[data-start]")
    await publisher.wait_for_function(
        "() => document.querySelector('[data-publish]').dataset.mode === 'live'", timeout=GUARD_MS
    )
    await expect(badge(event)).to_have_text("Live now", timeout=GUARD_MS)
    await expect(badge(front)).to_have_text("Live now", timeout=GUARD_MS)
    await expect(poster).to_be_hidden()
    await expect(event.locator("[data-stream] video")).to_be_visible()
    unmute = event.locator("[data-unmute]")
    await expect(unmute).to_have_text("Tap for sound", timeout=GUARD_MS)
    await expect(unmute).to_be_visible(timeout=GUARD_MS)
    await unmute.click()
    await expect(unmute).to_be_hidden()
    assert await event.evaluate("document.querySelector('[data-stream] video').muted") is False

    await publisher.click("[data-stop]")
    await expect(badge(event)).to_have_text("Ended — recording to come", timeout=GUARD_MS)
    await expect(badge(front)).to_have_text("Ended — recording to come", timeout=GUARD_MS)
    await expect(poster).to_be_visible()
    assert "Upcoming" not in await event.inner_text("main")
    card = front.locator("li", has=front.locator(f"[data-live-badge='{SLUG}']"))
    assert "Upcoming" not in await card.inner_text()
