"""Issue 26 end to end in Chromium: a stream and a sign-language interpreter published over
real WebRTC (WHIP on loopback), a captioner typing during it, a viewer reading the captions
and watching the interpreter picture-in-picture; then the recording that results carries
the captions on its own clock and the interpreter, the organiser corrects a cue in the
caption editor and publishes, and the published page's transcript search jumps to it.

The captions' timing is checked against the picture, not against Salen's own bookkeeping:
the synthetic camera paints its frame number into every picture and notes when it sent
each, so the frame on screen while a line was typed is known, and the recording's MP4
says at which moment of the recording that frame plays. The cue must start there.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from live.archive.service import MEDIA_DIR, MP4_NAME
from live.demo import DEMO_ORGANISER
from live.settings import Settings
from stream.client import SyntheticAudio, SyntheticVideo, publish, read_frame_number
from stream.package.captions import parse_webvtt
from tests.captions.test_captions_browser import captions_key
from tests.streaming.test_streaming import eventually
from tests.support.app import ADMIN, make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context

pytestmark = [pytest.mark.media, pytest.mark.browser,
              pytest.mark.filterwarnings("ignore::ResourceWarning")]
SLUG = "planstrategi-4-0"
GUARD_MS = 30_000  # a wait longer than this is a hang, not a slow run
# How far a cue may start from the moment its first keystroke was typed, on the
# recording's clock: the keystroke's trip to the server and a frame's trip through the
# publisher (some 0.05 s on an idle machine, up to 0.25 s while the suite runs on every
# core), well under this; a clock off by a keyframe interval (1 s) is not.
TOLERANCE = 0.5
# How far the two lines' distance on the recording may differ from their distance typed.
SPACING = 0.4
LINES = ("Velkommen til seminaret om planstrategi", "Kommunen legger fram en ny arealplann")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages, and a short tick so viewers see captions at once."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def page_of(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(url)
    return context, page


def frame_on_air(video: SyntheticVideo, moment: float) -> int:
    """The number of the newest picture the camera had sent at `moment` (monotonic)."""
    return max(n for n, at in video.sent_at.items() if at <= moment)


def frame_times(mp4: Path) -> dict[int, float]:
    """When each painted frame number plays in the recording (seconds from its start)."""
    found: dict[int, float] = {}
    with av.open(str(mp4)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is not None and frame.time_base is not None:
                found.setdefault(read_frame_number(frame), float(frame.pts * frame.time_base))
    return found


async def type_line(captioner: Page, viewer: Page, text: str, video: SyntheticVideo) -> int:
    """Type `text` as the captioner and send it; the viewer reads it over the player and in
    the transcript. Returns the frame on air at the first keystroke."""
    box = captioner.locator("#captioner-text")
    await box.focus()
    on_air = frame_on_air(video, time.monotonic())
    await box.press_sequentially(text)
    await expect(viewer.locator(".player [data-captions-overlay]")).to_contain_text(text)
    await box.press("Enter")
    await expect(viewer.locator("[data-captions-transcript] ol")).to_contain_text(text)
    return on_air


async def watch_interpreter(viewer: Page) -> None:
    """The viewer turns the interpreter on and its video plays picture-in-picture."""
    await viewer.wait_for_selector("[data-interpreter]:not([hidden])", timeout=GUARD_MS)
    await viewer.get_by_role("switch", name="Show sign-language interpreter").check()
    await viewer.wait_for_function(
        "() => document.querySelector('#interpreter-pip video')"
        ".getVideoPlaybackQuality().totalVideoFrames > 5", timeout=GUARD_MS)


async def finished_recording(client: httpx.AsyncClient) -> dict[str, Any]:
    """The stream's recording once it is packaged with its captions and interpreter."""
    found: list[dict[str, Any]] = []

    async def ready() -> bool:
        listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
        found[:] = [r for r in listing.json()["recordings"]
                    if r["state"] == "ready" and r["interpreter"] and r["captions"]]
        return bool(found)

    await eventually(ready, "the recording with captions and interpreter", seconds=120)
    return found[0]


async def log_in(browser: Browser, live_url: str) -> Page:
    """A fresh browser logged in as the demo organiser."""
    _, page = await page_of(browser, f"{live_url}/admin/login")
    email, password = DEMO_ORGANISER
    await page.locator("input[type=email]").fill(email)
    await page.locator("input[type=password]").fill(password)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_url(lambda url: "/admin/login" not in url)
    return page


async def correct_and_publish(organiser: Page, live_url: str, rid: int) -> None:
    """The organiser fixes the typo in the second cue, saves, and publishes the recording."""
    await organiser.goto(f"{live_url}/admin/recordings/{rid}/captions/nb/edit")
    cue = organiser.locator("[data-cue-text='1']")
    await expect(cue).to_have_value(LINES[1])
    await assert_accessible(organiser)
    await cue.fill(LINES[1].replace("arealplann", "arealplan"))
    await organiser.locator("[data-editor-form] button[type=submit]").click()
    await organiser.wait_for_url(f"{live_url}/admin/recordings/{rid}")
    await assert_accessible(organiser)
    await organiser.get_by_role("button", name="Publish", exact=True).click()
    await expect(organiser.locator("#recording-state")).to_have_attribute(
        "data-state", "published")


async def test_captions_and_interpreter_from_stream_to_published_recording(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """A captioner's lines typed during a WHIP stream reach the viewer over the player and
    in the transcript, the interpreter plays picture-in-picture; the recording carries the
    captions where they were typed and the interpreter's video; corrected in the editor and
    published, its transcript search finds the corrected word and jumps to it."""
    video = SyntheticVideo()
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
        main = await publish(client, info["whip_url"].replace("http://testserver", live_url),
                             info["stream_key"], video, SyntheticAudio())
        interpreter = await publish(client, f"{live_url}/whip/{SLUG}/interpreter",
                                    info["interpreter_key"], SyntheticVideo(), SyntheticAudio())
        try:
            viewing, viewer = await page_of(browser, f"{live_url}/e/{SLUG}/live")
            typing, captioner = await page_of(
                browser, f"{live_url}/e/{SLUG}/captions?key={await captions_key(settings)}")
            await expect(captioner.locator("[data-connection]")).to_be_hidden()
            await captioner.locator("#captioner-name").fill("Kari")
            await eventually(lambda: _has_sent(video), "the camera's first pictures")
            typed = [await type_line(captioner, viewer, LINES[0], video)]
            await watch_interpreter(viewer)
            typed.append(await type_line(captioner, viewer, LINES[1], video))
            await assert_accessible(viewer)
            await assert_accessible(captioner)
            await typing.close()
        finally:
            await interpreter.delete(client, info["interpreter_key"])
            await interpreter.close()
            await main.delete(client, info["stream_key"])
            await main.close()
        recording = await finished_recording(client)
        await viewing.close()
        kept = await client.get(recording["interpreter"]["url"], headers=ADMIN)
        assert kept.status_code == 200 and kept.headers["content-type"] == "video/mp4"

    rid = recording["id"]
    folder = Path(settings.recordings_dir) / "archive" / str(rid)
    cues = parse_webvtt((folder / "captions" / "nb.vtt").read_text(encoding="utf-8")).cues
    assert [c.text for c in cues] == list(LINES)
    plays = await asyncio.to_thread(frame_times, folder / MEDIA_DIR / MP4_NAME)
    for cue, frame in zip(cues, typed, strict=True):
        assert abs(cue.start - plays[frame]) < TOLERANCE, (cue, frame, plays[frame])
    # and the lines lie as far apart on the recording as they were typed
    apart = (cues[1].start - cues[0].start) - (plays[typed[1]] - plays[typed[0]])
    assert abs(apart) < SPACING, (cues, typed)

    organiser = await log_in(browser, live_url)
    await correct_and_publish(organiser, live_url, rid)
    _, public = await page_of(browser, f"{live_url}/recordings/{rid}?lang=en")  # anyone
    await public.wait_for_function("() => document.getElementById('player').readyState >= 1")
    await public.fill("#transcript-q", "arealplan")
    hit = public.locator("[data-transcript-line]:not([hidden])")
    await expect(hit).to_have_count(1)
    await expect(hit).to_contain_text("en ny arealplan")
    await hit.locator("a.seek").click()
    await public.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {cues[1].start}) < 0.5")
    await assert_accessible(public)


async def _has_sent(video: SyntheticVideo) -> bool:
    return video.sent > 0
