"""Archive domain: chapter derivation, stream recordings, trimming, chapter edits, Q&A timeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

import live.models.qa  # noqa: F401  (registers the Q&A tables for create_all below)
from live.archive.chapters import derive_chapters, parse_chapter_lines, to_output_time
from live.archive.service import Archive
from live.db import create_engine, sessionmaker
from live.errors import Invalid
from live.migrate import upgrade_async
from live.models import Base, Event, ProgrammeBlock, ProgrammeItem, Recording
from live.models.qa import Question
from live.settings import Settings
from tests.support.app import ADMIN
from tests.support.archive import ITEMS, SLUG, T0, add_event, video, wait_processed


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Packaging is the subject here, not the database: SQLite only."""
    return sqlite_url


def programme(*starts: int | None) -> Event:
    """An in-memory event whose items start at T0 + these seconds (None: no time)."""
    block = ProgrammeBlock(title="B", starts_at=None)
    block.items = [
        ProgrammeItem(
            id=i + 1,
            title=f"Item {i + 1}",
            starts_at=None if s is None else T0 + dt.timedelta(seconds=s),
        )
        for i, s in enumerate(starts)
    ]
    return Event(slug="x", title="X", blocks=[block])


def test_chapters_follow_the_programme_from_the_recording_start() -> None:
    """The item running at the start begins at 0; earlier and later-than-the-end items drop."""
    event = programme(-600, -60, 30, None, 90, 4000)
    started = T0
    chapters = derive_chapters(event, started, 3600)
    assert [(c["title"], c["start"]) for c in chapters] == [
        ("Item 2", 0.0),
        ("Item 3", 30.0),
        ("Item 5", 90.0),
    ]
    assert derive_chapters(event, None, 3600) == []


def test_output_time_and_chapter_lines() -> None:
    """Chapters move by the cut; organiser lines parse, and bad lines name their number."""
    moved = to_output_time(
        [{"title": "a", "start": 0.0}, {"title": "b", "start": 4.0}, {"title": "c", "start": 12.0}],
        6.0,
    )
    assert moved == [{"title": "b", "start": 0.0}, {"title": "c", "start": 6.0}]
    assert parse_chapter_lines("00:00:00 Start\n\n01:30 Debatt\n1:00:00 Slutt") == [
        {"title": "Start", "start": 0.0},
        {"title": "Debatt", "start": 90.0},
        {"title": "Slutt", "start": 3600.0},
    ]
    with pytest.raises(Invalid, match="Line 2"):
        parse_chapter_lines("00:00 Start\nnot a time")
    with pytest.raises(Invalid, match="in order"):
        parse_chapter_lines("00:10 B\n00:05 A")


async def test_stream_recording_is_registered_like_an_import(
    settings: Settings, tmp_path: Path
) -> None:
    """A finished live recording (Opus audio) is moved in, packaged, chaptered from its start."""
    await upgrade_async(settings.database_url)
    await add_event(settings)
    engine = create_engine(settings.database_url)
    archive = Archive(settings, sessionmaker(engine))
    finished = video(tmp_path, 30, name="live.ts")  # H.264 + Opus, as the recorder writes
    rid = await archive.register_stream_recording(SLUG, finished, T0 + dt.timedelta(seconds=4))
    await archive.wait_idle()
    async with archive.db() as session:
        recording = await session.get(Recording, rid)
        assert recording is not None
        state, source, chapters = recording.state, recording.source, recording.chapters
    await engine.dispose()
    assert (state, source) == ("ready", "stream")
    assert [(c["title"], c["start"]) for c in chapters] == [
        (ITEMS[0], 0.0),
        (ITEMS[1], 6.0),
        (ITEMS[2], 16.0),
    ]
    assert not finished.exists()
    with av.open(str(archive.folder(rid) / "media" / "recording.mp4")) as mp4:
        assert mp4.streams.audio[0].codec_context.name == "aac"
        assert len(mp4.chapters()) == 3


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 30-second H.264/AAC test video for the module (uploads copy it)."""
    return video(tmp_path_factory.mktemp("media"), 30, audio_codec="aac")


@pytest.fixture
async def ready(client: httpx.AsyncClient, settings: Settings, source: Path) -> dict[str, Any]:
    """A processed recording (through the upload form), not published."""
    await add_event(settings)
    with source.open("rb") as f:
        sent = await client.post(
            f"/admin/events/{SLUG}/recordings",
            headers=ADMIN,
            data={"started_at": "2026-10-21T10:00"},
            files={"file": ("opptak.ts", f, "video/mp2t")},
        )
    rid = int(sent.headers["location"].rsplit("/", 1)[1])
    return await wait_processed(client, rid, ADMIN)


def mp4_chapters(settings: Settings, rid: int) -> list[tuple[str, float]]:
    path = Path(settings.recordings_dir) / "archive" / str(rid) / "media" / "recording.mp4"
    with av.open(str(path)) as mp4:
        return [
            (c["metadata"]["title"], float(c["start"] * c["time_base"])) for c in mp4.chapters()
        ]


async def test_trim_cuts_at_keyframes_and_moves_chapters(
    client: httpx.AsyncClient, ready: dict[str, Any], settings: Settings
) -> None:
    """Trimming 5–25 s cuts at keyframes (4 s, 26 s) and shifts the chapters with the cut."""
    rid = ready["id"]
    response = await client.put(
        f"/api/recordings/{rid}/trim", headers=ADMIN, json={"start": 5, "end": 25}
    )
    assert response.status_code == 200 and response.json()["progress"] == 0
    body = await wait_processed(client, rid, ADMIN)
    assert body["state"] == "ready" and body["trim"] == {"start": 5, "end": 25}
    assert 21.5 <= body["duration"] <= 22.5
    # The cut falls on the 4 s keyframe; audio priming may move it by a few milliseconds.
    assert [c["title"] for c in body["chapters"]] == ITEMS
    assert [c["start"] for c in body["chapters"]] == pytest.approx([0, 6, 16], abs=0.05)
    assert [c[1] for c in mp4_chapters(settings, rid)] == pytest.approx([0, 6, 16], abs=0.05)
    bad = await client.put(
        f"/api/recordings/{rid}/trim", headers=ADMIN, json={"start": 20, "end": 10}
    )
    assert bad.status_code == 422


async def test_edited_chapters_go_into_the_mp4(
    client: httpx.AsyncClient, ready: dict[str, Any], settings: Settings
) -> None:
    """Chapters edited by the organiser replace the derived ones in the API and the MP4."""
    rid = ready["id"]
    chapters = [{"title": "Åpning", "start": 0}, {"title": "Debatt", "start": 14}]
    # Visitors cannot even tell that an unpublished recording exists.
    assert (await client.put(f"/api/recordings/{rid}/chapters", json=chapters)).status_code == 404
    response = await client.put(f"/api/recordings/{rid}/chapters", headers=ADMIN, json=chapters)
    assert response.status_code == 200
    body = await wait_processed(client, rid, ADMIN)
    assert body["chapters"] == [
        {"title": "Åpning", "start": 0.0},
        {"title": "Debatt", "start": 14.0},
    ]
    assert mp4_chapters(settings, rid) == [("Åpning", 0.0), ("Debatt", 14.0)]
    late = await client.put(
        f"/api/recordings/{rid}/chapters", headers=ADMIN, json=[{"title": "Etterpå", "start": 300}]
    )
    assert late.status_code == 422


async def test_question_timeline_links_to_moments(
    client: httpx.AsyncClient, ready: dict[str, Any], settings: Settings
) -> None:
    """Answered questions show "asked at"/"answered at" links to their moments; pending do not."""
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        # Creates whatever the migrations do not (yet) cover, e.g. the Q&A tables.
        await conn.run_sync(Base.metadata.create_all)
    local = dt.datetime(2026, 10, 21, 8, 0, 12, tzinfo=dt.UTC)  # 10:00:12 in Oslo
    async with sessionmaker(engine)() as session, session.begin():
        event_id = (await session.get(Recording, ready["id"])).event_id  # type: ignore[union-attr]
        session.add_all(
            [
                Question(
                    event_id=event_id,
                    participant="p1",
                    text="Hva koster planen?",
                    status="answered",
                    asked_at=local,
                    answered_at=local + dt.timedelta(seconds=9),
                ),
                Question(
                    event_id=event_id,
                    participant="p2",
                    text="Ikke godkjent ennå",
                    status="pending",
                    asked_at=local,
                ),
            ]
        )
    await engine.dispose()
    await client.post(f"/api/recordings/{ready['id']}/publish", headers=ADMIN)
    page = (
        await client.get(
            f"/recordings/{ready['id']}", headers={"Accept-Language": "en"}, params={"lang": "en"}
        )
    ).text
    assert "Hva koster planen?" in page and "Ikke godkjent" not in page
    assert 'href="?t=12" data-t="12.0">00:00:12</a>' in page
    assert 'href="?t=21" data-t="21.0">00:00:21</a>' in page
    assert "asked at" in page and "answered at" in page
    # Programme items link to their chapters as well as the chapter list does.
    assert page.count('href="?t=10"') == 2 and page.count('href="?t=20"') == 2
