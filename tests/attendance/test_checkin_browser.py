"""The check-in page in Chromium on a 390 px phone, its camera fed a QR code (a y4m file)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import segno
from playwright.async_api import Page, Playwright
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from live.attendance.domain import checkin_code
from live.db import create_engine, sessionmaker
from live.models import CheckIn
from live.models.registration import Attendance, Status
from tests.attendance.support import People, people, person
from tests.support.app import ADMIN_TOKEN
from tests.support.axe import assert_accessible
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, new_context
from tests.support.liveserver import serve_app

DB = async_sessionmaker[AsyncSession]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DB]:
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    await engine.dispose()


def camera_file(code: str, folder: Path) -> Path:
    """A y4m video of the QR code of `code` on a white 640x480 frame (segno PNG, ffmpeg)."""
    png, y4m = folder / "qr.png", folder / "qr.y4m"
    segno.make(code, error="m", micro=False).save(str(png), scale=8, border=4)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
         "scale=360:360:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
         "-frames:v", "10", "-r", "10", str(y4m)],
        check=True,
    )
    return y4m


async def phone(playwright: Playwright, video: Path, url: str) -> Page:
    """A 390 px page in Chromium whose fake camera shows `video`, as the event's organiser."""
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"])
    context = await new_context(
        browser, viewport=PHONE, extra_http_headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    await context.add_cookies([{"name": "salen_lang", "value": "en", "url": url}])
    return await context.new_page()


async def no_sideways_scrolling(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


async def test_the_camera_checks_in_a_qr_code_then_shows_it_as_done(
    playwright: Playwright, app: Starlette, db: DB, tmp_path: Path
) -> None:
    """Scanned at 390 px: "checked in", then the same code held up again: "already", with the time."""
    seeded: People = await people(db)
    video = camera_file(checkin_code(seeded.room.id, seeded.room.token), tmp_path)
    async with serve_app(app) as url:
        page = await phone(playwright, video, url)
        await page.goto(f"{url}/admin/events/konf/checkin")
        await no_sideways_scrolling(page)
        await assert_accessible(page)
        await page.get_by_role("button", name="Start the camera").click()
        done = page.locator('#checkin-result [data-verdict="checked_in"]')
        await done.wait_for()
        assert await done.inner_text() == "Checked in: Kari."
        assert await page.locator("[data-checked-in]").inner_text() == "1"
        already = page.locator('#checkin-result [data-verdict="already"]')
        await already.wait_for()
        assert "Already checked in at " in await already.inner_text()
        await no_sideways_scrolling(page)
        await page.context.browser.close()  # type: ignore[union-attr]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 1


async def test_the_camera_refuses_a_forged_code_with_the_reason(
    playwright: Playwright, app: Starlette, db: DB, tmp_path: Path
) -> None:
    """A code whose digest does not match is refused on screen and checks nobody in."""
    seeded: People = await people(db)
    forged = checkin_code(seeded.room.id, seeded.room.token)[:-3] + "AAA"
    video = camera_file(forged, tmp_path)
    async with serve_app(app) as url:
        page = await phone(playwright, video, url)
        await page.goto(f"{url}/admin/events/konf/checkin")
        await page.get_by_role("button", name="Start the camera").click()
        refused = page.locator('#checkin-result [data-verdict="forged"]')
        await refused.wait_for()
        assert "forged" in await refused.inner_text()
        await page.context.browser.close()  # type: ignore[union-attr]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0


async def test_search_by_name_checks_in_long_and_right_to_left_names_at_390_px(
    playwright: Playwright, app: Starlette, db: DB, tmp_path: Path
) -> None:
    """Found by part of the name in any case: "Check in", then shown as checked in; no sideways scroll."""
    seeded: People = await people(db)
    long_name = "Åshild Kommunesammenslåingsutredningssekretær Ødegård"
    rtl_name = "مريم الحسيني"
    async with db() as session, session.begin():
        for name in (long_name, rtl_name):
            row = person(seeded.seeded, name, Attendance.IN_PERSON, Status.CONFIRMED)
            row.email = f"{len(name)}@example.no"
            session.add(row)
    video = camera_file(checkin_code(seeded.room.id, seeded.room.token), tmp_path)
    async with serve_app(app) as url:
        page = await phone(playwright, video, url)
        await page.goto(f"{url}/admin/events/konf/checkin")
        for typed, name in (("ØDEGÅRD", long_name), ("الحسيني", rtl_name)):
            await page.get_by_role("searchbox", name="Name").fill(typed)
            await page.get_by_role("button", name="Search").click()
            await page.get_by_role("button", name=f"Check in {name}").click()
            done = page.locator('#checkin-result [data-verdict="checked_in"]', has_text=name)
            await done.wait_for()
            assert await done.inner_text() == f"Checked in: {name}."
            await no_sideways_scrolling(page)
        await page.get_by_role("searchbox", name="Name").fill("ødegård")
        await page.get_by_role("button", name="Search").click()
        assert "Checked in at" in await page.locator(".checkin-people").inner_text()
        await no_sideways_scrolling(page)
        await page.context.browser.close()  # type: ignore[union-attr]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 2
