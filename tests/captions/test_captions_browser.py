"""Live captions in headless Chromium: a captioner types, a viewer reads over the player."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.demo import DEMO_ORGANISER
from live.models import Event, Recording
from live.settings import Settings
from tests.support.app import make_settings
from tests.support.axe import assert_accessible
from tests.support.browser import new_context

pytestmark = pytest.mark.browser
SLUG = "planstrategi-4-0"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Chromium tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """English pages, and a short tick so viewers see changes quickly."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def captions_key(settings: Settings) -> str:
    return (await keys(settings))[0]


async def keys(settings: Settings) -> tuple[str, str]:
    """The event's captioner key and display key."""
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            event = await session.scalar(select(Event).where(Event.slug == SLUG))
            assert event is not None
            return event.captions_token, event.display_token
    finally:
        await engine.dispose()


async def recording_id(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session:
            found = await session.scalar(select(Recording.id))
            assert found is not None
            return found
    finally:
        await engine.dispose()


async def test_captioner_types_and_viewer_sees_it_over_the_player_and_in_the_transcript(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """Typed text shows over the viewer's player as typed, and in the transcript on Enter."""
    viewer_context = await new_context(browser)
    viewer = await viewer_context.new_page()
    sockets: list[str] = []
    viewer.on("websocket", lambda ws: sockets.append(ws.url))
    await viewer.goto(f"{live_url}/e/{SLUG}/live")
    await viewer.wait_for_function("() => window.salenQa && window.salenQa.state.settings")

    captioner_context = await new_context(browser)
    captioner = await captioner_context.new_page()
    await captioner.goto(f"{live_url}/e/{SLUG}/captions?key={await captions_key(settings)}")
    assert captioner.url == f"{live_url}/e/{SLUG}/captions"  # the key left the address
    await expect(captioner.locator("[data-connection]")).to_be_hidden()
    await assert_accessible(captioner)
    await captioner.set_viewport_size({"width": 320, "height": 640})
    assert await captioner.evaluate("document.documentElement.scrollWidth") <= 320

    text = captioner.locator("#captioner-text")
    await captioner.locator("#captioner-name").fill("Kari")
    await text.press_sequentially("Velkommen <b>til</b>")
    overlay = viewer.locator(".player [data-captions-overlay]")
    await expect(overlay).to_contain_text("Velkommen <b>til</b>")  # as text, never as markup
    await expect(overlay).to_be_visible()
    await text.press("Enter")
    transcript = viewer.locator("[data-captions-transcript] ol")
    await expect(transcript).to_contain_text("Velkommen <b>til</b>")
    await expect(captioner.locator("[data-lines]")).to_contain_text("Velkommen <b>til</b>")
    assert await overlay.locator("b").count() == 0
    assert len(sockets) == 1, f"captions, polls and Q&A share the page's one socket: {sockets}"
    assert "p=" in sockets[0]  # opened with the viewer's participant, whoever came first

    # The CC button hides the overlay, and the choice outlives a reload.
    toggle = viewer.locator("[data-captions-toggle]")
    await toggle.focus()
    await viewer.keyboard.press("Enter")
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    await expect(overlay).to_be_hidden()
    await viewer.reload()
    await expect(viewer.locator("[data-captions-toggle]")).to_have_attribute("aria-pressed", "false")
    # A reconnecting viewer gets the recent lines.
    await expect(viewer.locator("[data-captions-transcript] ol")).to_contain_text("Velkommen")
    await assert_accessible(viewer)
    await viewer_context.close()
    await captioner_context.close()


async def test_caption_editor_splits_merges_shifts_and_saves(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """In the editor an organiser splits, merges and shifts cues by keyboard, then saves."""
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(f"{live_url}/admin/login")
    email, password = DEMO_ORGANISER
    await page.locator("input[type=email]").fill(email)
    await page.locator("input[type=password]").fill(password)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_url(lambda url: "/admin/login" not in url)
    rid = await recording_id(settings)
    await page.goto(f"{live_url}/admin/recordings/{rid}/captions/nb/edit")
    await expect(page.locator("[data-cues] li").first).to_be_visible()
    await assert_accessible(page)
    await page.set_viewport_size({"width": 320, "height": 640})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320

    await page.locator("[data-source] summary").click()
    await page.locator("#editor-vtt").fill(
        "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\nFørste halvdel andre halvdel\n\n"
        "00:00:06.000 --> 00:00:08.000\nSiste\n")
    await page.locator("#editor-vtt").dispatch_event("change")
    first = page.locator("[data-cue-text='0']")
    await expect(first).to_have_value("Første halvdel andre halvdel")
    await first.focus()
    await first.evaluate("(el) => el.setSelectionRange(15, 15)")
    await page.keyboard.press("Alt+s")
    await expect(page.locator("[data-cues] li")).to_have_count(3)
    await expect(page.locator("[data-cue-text='1']")).to_have_value("andre halvdel")
    await expect(page.locator("[data-cue-text='1']")).to_be_focused()
    await page.keyboard.press("Alt+m")  # the second half merges with "Siste"
    await expect(page.locator("[data-cues] li")).to_have_count(2)
    await expect(page.locator("[data-cue-text='1']")).to_have_value("andre halvdel Siste")
    await page.locator("[data-shift]").fill("1.5")
    await page.locator("[data-shift-all]").click()
    await page.locator("[data-editor-form] button[type=submit]").click()
    await page.wait_for_url(f"{live_url}/admin/recordings/{rid}")
    saved = (Path(settings.recordings_dir) / "archive" / str(rid) / "captions" / "nb.vtt")
    assert saved.read_text() == (
        "WEBVTT\n\n00:00:02.500 --> 00:00:04.643\nFørste halvdel\n\n"
        "00:00:04.643 --> 00:00:09.500\nandre halvdel Siste\n")
    await context.close()


async def test_display_with_captions_shows_them_on_the_page_s_one_socket(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """The big screen with ?captions=1 shows the line being typed, over the one socket its
    Q&A and polls use."""
    captions, display_key = await keys(settings)
    display_context = await new_context(browser)
    display = await display_context.new_page()
    sockets: list[str] = []
    display.on("websocket", lambda ws: sockets.append(ws.url))
    await display.goto(f"{live_url}/e/{SLUG}/display?key={display_key}&captions=1")
    await display.wait_for_function("() => window.salenCaptions !== undefined")
    captioner_context = await new_context(browser)
    captioner = await captioner_context.new_page()
    await captioner.goto(f"{live_url}/e/{SLUG}/captions?key={captions}")
    await expect(captioner.locator("[data-connection]")).to_be_hidden()
    await captioner.locator("#captioner-text").press_sequentially("God morgen")
    await expect(display.locator("[data-captions-overlay]")).to_contain_text("God morgen")
    assert len(sockets) == 1, f"captions, polls and Q&A share the page's one socket: {sockets}"
    assert f"key={display_key}" in sockets[0]
    await display_context.close()
    await captioner_context.close()
