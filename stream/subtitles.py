"""Live captions as a WebVTT subtitle rendition of the live HLS, one segment per video segment.

Beside `index.m3u8` (`stream.hls`) the folder gets:

    master.m3u8   the multivariant playlist: the video rendition and, in the group "subs",
                  the subtitles (EXT-X-MEDIA TYPE=SUBTITLES) — what players and a CDN load
    subs.m3u8     the subtitle media playlist, listing the same window as index.m3u8
    sub_00001.vtt one WebVTT segment per video segment, covering the same stretch of the
                  stream clock, with X-TIMESTAMP-MAP tying its times to the MPEG-TS clock

Cue times are seconds on the stream clock (`MediaPacket.seconds`); the segments' MPEG-TS
timestamps are that clock at 90 kHz, so the map is `MPEGTS:0,LOCAL:00:00:00.000`. A cue is
written into every segment it overlaps, when that segment is closed: a caption committed
while segment n is being written is in segment n's file, so the subtitles lag the video
by at most one segment. Cues are added from the event loop and read by the HLS writer's
thread, hence the lock. Files are written atomically (rename), like the video playlist.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import threading
import time
from pathlib import Path

MASTER = "master.m3u8"
SUBTITLES = "subs.m3u8"
SUBTITLE_NAME = re.compile(r"sub_\d{5,}\.vtt")
# Cues kept after they end, in seconds (a segment closed a little late still gets them).
KEEP_SECONDS = 120.0
# What the master playlist declares for the one video rendition (bits per second).
BANDWIDTH = 4_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class TimedText:
    """One cue on the stream clock; `text` is WebVTT cue text (already escaped)."""

    start: float
    end: float
    text: str


def subtitle_name(sequence: int) -> str:
    """The file name of subtitle segment `sequence` (paired with `seg_{sequence}.ts`)."""
    return f"sub_{sequence:05d}.vtt"


def _timestamp(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def render_master(language: str, name: str) -> str:
    """The multivariant playlist: the video with its subtitle group."""
    return "\n".join([
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        (f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="{name}",LANGUAGE="{language}",'
        f'DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="{SUBTITLES}"'),
        f'#EXT-X-STREAM-INF:BANDWIDTH={BANDWIDTH},SUBTITLES="subs"',
        "index.m3u8",
        "",
    ])


def render_subtitle_playlist(segments: list[tuple[int, float]], ended: bool) -> str:
    """The subtitle media playlist for (sequence, duration) segments."""
    target = max((math.ceil(d) for _, d in segments), default=2)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0][0] if segments else 0}",
    ]
    for sequence, duration in segments:
        lines += [f"#EXTINF:{duration:.3f},", subtitle_name(sequence)]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def render_segment(cues: list[TimedText]) -> str:
    """One WebVTT segment: the timestamp map, then its cues."""
    out = ["WEBVTT", "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000", ""]
    for cue in sorted(cues, key=lambda c: (c.start, c.end)):
        out += [f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}", cue.text, ""]
    return "\n".join(out)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a rename, so readers never see half a file."""
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class LiveSubtitles:
    """The cues of one live stream, and the subtitle files written beside its video."""

    def __init__(self, language: str = "no", name: str = "Teksting") -> None:
        self.language, self.name = language, name
        self._cues: list[TimedText] = []
        self._lock = threading.Lock()
        # Wall-clock time (time.time()) of stream second 0, once the first packet is known.
        self._origin: float | None = None

    def anchor(self, stream_seconds: float) -> None:
        """A packet at `stream_seconds` is being written now: fixes the wall-clock origin."""
        if self._origin is None:
            self._origin = time.time() - stream_seconds

    def add_wall(self, start: float, end: float, text: str) -> bool:
        """Add a cue timed in wall-clock seconds (time.time()); False before the first packet."""
        origin = self._origin
        if origin is None:
            return False
        self.add(TimedText(max(start - origin, 0.0), max(end - origin, 0.0), text))
        return True

    def add(self, cue: TimedText) -> None:
        """Add a cue on the stream clock."""
        with self._lock:
            self._cues.append(cue)

    def cues_between(self, start: float, end: float) -> list[TimedText]:
        """The cues overlapping [start, end); cues long over are forgotten."""
        with self._lock:
            self._cues = [c for c in self._cues if c.end > start - KEEP_SECONDS]
            return [c for c in self._cues if c.start < end and c.end > start]

    def write_segment(self, folder: Path, sequence: int, start: float, end: float) -> None:
        """Write subtitle segment `sequence`, covering [start, end) of the stream clock."""
        write_atomically(folder / subtitle_name(sequence),
                         render_segment(self.cues_between(start, end)))

    def publish(self, folder: Path, segments: list[tuple[int, float]], ended: bool) -> None:
        """Write the subtitle playlist for the listed window, and the master playlist."""
        write_atomically(folder / SUBTITLES, render_subtitle_playlist(segments, ended))
        master = folder / MASTER
        if not master.exists():
            write_atomically(master, render_master(self.language, self.name))

    @staticmethod
    def remove(folder: Path, sequence: int) -> None:
        """Remove an old segment's subtitle file."""
        (folder / subtitle_name(sequence)).unlink(missing_ok=True)
