"""End to end: an aiortc WHIP publisher, WHEP viewers, live HLS and the recording, over loopback."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import pytest

from live.settings import Settings
from stream import client as whip
from stream.manager import LiveStreams, Status
from stream.packets import MediaPacket
from stream.recorder import TsRecorder
from tests.support.streams import GUARD, KEYS, Harness, decoded_video, running_server

pytestmark = pytest.mark.media


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Harness]:
    """A running server with a fresh recordings folder."""
    async with running_server(tmp_path) as harness:
        yield harness


async def _wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), GUARD)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


def _assert_playable_mp4(path: Path) -> None:
    with av.open(str(path)) as container:
        kinds = {s.type: s.codec_context.name for s in container.streams}
        assert kinds == {"video": "h264", "audio": "aac"}
        assert sum(1 for _ in container.decode(video=0)) > 10
    assert b"moov" in path.read_bytes()[:4096], "faststart puts moov first"


async def test_publish_three_viewers_hls_and_recording(server: Harness) -> None:
    """Three WHEP viewers decode the forwarded frames, live HLS plays, and DELETE finalises an MP4."""
    video = whip.SyntheticVideo()
    publisher = await whip.publish(
        server.http, f"{server.url}/whip/seminar", KEYS["seminar"], video, whip.SyntheticAudio()
    )
    assert publisher.response.headers["content-type"] == "application/sdp"
    assert publisher.response.headers["etag"]
    assert publisher.location.startswith(f"{server.url}/whip/seminar/")

    viewers = [await whip.view(server.http, f"{server.url}/whep/seminar") for _ in range(3)]
    assert server.streams.state("seminar").viewers == 3
    refused = await server.http.post(
        "/whep/seminar",
        content=viewers[0][0].pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp"},
    )
    assert refused.status_code == 503 and refused.headers["retry-after"]

    decoded = await asyncio.wait_for(
        asyncio.gather(*(decoded_video(tracks, 15) for _, tracks in viewers)), GUARD
    )
    for numbers in decoded:
        assert numbers == sorted(numbers) and numbers[-1] > numbers[0]
        # forwarded, not re-encoded: the painted numbers are the publisher's own frames
        assert all(n in video.sent_at for n in numbers)

    async def playlist_ready() -> bool:
        response = await server.http.get("/live/seminar/index.m3u8")
        return response.status_code == 200 and ".ts" in response.text

    await _wait_for(playlist_ready, "the live HLS playlist")
    playlist = await server.http.get("/live/seminar/index.m3u8")
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist.headers["cache-control"] == "public, max-age=1"
    segment_name = next(line for line in playlist.text.splitlines() if line.endswith(".ts"))
    segment = await server.http.get(f"/live/seminar/{segment_name}")
    assert segment.headers["content-type"] == "video/mp2t"
    assert "immutable" in segment.headers["cache-control"]
    with av.open(io.BytesIO(segment.content), format="mpegts") as ts:
        assert {s.codec_context.name for s in ts.streams} == {"h264", "aac"}
        assert sum(1 for _ in ts.decode(video=0)) > 0

    for session, _ in viewers:
        assert (await session.delete(server.http)).status_code == 200
        await session.close()
    assert (await publisher.delete(server.http, KEYS["seminar"])).status_code == 200
    await publisher.close()
    assert server.streams.state("seminar").status in (Status.FINALISING, Status.ENDED)

    name, mp4, _ = await asyncio.wait_for(server.finished.get(), GUARD)
    assert name == "seminar"
    _assert_playable_mp4(mp4)
    assert server.streams.state("seminar").status == Status.ENDED


async def test_killed_publisher_leaves_playable_recording(server: Harness) -> None:
    """A publisher process killed mid-stream is detected and its recording is finalised."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stream.client",
        "publish",
        f"{server.url}/whip/seminar",
        KEYS["seminar"],
        "--seconds",
        "60",
        cwd=Path(__file__).resolve().parents[2],
        stdout=asyncio.subprocess.PIPE,
    )
    try:

        async def recorded_a_while() -> bool:
            folder = server.streams.root / "streams" / "seminar"
            return any(p.stat().st_size > 50_000 for p in folder.glob("*.ts"))

        await _wait_for(recorded_a_while, "the recording to grow")
        assert server.streams.state("seminar").status == Status.LIVE
    finally:
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()

    name, mp4, _ = await asyncio.wait_for(server.finished.get(), GUARD)
    assert name == "seminar"
    _assert_playable_mp4(mp4)
    assert server.streams.state("seminar").status == Status.ENDED


def _encoded_packets(seconds: int = 2) -> list[MediaPacket]:
    """H.264 and Opus packets as the relay would carry them, encoded without pacing."""
    video = av.CodecContext.create("libx264", "w")
    video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
    video.time_base = Fraction(1, 30)
    video.options = {"bf": "0", "g": "30", "tune": "zerolatency"}
    audio = av.CodecContext.create("libopus", "w")
    audio.sample_rate, audio.layout, audio.format = 48000, "stereo", "s16"
    audio.time_base = Fraction(1, 48000)
    packets = []
    for n in range(30 * seconds):
        frame = whip.paint_frame(n, 320, 240)
        frame.pts = n
        packets += [
            MediaPacket("video", bytes(p), n * 3000, p.is_keyframe) for p in video.encode(frame)
        ]
        tone = av.AudioFrame(format="s16", layout="stereo", samples=1600)
        tone.sample_rate = 48000
        tone.planes[0].update(bytes(tone.planes[0].buffer_size))
        tone.pts = n * 1600
        packets += [MediaPacket("audio", bytes(p), p.pts or 0, True) for p in audio.encode(tone)]
    return packets


async def test_recording_left_by_a_crash_is_finalised_at_start_up(tmp_path: Path) -> None:
    """A .ts without its .mp4, untouched for a while, is finalised when LiveStreams starts."""
    ts = tmp_path / "streams" / "seminar" / "20260101T090000000000Z.ts"
    recorder = TsRecorder(ts)
    for packet in _encoded_packets():
        recorder.put(packet)
    await recorder.close()
    os.utime(ts, (ts.stat().st_atime - 3600, ts.stat().st_mtime - 3600))
    finished: list[tuple[str, Path, datetime]] = []
    async with LiveStreams(
        Settings(recordings_dir=tmp_path), on_finished=lambda *a: finished.append(a)
    ):
        pass
    assert [(name, mp4.name) for name, mp4, _ in finished] == [
        ("seminar", ts.with_suffix(".mp4").name)
    ]
    _assert_playable_mp4(finished[0][1])
