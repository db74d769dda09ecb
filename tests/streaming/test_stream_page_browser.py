"""Headless Chromium: a speaker publishes from /e/{slug}/publish, and viewers watch on the
event page through WHEP and through live HLS; both pages pass axe."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from live.settings import Settings
from tests.support.app import ADMIN, ADMIN_TOKEN, make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context

pytestmark = [pytest.mark.media, pytest.mark.browser]
SLUG = "stream-browser"
GUARD_MS = 30_000  # a wait longer than this is a hang, not a slow run


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """One WebRTC viewer per process: the second viewer is sent to HLS (503)."""
    return make_settings(database_url, tmp_path, webrtc_viewer_limit=1)


async def streamed_event(live_url: str) -> str:
    """Create a streamed event starting tomorrow; return its stream key."""
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    doc: dict[str, Any] = {
        "slug": SLUG,
        "title": "Strømmet seminar",
        "streamed": True,
        "occurrences": [
            {
                "slug": "oslo",
                "city": "Oslo",
                "starts": starts.isoformat(),
                "ends": (starts + dt.timedelta(hours=2)).isoformat(),
            }
        ],
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


async def frames_decoded(page: Page) -> int:
    """Video frames the page's WebRTC player has decoded, per getStats()."""
    return int(
        await page.evaluate(
            """async () => {
              const player = document.querySelector("[data-stream] video").salenPlayer;
              if (!player || !player.pc) return 0;
              let frames = 0;
              (await player.pc.getStats()).forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
              });
              return frames;
            }"""
        )
    )


async def status_line(page: Page) -> str:
    return str(await page.text_content("[data-stream-status]")).strip()


async def test_publish_page_streams_to_event_page_over_whep_and_hls(
    browser: Browser, live_url: str
) -> None:
    """The fake camera published from the browser page plays on the event page through WHEP,
    and through live HLS for a viewer beyond the WebRTC limit; the status line follows the
    stream, and both pages pass axe."""
    key = await streamed_event(live_url)
    publisher = await open_page(browser, f"{live_url}/e/{SLUG}/publish?key={key}&lang=en")
    await assert_accessible(publisher)
    await publisher.click("[data-start]")
    await publisher.wait_for_function(
        "() => document.querySelector('[data-publish]').dataset.mode === 'live'", timeout=GUARD_MS
    )
    assert await publisher.text_content("[data-publish-status]") == "You are live."
    await assert_accessible(publisher)

    viewer = await open_page(browser, f"{live_url}/e/{SLUG}?lang=en")
    await viewer.wait_for_function(
        "() => document.querySelector('[data-stream] video').salenPlayer?.mode === 'webrtc'",
        timeout=GUARD_MS,
    )

    async def decoding() -> None:
        while await frames_decoded(viewer) < 10:
            await asyncio.sleep(0.2)

    await asyncio.wait_for(decoding(), GUARD_MS / 1000)
    await viewer.wait_for_function(
        "() => document.querySelector('[data-stream-status]').textContent === 'Live · 1 watching'",
        timeout=GUARD_MS,
    )
    await assert_accessible(viewer)

    # the WebRTC viewer limit (1) is reached: WHEP answers 503 and the player uses HLS
    hls = await open_page(browser, f"{live_url}/e/{SLUG}?lang=en")
    await hls.wait_for_function(
        "() => document.querySelector('[data-stream]').dataset.mode === 'hls'", timeout=GUARD_MS
    )
    assert await hls.evaluate("document.querySelector('[data-stream] video').src") == (
        f"{live_url}/live/{SLUG}/master.m3u8"
    )
    await hls.wait_for_function(
        "() => document.querySelector('[data-stream] video').getVideoPlaybackQuality()"
        ".totalVideoFrames > 5",
        timeout=GUARD_MS,
    )
    assert "HLS" in str(await hls.text_content("[data-stream-mode]"))
    reason = await hls.evaluate("document.querySelector('[data-stream]').dataset.reason")
    assert reason == "WHEP answered 503"

    await publisher.click("[data-stop]")
    await publisher.wait_for_function(
        "() => document.querySelector('[data-publish]').dataset.mode === 'stopped'",
        timeout=GUARD_MS,
    )
    # finalising turns into ended once the MP4 is written; either may be what the poll sees
    await viewer.wait_for_function(
        """() => ["Ended — the recording is being prepared", "Ended — recording to come"].includes(
             document.querySelector('[data-stream-status]').textContent)""",
        timeout=GUARD_MS,
    )
    assert await viewer.evaluate("document.querySelector('[data-stream]').dataset.mode") == "ended"


async def test_wrong_key_is_reported_on_the_publish_page(browser: Browser, live_url: str) -> None:
    """Publishing with a wrong key says so and leaves the start button usable; the
    organiser's stream page passes axe."""
    await streamed_event(live_url)
    organiser = await open_page(
        browser, f"{live_url}/admin/events/{SLUG}/stream?token={ADMIN_TOKEN}"
    )
    assert await organiser.input_value("#whip-url") == f"http://testserver/whip/{SLUG}"
    await assert_accessible(organiser)
    publisher = await open_page(browser, f"{live_url}/e/{SLUG}/publish?key=wrong&lang=en")
    await publisher.click("[data-start]")
    await publisher.wait_for_function(
        "() => document.querySelector('[data-publish]').dataset.mode === 'error'", timeout=GUARD_MS
    )
    assert "The stream key is wrong." in str(await publisher.text_content("[data-publish-status]"))
    assert await publisher.is_enabled("[data-start]")


async def test_a_refused_camera_is_explained_in_the_pages_language(
    browser: Browser, live_url: str
) -> None:
    """A speaker who has not let the browser use the camera is told so in bokmål, with what to
    do, not the browser's own English ("Permission denied"); start stays usable."""
    key = await streamed_event(live_url)
    context = await new_context(browser)
    await context.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject("
        "new DOMException('Permission denied', 'NotAllowedError'));")
    publisher = await context.new_page()
    await publisher.goto(f"{live_url}/e/{SLUG}/publish?key={key}&lang=nb")
    for button in ("[data-preview]", "[data-start]"):
        await publisher.click(button)
        await publisher.wait_for_function(
            "() => document.querySelector('[data-publish]').dataset.mode === 'error'",
            timeout=GUARD_MS)
        status = str(await publisher.text_content("[data-publish-status]"))
        assert "fikk ikke lov til å bruke kamera og mikrofon" in status, status
        assert "Permission" not in status and await publisher.is_enabled("[data-start]")
