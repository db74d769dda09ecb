"""Live captions in live HLS: the master playlist's subtitle rendition and WebVTT segments."""

from __future__ import annotations

import asyncio
import re
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from live.captions.hls import HlsCaptions, open_hls_captions
from live.captions.service import CaptionService
from live.db import create_engine, sessionmaker
from live.hub import open_hub
from live.models import Event
from stream import client as whip
from stream.client import SyntheticVideo, publish
from stream.hls import LiveHls
from stream.packets import MediaPacket
from stream.subtitles import LiveSubtitles, TimedText
from tests.support.streams import GUARD, KEYS, running_server


def encoded_packets(seconds: int) -> list[MediaPacket]:
    """H.264 packets as the relay carries them, a keyframe every second."""
    video = av.CodecContext.create("libx264", "w")
    video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
    video.time_base = Fraction(1, 30)
    video.options = {"bf": "0", "g": "30", "tune": "zerolatency"}
    packets = []
    for n in range(30 * seconds):
        frame = whip.paint_frame(n, 160, 120)
        frame.pts = n
        packets += [
            MediaPacket("video", bytes(p), n * 3000, p.is_keyframe) for p in video.encode(frame)
        ]
    return packets


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, LiveHls]:
    subtitles = LiveSubtitles(language="no", name="Teksting")
    hls = LiveHls(tmp_path, target=1.0, window=10, subtitles=subtitles)
    subtitles.add(TimedText(1.5, 2.5, "Hei &amp; hallo"))
    subtitles.add(TimedText(4.2, 4.8, "Siste linje"))
    for packet in encoded_packets(6):
        hls.write(packet)
    hls.finish()
    return tmp_path, hls


def test_master_playlist_declares_the_subtitle_rendition(written: tuple[Path, LiveHls]) -> None:
    """master.m3u8 has EXT-X-MEDIA TYPE=SUBTITLES and the video variant points at its group."""
    folder, _ = written
    master = (folder / "master.m3u8").read_text()
    assert re.search(r'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",.*URI="subs\.m3u8"', master)
    assert '#EXT-X-STREAM-INF:BANDWIDTH=4000000,SUBTITLES="subs"\nindex.m3u8' in master


def test_subtitle_playlist_lists_the_video_segments_window(
    written: tuple[Path, LiveHls]
) -> None:
    """subs.m3u8 has one .vtt per video segment, with the same sequence and durations."""
    folder, hls = written
    video = (folder / "index.m3u8").read_text()
    subs = (folder / "subs.m3u8").read_text()
    assert re.findall(r"#EXTINF:([\d.]+),", video) == re.findall(r"#EXTINF:([\d.]+),", subs)
    assert re.findall(r"seg_(\d+)\.ts", video) == re.findall(r"sub_(\d+)\.vtt", subs)
    assert subs.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(hls.segments) >= 3


def test_cues_go_into_the_segments_they_overlap(written: tuple[Path, LiveHls]) -> None:
    """Each WebVTT segment maps to the MPEG-TS clock and holds the cues overlapping it."""
    folder, hls = written
    holding = []
    for segment in hls.segments:
        text = (folder / f"sub_{segment.sequence:05d}.vtt").read_text()
        assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
        if "Hei &amp; hallo" in text:
            holding.append(segment)
            assert "00:00:01.500 --> 00:00:02.500" in text
    assert holding and all(s.start < 2.5 and s.start + s.duration > 1.5 for s in holding)


def test_segments_timestamps_are_the_stream_clock(written: tuple[Path, LiveHls]) -> None:
    """A segment's first MPEG-TS timestamp is its start on the stream clock (MPEGTS:0 holds)."""
    folder, hls = written
    segment = hls.segments[2]
    with av.open(str(folder / segment.name)) as container:
        first = next(container.demux(video=0))
        assert first.pts is not None and first.time_base is not None
        assert abs(float(first.pts * first.time_base) - segment.start) < 0.05


def test_wall_clock_cues_wait_for_the_first_packet() -> None:
    """A cue in wall-clock time is placed on the stream clock once a packet fixed its origin."""
    subtitles = LiveSubtitles()
    assert subtitles.add_wall(100.0, 101.0, "før") is False
    subtitles.anchor(0.0)
    now = time.time()
    assert subtitles.add_wall(now + 3, now + 4, "etter")
    [cue] = subtitles.cues_between(0, 10)
    assert 2.5 < cue.start < 3.5 and cue.text == "etter"


async def test_committed_line_reaches_the_live_hls_within_one_segment(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A line committed during a WHIP stream is in the subtitle segment then being written."""
    engine = create_engine(sqlite_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        event = Event(slug="seminar", title="Seminar")
        session.add(event)
        await session.flush()
        event_id = event.id
    async with open_hub("memory://") as hub, running_server(tmp_path) as server, \
            open_hls_captions(db, hub, server.streams) as bridge:
        session = await publish(server.http, f"{server.url}/whip/seminar", KEYS["seminar"],
                                SyntheticVideo())
        folder = server.streams.hls_folder("seminar")
        async with asyncio.timeout(GUARD):
            while not (folder / "master.m3u8").exists():
                await asyncio.sleep(0.1)
            while "seminar" not in bridge.following:
                await asyncio.sleep(0.1)
        # The segment being written now (closed ones, and the open one, are files already).
        writing = len(list(folder.glob("seg_*.ts")))
        await CaptionService(db, hub).commit(event_id, "a", "Kari", "k1", "Hei & <velkommen>")
        following = folder / f"sub_{writing + 1:05d}.vtt"
        async with asyncio.timeout(GUARD):
            while not following.exists():
                await asyncio.sleep(0.1)
        written = [(folder / f"sub_{n:05d}.vtt").read_text() for n in (writing, writing + 1)]
        # In the segment open at the commit, or (had it just closed) the next one: one at most.
        assert any("Hei &amp; &lt;velkommen&gt;" in text for text in written)
        await session.delete(server.http, KEYS["seminar"])
    await engine.dispose()


class _Streams:
    """What `HlsCaptions` reads of `LiveStreams`: the names live here (an interpreter too)."""

    def live_names(self) -> list[str]:
        return ["seminar", "seminar_interpreter"]


async def test_an_interpreter_stream_is_not_looked_up_as_an_event(sqlite_url: str) -> None:
    """The interpreter's stream beside the event's gets no captions and costs no query a
    second: only the event's own stream is looked up and followed."""
    engine = create_engine(sqlite_url)
    db = sessionmaker(engine)
    async with db() as session, session.begin():
        session.add(Event(slug="seminar", title="Seminar"))
    opened: list[int] = []

    def counting() -> Any:
        opened.append(1)
        return db()

    async with open_hub("memory://") as hub:
        bridge = HlsCaptions(counting, hub, _Streams())  # type: ignore[arg-type]
        try:
            await bridge.check()
            await bridge.check()
        finally:
            await bridge.aclose()
    await engine.dispose()
    assert bridge.following == {"seminar"} and len(opened) == 1
