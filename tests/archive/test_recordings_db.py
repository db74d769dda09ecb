"""Recordings on both databases: import, list, publish and unfinished jobs resumed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from live.archive.service import Archive
from live.db import create_engine, sessionmaker
from live.models import Recording, RecordingState
from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.archive import ITEMS, SLUG, T0, add_event, video, wait_processed


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short H.264/AAC test video (12 s: two programme items fit)."""
    return video(tmp_path_factory.mktemp("media"), 12, audio_codec="aac")


async def test_import_list_publish(
    client: httpx.AsyncClient, settings: Settings, source: Path
) -> None:
    """An uploaded recording lists for organisers only until published, on each database."""
    await add_event(settings)
    with source.open("rb") as f:
        sent = await client.post(
            f"/admin/events/{SLUG}/recordings",
            headers=ADMIN,
            data={"started_at": "2026-10-21T10:00:00+02:00"},
            files={"file": ("opptak.ts", f, "video/mp2t")},
        )
    rid = int(sent.headers["location"].rsplit("/", 1)[1])
    body = await wait_processed(client, rid, ADMIN)
    assert body["state"] == "ready"
    assert [c["title"] for c in body["chapters"]] == ITEMS[:2]
    mine = {"event": SLUG}  # the demo debate's own recording is listed too
    assert (await client.get("/api/recordings", params=mine)).json()["recordings"] == []
    listed = (await client.get("/api/recordings", params=mine, headers=ADMIN)).json()["recordings"]
    assert [r["id"] for r in listed] == [rid]
    await client.post(f"/api/recordings/{rid}/publish", headers=ADMIN)
    public = (await client.get("/api/recordings", params={"event": SLUG})).json()["recordings"]
    assert [(r["id"], r["state"]) for r in public] == [(rid, "published")]
    assert public[0]["published_at"] is not None


async def test_unfinished_jobs_are_resumed(
    demo_app: Starlette, settings: Settings, source: Path
) -> None:
    """A recording left `processing` by a stopped server is packaged again at start-up, once."""
    await add_event(settings)
    engine = create_engine(settings.database_url)
    archive = Archive(settings, sessionmaker(engine))
    rid = await archive.import_file(SLUG, source, started_at=T0, wait=True)
    async with archive.db() as session, session.begin():
        recording = await session.get(Recording, rid)
        assert recording is not None
        recording.state, recording.progress = RecordingState.PROCESSING, 0.3
    other_worker = Archive(settings, archive.db)
    async with demo_app.router.lifespan_context(demo_app) as state:  # start-up resumes it
        assert await other_worker.resume_at_start_up() == []  # the app holds the lock
        await state["archive"].wait_idle()
    async with archive.db() as session:
        recording = await session.get(Recording, rid)
        assert recording is not None
        assert (recording.state, recording.progress) == (RecordingState.READY, 1.0)
    assert await other_worker.resume_at_start_up() == []  # nothing left to do...
    assert other_worker._resume_lock is not None  # ... and the lock passed on at shutdown
    await other_worker.aclose()
    await engine.dispose()
