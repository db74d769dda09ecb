"""Headless Chromium publishes with whip-publish.js and plays with whep-player.js (WHEP and HLS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stream.manager import Status
from tests.support.streams import GUARD, KEYS, Harness, running_server

pytestmark = [pytest.mark.media, pytest.mark.browser]
JS = Path(__file__).resolve().parents[2] / "static" / "js"
PAGE = """<!doctype html><html><body><video id="v" autoplay muted playsinline></video>
<script type="module">
import {{ WhipPublisher }} from "/static/js/whip-publish.js";
import {{ WhepPlayer }} from "/static/js/whep-player.js";
window.statuses = [];
const video = document.getElementById("v");
const onStatus = (s) => window.statuses.push(s.mode);
window.publisher = new WhipPublisher({{whipUrl: "/whip/seminar", streamKey: "{key}",
  preview: video, onStatus, maxBitrate: 500000}});
window.player = new WhepPlayer(video, {{whepUrl: "/whep/seminar",
  hlsUrl: "/live/seminar/index.m3u8", onStatus}});
window.ready = true;
</script></body></html>"""


async def _page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE.format(key=request.query_params.get("key", "")))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Harness]:
    """The streaming server plus the two JS modules and a test page."""
    extra = [Route("/page", _page), Mount("/static/js", StaticFiles(directory=JS))]
    async with running_server(tmp_path, extra) as harness:
        yield harness


async def _open(browser: Browser, url: str) -> Page:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function("window.ready === true")
    return page


async def _frames_decoded(page: Page) -> int:
    return int(
        await page.evaluate(
            """async () => {
              let frames = 0;
              const stats = await window.player.pc.getStats();
              stats.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video")
                frames += s.framesDecoded || 0; });
              return frames;
            }"""
        )
    )


async def test_browser_publishes_and_another_browser_plays(
    server: Harness, browser: Browser
) -> None:
    """Chromium's fake camera goes out through WHIP and comes back decoded in a WHEP player."""
    publisher = await _open(browser, f"{server.url}/page?key={KEYS['seminar']}")
    await publisher.evaluate("window.publisher.start()")
    await publisher.wait_for_function("window.statuses.includes('live')", timeout=GUARD * 1000)
    assert server.streams.state("seminar").status == Status.LIVE

    viewer = await _open(browser, f"{server.url}/page")
    parsed = await viewer.evaluate(
        """import("/static/js/whep-player.js").then((m) => m.iceServersFromLinks(
          '<stun:s.example.org>; rel="ice-server", '
          + '<turn:t.example.org:3478>; rel="ice-server"; username="al"; credential="pw"'))"""
    )
    assert parsed == [
        {"urls": "stun:s.example.org"},
        {"urls": "turn:t.example.org:3478", "username": "al", "credential": "pw"},
    ]
    await viewer.evaluate("window.player.start()")
    await viewer.wait_for_function("window.player.mode === 'webrtc'", timeout=GUARD * 1000)

    async def decoding() -> None:
        while await _frames_decoded(viewer) < 10:
            await asyncio.sleep(0.2)

    await asyncio.wait_for(decoding(), GUARD)
    assert server.streams.state("seminar").viewers == 1

    # the fall-back: the same page switches to live HLS (and waits for its playlist)
    await viewer.evaluate("window.player.fallBack('test')")
    assert await viewer.evaluate("window.player.mode") == "hls"
    assert await viewer.evaluate("document.getElementById('v').src") == (
        f"{server.url}/live/seminar/index.m3u8"
    )
    await viewer.wait_for_function(
        "document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames > 5",
        timeout=GUARD * 1000,
    )

    await viewer.evaluate("window.player.stop()")
    await publisher.evaluate("window.publisher.stop()")
    name, mp4, _ = await asyncio.wait_for(server.finished.get(), GUARD)
    assert name == "seminar" and mp4.stat().st_size > 0
