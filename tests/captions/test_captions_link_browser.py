"""Headless Chromium: the organiser makes a new captioner link from the stream page (the
dialog asks first), and the captioner's open page says its link was replaced and stops
taking text; both pages pass axe."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from live.settings import Settings
from tests.captions.test_captions_browser import captions_key
from tests.captions.test_captions_e2e_browser import log_in
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
    """English pages."""
    return make_settings(database_url, tmp_path, default_locale="en", tick_seconds=0.05)


async def test_new_captioner_link_ends_the_open_captioner_page(
    browser: Browser, live_url: str, settings: Settings
) -> None:
    """"Make a new captioner link" asks in a dialog; "No" changes nothing; "Yes" makes a new
    link, and the captioner's open page says the old one was replaced and hides its form."""
    old = await captions_key(settings)
    context = await new_context(browser)
    captioner = await context.new_page()
    await captioner.goto(f"{live_url}/e/{SLUG}/captions?key={old}")
    await expect(captioner.locator("[data-connection]")).to_be_hidden()

    organiser = await log_in(browser, live_url)
    await organiser.goto(f"{live_url}/admin/events/{SLUG}/stream")
    await assert_accessible(organiser)
    section = organiser.locator("[aria-labelledby=captions-link-h]")
    link = organiser.locator("#captions-link")
    await section.get_by_role("button", name="Make a new captioner link").click()
    dialog = section.get_by_role("dialog", name="Make a new captioner link?")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="No, go back").click()
    await expect(dialog).to_be_hidden()
    assert old in str(await link.input_value())
    await section.get_by_role("button", name="Make a new captioner link").click()
    await dialog.get_by_role("button", name="Yes, make a new link").click()
    await expect(organiser.get_by_text("A new captioner link was made.")).to_be_visible()
    new = await captions_key(settings)
    assert new != old
    await expect(link).to_have_value(f"http://testserver/e/{SLUG}/captions?key={new}")
    await assert_accessible(organiser)

    await expect(captioner.get_by_role("alert")).to_have_text(
        "The organiser has replaced this captioner link with a new one. Ask them for the new link.")
    await expect(captioner.locator("#captioner-text")).to_be_hidden()
    await assert_accessible(captioner)
    await captioner.reload()
    await expect(captioner.get_by_role("heading", level=1)).to_have_text(
        "The captioner link does not work")
    await expect(captioner.get_by_text("The organiser has replaced this captioner link")
                 ).to_be_visible()
    await context.close()
