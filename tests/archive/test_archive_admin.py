"""Organiser pages for recordings: cookie login with CSRF, progress, chapters form, axe."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.demo import DEMO_ORGANISER
from live.models import Event, Recording, RecordingState
from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.archive import SLUG, add_event, video, wait_processed
from tests.support.axe import assert_accessible


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Organiser pages are not about the database: SQLite only."""
    return sqlite_url


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(client: httpx.AsyncClient) -> str:
    """Log in as the demo organiser; returns the new session's CSRF token."""
    token = csrf_of((await client.get("/admin/login")).text)
    email, password = DEMO_ORGANISER
    response = await client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303
    # Logging in starts a new session, and with it a new CSRF token.
    return csrf_of((await client.get(f"/admin/events/{SLUG}/recordings")).text)


async def add_processing(settings: Settings, progress: float) -> int:
    """A recording row that is still being packaged (as seen half-way)."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event_id = await session.scalar(select(Event.id).where(Event.slug == SLUG))
        assert event_id is not None
        recording = Recording(event_id=event_id, state=RecordingState.PROCESSING, progress=progress)
        session.add(recording)
        await session.flush()
        rid = recording.id
    await engine.dispose()
    return rid


async def test_progress_is_shown_while_processing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """An organiser sees the state and a progress bar (refreshing) while a recording is packaged."""
    await add_event(settings)
    rid = await add_processing(settings, 0.4)
    token = await log_in(client)
    page = (await client.get(f"/admin/recordings/{rid}", params={"lang": "en"})).text
    assert '<progress max="1" value="0.4"' in page and "40 %" in page
    assert 'http-equiv="refresh"' in page
    listing = (await client.get(f"/admin/events/{SLUG}/recordings", params={"lang": "en"})).text
    assert f'href="/admin/recordings/{rid}"' in listing and "Processing" in listing
    refused = await client.post(f"/api/recordings/{rid}/publish", headers={"X-CSRF-Token": token})
    assert refused.status_code == 409


async def test_forms_need_login_and_csrf(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """Without login the pages refuse; with a cookie session each write needs the CSRF token."""
    await add_event(settings)
    assert (await client.get(f"/admin/events/{SLUG}/recordings")).status_code == 401
    token = await log_in(client)
    source = video(tmp_path, 4, audio_codec="aac")
    files = {"file": ("opptak.ts", source.read_bytes(), "video/mp2t")}
    forged = await client.post(f"/admin/events/{SLUG}/recordings", files=files)
    assert forged.status_code == 403
    sent = await client.post(
        f"/admin/events/{SLUG}/recordings", data={"csrf_token": token}, files=files
    )
    assert sent.status_code == 303
    rid = int(sent.headers["location"].rsplit("/", 1)[1])
    assert (await wait_processed(client, rid, ADMIN))["state"] == "ready"
    form = {"csrf_token": token, "chapters": "00:00:00 Start\n00:00:02 Midt i"}
    saved = await client.post(f"/admin/recordings/{rid}/chapters", data=form)
    assert saved.status_code == 303
    body = await wait_processed(client, rid, ADMIN)
    assert [c["title"] for c in body["chapters"]] == ["Start", "Midt i"]
    bad = await client.post(
        f"/admin/recordings/{rid}/chapters",
        data={"csrf_token": token, "chapters": "soon Start"},
        params={"lang": "en"},
    )
    assert bad.status_code == 422 and "Line 1" in bad.text
    published = await client.post(f"/admin/recordings/{rid}/publish", data={"csrf_token": token})
    assert published.status_code == 303
    assert (await client.get(f"/api/recordings/{rid}")).json()["state"] == "published"
    # The JSON API with a cookie session wants the token in X-CSRF-Token.
    assert (await client.post(f"/api/recordings/{rid}/unpublish")).status_code == 403
    back = await client.post(f"/api/recordings/{rid}/unpublish", headers={"X-CSRF-Token": token})
    assert back.status_code == 200 and back.json()["state"] == "ready"


async def test_organiser_page_is_accessible(
    page: Page, live_url: str, settings: Settings, tmp_path: Path
) -> None:
    """axe-core finds no serious or critical problems on the recording management pages."""
    await add_event(settings)
    source = video(tmp_path, 4, audio_codec="aac")
    async with httpx.AsyncClient(base_url=live_url, headers=ADMIN) as client:
        with source.open("rb") as f:
            sent = await client.post(
                f"/admin/events/{SLUG}/recordings", files={"file": ("a.ts", f, "video/mp2t")}
            )
        rid = int(sent.headers["location"].rsplit("/", 1)[1])
        await wait_processed(client, rid, ADMIN)
    token = ADMIN["Authorization"].split()[1]
    await page.goto(f"{live_url}/admin/recordings/{rid}?token={token}")
    await assert_accessible(page)
    await page.goto(f"{live_url}/admin/events/{SLUG}/recordings?token={token}")
    await assert_accessible(page)


async def test_unpublish_and_delete_ask_first(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Without `confirm` unpublishing and deleting lead to the confirm page and change
    nothing; the confirm page's form does it."""
    await add_event(settings)
    rid = await add_processing(settings, 1.0)
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        recording = await session.get(Recording, rid)
        assert recording is not None
        recording.state = RecordingState.PUBLISHED
    token = await log_in(client)
    page = (await client.get(f"/admin/recordings/{rid}", params={"lang": "en"})).text
    assert 'data-color="danger"' in page and "<dialog" in page
    asked = await client.post(f"/admin/recordings/{rid}/unpublish", data={"csrf_token": token})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/recording.unpublish/admin/recordings/{rid}/unpublish"
    confirm_page = await client.get(asked.headers["location"], params={"lang": "en"})
    assert "Unpublish this recording?" in confirm_page.text
    assert f'action="/admin/recordings/{rid}/unpublish"' in confirm_page.text
    assert 'name="confirm" value="yes"' in confirm_page.text
    assert (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()["state"] == "published"
    asked = await client.post(f"/admin/recordings/{rid}/delete", data={"csrf_token": token})
    assert asked.headers["location"] == f"/confirm/recording.delete/admin/recordings/{rid}/delete"
    assert (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).status_code == 200
    deleted = await client.post(f"/admin/recordings/{rid}/delete",
                                data={"csrf_token": token, "confirm": "yes"})
    assert deleted.status_code == 303
    assert (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).status_code == 404
    await engine.dispose()
