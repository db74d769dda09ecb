"""The archive in headless Chromium: playback, chapter links, captions, and axe-core checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.archive import ITEMS, SLUG, add_event, video, wait_processed
from tests.support.axe import assert_accessible

CAPTIONS = (
    "WEBVTT\n\n00:00:00.500 --> 00:00:08.000\nVelkommen til seminaret\n\n"
    "00:00:09.000 --> 00:00:16.000\nInnlegget begynner\n"
)
PLAYER = "document.getElementById('player')"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 30-second H.264/AAC test video for the module."""
    return video(tmp_path_factory.mktemp("media"), 30, audio_codec="aac")


@pytest.fixture
async def published(live_url: str, settings: Settings, source: Path) -> int:
    """A processed, published 30-second recording with Norwegian captions, on the live server."""
    await add_event(settings)
    async with httpx.AsyncClient(base_url=live_url, headers=ADMIN) as client:
        with source.open("rb") as f:
            sent = await client.post(
                f"/admin/events/{SLUG}/recordings",
                data={"started_at": "2026-10-21T10:00"},
                files={"file": ("opptak.ts", f, "video/mp2t")},
            )
        rid = int(sent.headers["location"].rsplit("/", 1)[1])
        assert (await wait_processed(client, rid, ADMIN))["state"] == "ready"
        await client.post(
            f"/admin/recordings/{rid}/captions",
            data={"lang": "nb", "label": "Norsk"},
            files={"file": ("nb.vtt", CAPTIONS.encode(), "text/vtt")},
        )
        assert (await client.post(f"/api/recordings/{rid}/publish")).status_code == 200
    return rid


async def test_plays_follows_a_chapter_and_shows_captions(
    page: Page, live_url: str, published: int
) -> None:
    """Chromium plays the HLS rendition, follows a chapter link, shows captions, honours ?t=."""
    await page.goto(f"{live_url}/recordings/{published}")
    await page.wait_for_function(f"() => {PLAYER}.readyState >= 2")
    assert await page.evaluate(f"() => {PLAYER}.dataset.engine") == "hls.js"
    await page.evaluate(f"() => {{ {PLAYER}.muted = true; return {PLAYER}.play(); }}")
    await page.wait_for_function(f"() => {PLAYER}.currentTime > 0.3")
    await page.get_by_role("link", name=ITEMS[1]).first.click()
    await page.wait_for_function(f"() => {PLAYER}.currentTime >= 9.9")
    assert page.url.endswith("?t=10")
    track = await page.evaluate(f"""() => {{
        const t = {PLAYER}.textTracks[0];
        return {{count: {PLAYER}.textTracks.length, lang: t.language, label: t.label, mode: t.mode}};
    }}""")
    assert track == {"count": 1, "lang": "nb", "label": "Norsk", "mode": "showing"}
    await page.wait_for_function(
        f"() => Array.from({PLAYER}.textTracks[0].activeCues || []).some(c => c.text === 'Innlegget begynner')"
    )
    # A link with ?t= opens the recording at that moment.
    await page.goto(f"{live_url}/recordings/{published}?t=20")
    await page.wait_for_function(f"() => {PLAYER}.readyState >= 1 && {PLAYER}.currentTime >= 19.9")
    chapters = await page.locator("ol.chapters a").all_inner_texts()
    assert [c.split(" ", 1)[1] for c in chapters] == ITEMS


async def test_archive_and_recording_pages_are_accessible(
    page: Page, live_url: str, published: int
) -> None:
    """axe-core finds no serious or critical problems on /archive and the recording page."""
    await page.goto(f"{live_url}/archive")
    assert await page.locator(f'a[href="/recordings/{published}"]').count() == 1
    await assert_accessible(page)
    await page.goto(f"{live_url}/recordings/{published}")
    await page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    await assert_accessible(page)


async def test_chapter_marks_current_chapter_and_share_link(
    page: Page, live_url: str, published: int
) -> None:
    """Marks for each chapter lie under the player; the chapter playing is marked; the share link carries ?t=."""
    await page.goto(f"{live_url}/recordings/{published}?t=12")
    await page.wait_for_function(f"() => {PLAYER}.readyState >= 1 && {PLAYER}.currentTime >= 11.9")
    marks = page.locator("[data-chapter-marks] a")
    await marks.nth(len(ITEMS) - 1).wait_for(state="attached")
    assert await marks.count() == len(ITEMS)
    # The mark follows the seek to 12 s (chapter two), not the load at 0 s.
    current = page.locator("ol.chapters a[aria-current='true']", has_text=ITEMS[1])
    await current.wait_for()
    assert await page.locator("ol.chapters a[aria-current='true']").count() == 1
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.get_by_role("button", name="Del fra dette øyeblikket").click()
    shared = await page.locator("[data-share-url]").input_value()
    assert shared == f"{live_url}/recordings/{published}?t=12"
    assert await page.locator("[data-share-status]").inner_text() == "Lenken er kopiert."


async def test_archive_shows_the_poster_frame_as_thumbnail(
    page: Page, live_url: str, published: int
) -> None:
    """Each recording in the archive carries its poster frame, loaded as a thumbnail."""
    await page.goto(f"{live_url}/archive")
    thumb = page.locator(f'img.archive-thumb[src="/recordings/{published}/files/poster.jpg"]')
    await thumb.scroll_into_view_if_needed()
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await thumb.element_handle())
