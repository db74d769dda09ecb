"""Registration in headless Chromium: submit, confirmation, change, cancel, with axe on each page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import update
from starlette.applications import Starlette

from live.db import create_engine, sessionmaker
from live.models import Occurrence
from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.axe import assert_accessible
from tests.support.fagdag import COUNTY, SLUG, add_event


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only, to keep the suite fast."""
    return sqlite_url


@pytest.fixture
async def site(demo_app: Starlette, settings: Settings, live_url: str) -> str:
    """The live server's address, with the test event added (the server opens the file lazily)."""
    await add_event(settings)
    return live_url


async def english(page: Page, url: str) -> None:
    await page.context.add_cookies([{"name": "salen_lang", "value": "en", "url": url}])


async def fill_form(page: Page, name: str, email: str, city: str) -> None:
    """Fill the registration form the way a person would, by the visible labels."""
    await page.get_by_role("radio", name=city).check()
    await page.get_by_role("radio", name="In the room").check()
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Organisation").fill(COUNTY.lower())
    await page.get_by_label("Job title").fill("Rådgiver")
    await page.get_by_role("radio", name="Tema A").check()
    await page.get_by_label("Dietary needs").fill("Vegetar")


async def test_register_change_and_cancel(page: Page, site: str) -> None:
    """From the event page: register, see the confirmation, change date, cancel; axe finds
    no serious or critical problems on the form, the confirmation or the personal page."""
    await english(page, site)
    await page.goto(f"{site}/e/{SLUG}")
    await page.get_by_role("link", name="Register").click()
    await page.wait_for_url(f"{site}/e/{SLUG}/register")
    await assert_accessible(page)
    online = page.get_by_role("radio", name="Online")
    await page.get_by_role("radio", name="Gjøvik").check()
    assert await online.is_disabled()  # register.js: Gjøvik is in the room only
    await page.get_by_role("radio", name="Hamar").check()
    assert await online.is_enabled()
    await fill_form(page, "Kari Nordmann", "kari@example.no", "Hamar")
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_selector("#flash")
    assert "/r/" in page.url
    assert "Confirmed: you have a place." in await page.locator("#status").inner_text()
    await assert_accessible(page)
    personal = page.url

    await page.get_by_role("radio", name="Gjøvik").check()
    await page.get_by_role("button", name="Save changes").click()
    await page.wait_for_selector("#flash")
    assert "Your registration was changed." in await page.locator("#flash").inner_text()
    details = await page.locator("dl.details").inner_text()
    assert "Gjøvik" in details and "Vegetar" in details
    await assert_accessible(page)

    await page.get_by_role("button", name="Cancel my registration").click()
    dialog = page.get_by_role("dialog", name="Cancel your registration?")
    await dialog.get_by_role("button", name="Yes, cancel my registration").click()
    await page.wait_for_selector("h1:has-text('Registration cancelled')")
    await assert_accessible(page)
    response = await page.goto(personal)
    assert response is not None and response.status == 404


async def test_online_stays_chosen_when_its_date_stops_offering_it(
    page: Page, site: str, settings: Settings
) -> None:
    """Registered online at Hamar, which then stops offering online: the personal page
    keeps "Online" chosen, so saving a new diet does not move the person into the room."""
    await english(page, site)
    await page.goto(f"{site}/e/{SLUG}/register")
    await fill_form(page, "Åse Ødegård", "ase@example.no", "Hamar")
    await page.get_by_role("radio", name="Online").check()
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_selector("#flash")
    engine = create_engine(settings.database_url)
    try:
        async with sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Occurrence).where(Occurrence.city == "Hamar")
                                  .values(online=False))
    finally:
        await engine.dispose()
    await page.reload()
    online = page.get_by_role("radio", name="Online")
    assert await online.is_checked() and await online.is_enabled()
    await page.get_by_label("Dietary needs").fill("Glutenfritt")
    await page.get_by_role("button", name="Save changes").click()
    await page.wait_for_selector("#flash")
    details = await page.locator("dl.details").inner_text()
    assert "Online" in details and "Glutenfritt" in details
    await page.get_by_role("radio", name="Gjøvik").check()  # a date of its own: the rule
    assert await online.is_disabled()
    assert await page.get_by_role("radio", name="In the room").is_checked()


async def test_waitlist_and_refusal_pages(page: Page, site: str) -> None:
    """The second person for a full room is told their place in line; a refused form shows
    the reason and field messages, and passes axe."""
    await english(page, site)
    for name, email in (("Ola", "ola@example.no"), ("Per", "per@example.no")):
        await page.goto(f"{site}/e/{SLUG}/register")
        await fill_form(page, name, email, "Hamar")
        await page.get_by_role("button", name="Register").click()
        await page.wait_for_selector("#status")
    assert "You are number 1 on the waiting list." in await page.locator("#status").inner_text()
    await assert_accessible(page)

    await page.goto(f"{site}/e/{SLUG}/register")
    await fill_form(page, "Ola igjen", "ola@example.no", "Gjøvik")
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_selector(".refusal")
    assert "already registered" in await page.locator(".refusal").inner_text()
    assert await page.locator("#f-email").get_attribute("aria-invalid") == "true"
    await assert_accessible(page)


async def test_organiser_pages_pass_axe(page: Page, site: str) -> None:
    """The participant list, one participant and the outbox pass axe for an organiser."""
    await english(page, site)
    await page.goto(f"{site}/e/{SLUG}/register")
    await fill_form(page, "Kari", "kari@example.no", "Hamar")
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_selector("#status")
    await page.set_extra_http_headers(ADMIN)
    await page.goto(f"{site}/admin/events/{SLUG}/registrations")
    assert "1 of 1 confirmed" in await page.locator("table.slots").inner_text()
    await assert_accessible(page)
    await page.get_by_role("link", name="Kari").click()
    await page.wait_for_selector("#move-h")
    await assert_accessible(page)
    await page.goto(f"{site}/admin/outbox")
    assert "Registration confirmed: Fagdag" in await page.locator("main").inner_text()
    await assert_accessible(page)


async def test_an_address_with_letters_beyond_ascii_is_accepted_in_the_form(
        page: Page, site: str) -> None:
    """`øla@ærø.no` goes through the browser's form (no `type=email` refusal before the @) and
    the personal page shows the address as typed."""
    await english(page, site)
    await page.goto(f"{site}/e/{SLUG}/register")
    await fill_form(page, "Øla Ærø", "øla@ærø.no", "Hamar")
    await page.get_by_role("button", name="Register").click()
    await page.wait_for_selector("#flash")
    assert "/r/" in page.url
    assert "øla@ærø.no" in await page.content()
