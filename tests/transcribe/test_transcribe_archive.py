"""Transcripts of archived recordings: the organiser's button runs the worker, the draft is a
caption track, the recording page searches it and /archive finds it; the CLI's refusals."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from live.archive.service import Archive
from live.db import create_engine, sessionmaker
from live.models import Recording
from live.models.recordings import RecordingCaption
from live.settings import Settings
from tests.archive.test_archive_admin import log_in
from tests.support.app import ADMIN, make_settings
from tests.support.archive import SLUG, add_event, video
from tests.transcribe.speech import KNOWN, speech_video

DEMO_SLUG = "fylkestinget-internasjonal-plan"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test engine: PocketSphinx's English model."""
    return make_settings(database_url, tmp_path, transcribe_engine="pocketsphinx",
                         transcribe_language="en")


async def import_file(settings: Settings, path: Path) -> int:
    engine = create_engine(settings.database_url)
    try:
        return await Archive(settings, sessionmaker(engine)).import_file(SLUG, path, wait=True)
    finally:
        await engine.dispose()


async def test_button_transcribes_and_the_transcript_is_searchable(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """The admin page's button transcribes in a worker (progress, then done); the draft is a
    caption track; the published page lists matching lines as links to their moments, and
    the archive search finds the recording by a spoken word."""
    await add_event(settings)
    rid = await import_file(settings, speech_video(tmp_path))
    token = await log_in(client)
    started = await client.post(f"/admin/recordings/{rid}/transcribe",
                                data={"csrf_token": token})
    assert started.status_code == 303
    while True:
        page = (await client.get(f"/admin/recordings/{rid}", params={"lang": "en"})).text
        if "transcript is ready" in page or "failed" in page:
            break
        assert "Transcribing" in page and 'http-equiv="refresh"' in page
        await asyncio.sleep(0.2)
    assert "The draft transcript is ready" in page
    body = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()
    assert [c["lang"] for c in body["captions"]] == ["en-auto"]
    vtt = (await client.get(body["captions"][0]["url"], headers=ADMIN)).text
    spoken = set(vtt.split()) & KNOWN
    assert len(spoken) >= 2, vtt
    word = min(spoken)
    assert (await client.post(f"/api/recordings/{rid}/publish", headers=ADMIN)).status_code == 200
    found = (await client.get(f"/recordings/{rid}", params={"tq": word, "lang": "en"})).text
    assert 'id="transcript-h"' in found and f"“{word}”." in found
    assert 'class="seek ds-link" href="?t=' in found
    missing = (await client.get(f"/recordings/{rid}", params={"tq": "zzzz", "lang": "en"})).text
    assert "0 lines hold" in missing
    archive = (await client.get("/archive", params={"q": word})).text
    assert f'href="/recordings/{rid}"' in archive


async def test_transcript_text_is_escaped(client: httpx.AsyncClient, settings: Settings) -> None:
    """Markup in caption text is shown as text on the recording page, never as markup."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        recording = (await session.scalars(select(Recording))).first()
        assert recording is not None
        recording.captions.append(RecordingCaption(lang="en", label="English"))
        rid = recording.id
    await engine.dispose()
    folder = Path(settings.recordings_dir) / "archive" / str(rid) / "captions"
    (folder / "en.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
        "<i>hei</i>\n", encoding="utf-8")
    page = (await client.get(f"/recordings/{rid}", params={"tq": "alert"})).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; hei" in page
    assert "<script>alert" not in page


async def test_second_start_while_running_is_refused(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """A recording being transcribed cannot be started again: the page says so (409)."""
    await add_event(settings)
    rid = await import_file(settings, speech_video(tmp_path, repeat=4))
    token = await log_in(client)
    first = await client.post(f"/admin/recordings/{rid}/transcribe", data={"csrf_token": token})
    second = await client.post(f"/admin/recordings/{rid}/transcribe", data={"csrf_token": token},
                               params={"lang": "en"})
    assert first.status_code == 303
    assert second.status_code == 409 and "being transcribed already" in second.text


def salen(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SALEN_DATABASE_URL": settings.database_url,
                        "SALEN_RECORDINGS_DIR": str(settings.recordings_dir),
                        "SALEN_TRANSCRIBE_ENGINE": "pocketsphinx",
                        "SALEN_TRANSCRIBE_LANGUAGE": "en"}
    return subprocess.run([sys.executable, "-m", "live.cli", *args], env=env, text=True,
                          check=False, capture_output=True, timeout=300)


def test_cli_refuses_a_recording_without_sound(tmp_path: Path, settings: Settings) -> None:
    """`salen recording transcribe` on a silent recording: exit 1, a plain message, no file."""
    asyncio.run(add_event(settings))
    imported = salen("recording", "import", str(video(tmp_path, 4, audio_codec=None)),
                     "--event", SLUG, settings=settings)
    assert imported.returncode == 0, imported.stderr
    rid = imported.stdout.strip()
    result = salen("recording", "transcribe", rid, settings=settings)
    assert result.returncode == 1
    assert "has no sound, so there is nothing to transcribe" in result.stderr
    folder = Path(settings.recordings_dir) / "archive" / rid
    assert not (folder / "captions" / "en-auto.vtt").exists()
    status = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert status["state"] == "failed" and status["code"] == "transcribe.no_audio"


async def test_admin_page_says_why_a_transcription_failed(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """A recording without sound: the button's run fails and the page says so in bokmål,
    with the button there to try again; no caption track is added."""
    await add_event(settings)
    rid = await import_file(settings, video(tmp_path, 4, audio_codec=None))
    token = await log_in(client)
    await client.post(f"/admin/recordings/{rid}/transcribe", data={"csrf_token": token})
    while "Transkriberer" in (page := (await client.get(f"/admin/recordings/{rid}",
                                                         params={"lang": "nb"})).text):
        await asyncio.sleep(0.2)
    assert "Opptaket har ingen lyd, så det er ingenting å transkribere." in page
    assert f'action="/admin/recordings/{rid}/transcribe"' in page
    body = (await client.get(f"/api/recordings/{rid}", headers=ADMIN)).json()
    assert body["captions"] == []


def test_cli_transcribes_with_a_progress_bar(tmp_path: Path, settings: Settings) -> None:
    """`salen recording transcribe ID` draws its bar on stderr and prints the draft's URL;
    the draft is a caption track holding words that were said."""
    asyncio.run(add_event(settings))
    imported = salen("recording", "import", str(speech_video(tmp_path)), "--event", SLUG,
                     settings=settings)
    assert imported.returncode == 0, imported.stderr
    rid = imported.stdout.strip()
    result = salen("recording", "transcribe", rid, settings=settings)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"/recordings/{rid}/files/captions/en-auto.vtt\n"
    assert "100%" in result.stderr
    vtt = Path(settings.recordings_dir) / "archive" / rid / "captions" / "en-auto.vtt"
    assert len(set(vtt.read_text(encoding="utf-8").split()) & KNOWN) >= 2


async def test_the_draft_track_is_named_in_the_readers_language(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Speech recognition's track, stored as "nb (automatic draft)", is "Automatisk utkast
    (nb)" on the bokmål recording page, the organiser's page and the caption editor."""
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        draft = await session.scalar(
            select(RecordingCaption).where(RecordingCaption.lang == "nb-auto"))
        assert draft is not None and draft.label == "nb (automatic draft)"  # the demo's
        rid = draft.recording_id
    await engine.dispose()
    for path in (f"/recordings/{rid}", f"/admin/recordings/{rid}",
                 f"/admin/recordings/{rid}/captions/nb-auto/edit"):
        page = (await client.get(path, params={"lang": "nb"}, headers=ADMIN)).text
        assert "Automatisk utkast (nb)" in page and "automatic draft" not in page, path
