"""Recordings that survive: a recording process killed mid-stream, and a disk that fills up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import av
import httpx
import pytest

from live.settings import Settings
from stream import client as whip
from stream.manager import LiveStreams, Status
from stream.recorder import TsRecorder
from stream.recovery import RecordingLock
from tests.stream.test_stream_media import _encoded_packets as encoded_packets
from tests.support.admin import csrf_of, login
from tests.support.app import ADMIN, make_settings
from tests.support.streams import GUARD, KEYS, fill, running_server, small_disk

pytestmark = [pytest.mark.media, pytest.mark.filterwarnings("ignore::ResourceWarning")]
ROOT = Path(__file__).resolve().parents[2]
SLUG = "planstrategi-4-0"
FULL_GUARD = 60.0  # seconds before a wait on the full disk is declared hung


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds; fail (not hang) after FULL_GUARD seconds."""
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), FULL_GUARD)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


def assert_playable(path: Path) -> None:
    """An MP4 with H.264 and AAC and more than a few decodable pictures."""
    with av.open(str(path)) as container:
        assert {s.type for s in container.streams} >= {"video", "audio"}
        assert sum(1 for _ in container.decode(video=0)) > 10


async def test_restart_within_a_minute_recovers_the_recording(tmp_path: Path) -> None:
    """A recording process killed mid-stream: a restart seconds later finalises its recording
    with the start its recorder noted (not the crash time) and drops its stale live HLS."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.recording_process", str(tmp_path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), GUARD * 3)
        report = json.loads(line)
        await asyncio.sleep(2)  # the stream goes on a while after its start was noted
    finally:
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
    killed_at = datetime.now(UTC)
    finished: list[tuple[str, Path, datetime]] = []
    async with LiveStreams(
        Settings(recordings_dir=tmp_path), on_finished=lambda *a: finished.append(a)
    ):
        pass
    assert [name for name, _, _ in finished] == ["seminar"]
    _, mp4, started_at = finished[0]
    assert started_at == datetime.fromisoformat(report["started_at"])
    published = datetime.fromisoformat(report["published_at"])
    assert published <= started_at < killed_at
    assert (killed_at - started_at).total_seconds() > 2
    assert_playable(mp4)
    assert not Path(report["ts"]).exists(), "handed over: not finalised again at the next start"
    assert not (tmp_path / "live" / "seminar").exists(), "the dead stream's HLS is not served"


async def test_recording_locked_by_a_live_process_is_left_alone(tmp_path: Path) -> None:
    """A .ts whose lock another recording process holds is not finalised, however old."""
    ts = tmp_path / "streams" / "seminar" / "20260101T090000000000Z.ts"
    lock = RecordingLock.take(ts, create_folder=True)
    assert lock is not None
    recorder = TsRecorder(ts)
    for packet in encoded_packets():
        recorder.put(packet)
    await recorder.close()
    os.utime(ts, (0, 0))
    finished: list[object] = []
    try:
        async with LiveStreams(Settings(recordings_dir=tmp_path), on_finished=finished.append):
            pass
    finally:
        lock.release(remove=False)
    assert finished == [] and ts.exists()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MiB tmpfs as the recordings folder: room for the demo's recording (about
    14 MiB, copied in by the demo app) before the tests fill it."""
    with small_disk(tmp_path / "disk", "48m") as folder:
        yield folder


async def test_full_disk_stops_hls_says_so_and_finalises_once_space_returns(disk: Path) -> None:
    """On a full disk the state names the problem, live HLS is served ended, and the
    recording so far is finalised by the periodic retry once space is freed."""
    ballast = fill(disk, leave=1_500_000)
    async with running_server(disk, retry_seconds=0.5) as server:
        publisher = await whip.publish(
            server.http, f"{server.url}/whip/seminar", KEYS["seminar"],
            whip.SyntheticVideo(), whip.SyntheticAudio(),
        )

        async def full() -> bool:
            return server.streams.state("seminar").problem is not None

        await eventually(full, "the disk to fill")
        state = server.streams.state("seminar").as_dict()
        assert state["state"] in ("live", "paused") and state["hls"] is False
        assert state["problem"]["code"] == "storage.full"  # type: ignore[index]
        playlist = await server.http.get("/live/seminar/index.m3u8")
        assert playlist.status_code == 404 or "#EXT-X-ENDLIST" in playlist.text

        await publisher.delete(server.http, KEYS["seminar"])
        await publisher.close()

        async def tried() -> bool:
            return server.streams.finisher.failures("seminar") > 0

        await eventually(tried, "finalising to fail on the full disk")
        stuck = server.streams.state("seminar")
        assert stuck.status == Status.FINALISING and stuck.problem is not None
        assert stuck.problem.code == "storage.full" and server.finished.empty()

        ballast.unlink()
        name, mp4, _ = await asyncio.wait_for(server.finished.get(), FULL_GUARD)
        assert name == "seminar"
        assert_playable(mp4)
        done = server.streams.state("seminar")
        assert done.status == Status.ENDED and done.problem is None


@pytest.fixture
def settings(database_url: str, tmp_path: Path, disk: Path) -> Settings:
    """The app's settings with the small disk as its recordings folder."""
    return make_settings(database_url, tmp_path, recordings_dir=disk)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Media tests are not about the database: SQLite only."""
    return sqlite_url


@pytest.fixture
async def organiser(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the served demo app, logged in as the demo organiser."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        await login(client)
        yield client


async def test_full_disk_is_shown_to_the_organiser_who_retries_into_the_archive(
    live_url: str, organiser: httpx.AsyncClient, settings: Settings
) -> None:
    """The organiser's stream page and API report the full disk; after space is freed the
    page's retry button finalises the recording into a playable archive entry."""
    client = organiser
    info = (await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json()
    ballast = fill(Path(settings.recordings_dir), leave=700_000)
    session = await whip.publish(client, f"{live_url}/whip/{SLUG}", info["stream_key"],
                                 whip.SyntheticVideo(), whip.SyntheticAudio())

    async def state() -> dict[str, object]:
        return dict((await client.get(f"/api/events/{SLUG}/stream", headers=ADMIN)).json())

    async def full() -> bool:
        return (await state())["problem"] is not None

    await eventually(full, "the disk to fill")
    await session.delete(client, info["stream_key"])
    await session.close()
    stuck = await state()
    assert stuck["state"] == "finalising" and stuck["hls"] is False
    assert stuck["problem"]["code"] == "storage.full"  # type: ignore[index]
    page = await client.get(f"/admin/events/{SLUG}/stream")
    assert 'data-stream-problem="storage.full"' in page.text
    assert f'action="/admin/events/{SLUG}/stream-retry" data-stream-retry>' in page.text

    ballast.unlink()
    retried = await client.post(f"/admin/events/{SLUG}/stream-retry",
                                data={"csrf_token": csrf_of(page.text)})
    assert retried.status_code == 303

    async def archived() -> bool:
        listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
        return any(r["state"] == "ready" for r in listing.json()["recordings"])

    await eventually(archived, "the recording in the archive")
    listing = await client.get("/api/recordings", params={"event": SLUG}, headers=ADMIN)
    recording = next(r for r in listing.json()["recordings"] if r["state"] == "ready")
    assert_playable(Path(settings.recordings_dir) / "archive" / str(recording["id"])
                    / "media" / "recording.mp4")
    final = await state()
    assert final["state"] == "ended" and final["problem"] is None
