"""Headless Chromium: the sign-language interpreter picture-in-picture on the live event page
(WHEP from a real publisher) and on a recording's page (in step with the main video); the
switch is remembered, the window moves with the keyboard, and both pages pass axe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Recording
from live.settings import Settings
from stream.client import SyntheticAudio, SyntheticVideo, publish
from stream.package.synth import make_test_video
from tests.streaming.test_stream_page_browser import SLUG, open_page, streamed_event
from tests.support.app import ADMIN
from tests.support.axe import assert_accessible

pytestmark = [pytest.mark.media, pytest.mark.browser]
GUARD_MS = 30_000


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are not about the database: SQLite only."""
    return sqlite_url


async def switch_on(page: Page) -> None:
    await page.wait_for_selector("[data-interpreter]:not([hidden])")
    await page.get_by_role("switch", name="Show sign-language interpreter").check()
    await page.wait_for_selector("#interpreter-pip:not([hidden])")


async def moves_with_keys(page: Page) -> None:
    before = await page.evaluate("document.getElementById('interpreter-pip').style.left")
    await page.focus("#interpreter-pip")
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("+")
    after = await page.evaluate("document.getElementById('interpreter-pip').style.left")
    assert float(after.rstrip("%")) == float(before.rstrip("%")) - 5


async def test_live_page_shows_the_interpreter_picture_in_picture(
    browser: Browser, live_url: str
) -> None:
    """The switch appears on the event page once an interpreter publishes, and shows the
    interpreter's video over the player (WebRTC frames decoded); the choice survives a reload."""
    await streamed_event(live_url)
    page = await open_page(browser, f"{live_url}/e/{SLUG}?lang=en")
    await page.wait_for_function(
        "() => document.querySelector('[data-stream]').dataset.state === 'idle'")
    assert await page.is_hidden("[data-interpreter]")
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        key = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()[
            "interpreter_key"]
        session = await publish(client, f"{live_url}/whip/{SLUG}/interpreter", key,
                                SyntheticVideo(), SyntheticAudio())
        try:
            now = (await client.get(f"/api/events/{SLUG}/now")).json()
            assert now["interpreter"] is True
            assert await page.is_hidden("#interpreter-pip")
            assert await page.locator("[data-stream] video").count() == 1
            await switch_on(page)
            await page.wait_for_function(
                "() => document.querySelector('#interpreter-pip video')"
                ".getVideoPlaybackQuality().totalVideoFrames > 5", timeout=GUARD_MS)
            await moves_with_keys(page)
            await assert_accessible(page)
            await page.reload()
            await page.wait_for_selector("#interpreter-pip:not([hidden])")
            assert await page.get_by_role("switch").is_checked()
            await page.close()
        finally:
            await session.delete(client, key)
            await session.close()


async def test_recording_page_plays_the_interpreter_in_step(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """A recording with an interpreter: the switch shows it picture-in-picture, and seeking
    the main video moves the interpreter to the same moment (plus its shift)."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        rid = (await session.scalars(select(Recording.id))).first()
    await engine.dispose()
    assert rid is not None
    folder = Path(settings.recordings_dir) / "archive" / str(rid) / "interpreter"
    # The demo's own interpreter goes (unlinked: its files are hard links to the run's copy).
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    make_test_video(folder / "interpreter.mp4", 30, container="mp4", audio_codec=None)
    (folder / "interpreter.json").write_text(json.dumps({"offset": 2.0}), encoding="utf-8")
    page = await open_page(browser, f"{live_url}/recordings/{rid}?lang=en")
    await switch_on(page)
    await page.wait_for_function(
        "() => document.querySelector('#interpreter-pip video').readyState >= 1", timeout=GUARD_MS)
    assert await page.evaluate("document.querySelector('#interpreter-pip video').src") == (
        f"{live_url}/recordings/{rid}/files/interpreter/interpreter.mp4")
    assert round(await page.evaluate(
        "document.querySelector('#interpreter-pip video').duration")) == 30
    await page.evaluate("document.getElementById('player').currentTime = 10")
    await page.wait_for_function(
        "() => Math.abs(document.querySelector('#interpreter-pip video').currentTime - 8) < 0.5",
        timeout=GUARD_MS)
    await moves_with_keys(page)
    await assert_accessible(page)
