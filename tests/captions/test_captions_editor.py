"""The caption editor: a recording's track is corrected and saved, broken cues change nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from live.db import create_engine, sessionmaker
from live.models import Recording
from live.settings import Settings
from tests.support.app import ADMIN, make_settings

GOOD = "WEBVTT\r\n\r\nNOTE fjernes\r\n\r\n00:00:01.000 --> 00:00:03.000\r\nRettet <i>linje</i>\r\n"
BROKEN = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nfin\n\n00:00:05.000 -> 00:00:04.000\nødelagt\n"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The editor's pages on SQLite (the archive's own tests cover both databases)."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, default_locale="en")


async def demo_recording(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        found = await session.scalar(select(Recording.id))
    await engine.dispose()
    assert found is not None
    return found


def track(settings: Settings, rid: int) -> Path:
    return Path(settings.recordings_dir) / "archive" / str(rid) / "captions" / "nb.vtt"


async def test_editor_shows_the_track_and_saves_a_valid_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The editor holds the stored WebVTT; a valid text replaces it, written clean."""
    rid = await demo_recording(settings)
    page = await client.get(f"/admin/recordings/{rid}/captions/nb/edit", headers=ADMIN)
    assert page.status_code == 200 and "WEBVTT" in page.text
    saved = await client.post(f"/admin/recordings/{rid}/captions/nb/edit", headers=ADMIN,
                              data={"vtt": GOOD})
    assert saved.status_code == 303
    assert track(settings, rid).read_text() == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nRettet <i>linje</i>\n")


async def test_broken_cue_is_refused_with_its_line_and_nothing_replaced(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """A cue with a broken timing is a 422 naming line 6; the stored track is unchanged."""
    rid = await demo_recording(settings)
    before = track(settings, rid).read_text()
    refused = await client.post(f"/admin/recordings/{rid}/captions/nb/edit", headers=ADMIN,
                                data={"vtt": BROKEN})
    assert refused.status_code == 422
    assert "Line 6:" in refused.text and "ødelagt" in refused.text
    assert track(settings, rid).read_text() == before


async def test_editor_needs_an_organiser_and_an_existing_track(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Without a login the editor is 401; a language the recording lacks is 404."""
    rid = await demo_recording(settings)
    anonymous = await client.get(f"/admin/recordings/{rid}/captions/nb/edit",
                                 headers={"Accept": "application/json"})
    missing = await client.get(f"/admin/recordings/{rid}/captions/se/edit", headers=ADMIN)
    assert anonymous.status_code in (401, 404) and missing.status_code == 404
