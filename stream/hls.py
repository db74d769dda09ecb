"""Live HLS from the relayed packets: H.264 copied, Opus to AAC, segments cut at keyframes.

Files are plain and written atomically (the playlist by rename; a segment is listed only
once closed), so nginx or a CDN can serve them. Layout under the stream's folder:
`index.m3u8` and `seg_00001.ts`, ... (with live captions also `master.m3u8`, `subs.m3u8` and
`sub_00001.vtt`, ...: `stream.subtitles`). A sliding window of `window` segments is listed;
older segment files are removed a little later so players mid-download are not cut off.
The playlist appears once three segments exist (players reject shorter live playlists).
Audio-only streams get no HLS (segments are cut at video keyframes).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from stream.audio import OpusToAac, add_aac_stream
from stream.packets import MediaPacket
from stream.sink import ThreadSink, add_video_stream, mux_video
from stream.subtitles import LiveSubtitles

PLAYLIST = "index.m3u8"
SEGMENT_NAME = re.compile(r"seg_\d{5,}\.ts")
KEEP_EXTRA = 4  # segments kept on disk after they leave the playlist
# players (Chromium's native HLS, hls.js) refuse a live playlist shorter than this
MIN_LIVE_SEGMENTS = 3


@dataclasses.dataclass(slots=True)
class Segment:
    """One finished segment."""

    sequence: int
    duration: float
    # Where it starts on the stream clock (seconds).
    start: float = 0.0

    @property
    def name(self) -> str:
        """Its file name."""
        return f"seg_{self.sequence:05d}.ts"


def render_playlist(segments: list[Segment], ended: bool) -> str:
    """The media playlist for the listed segments."""
    target = max((math.ceil(s.duration) for s in segments), default=2)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence if segments else 0}",
    ]
    for segment in segments:
        lines += [f"#EXTINF:{segment.duration:.3f},", segment.name]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


class LiveHls(ThreadSink):
    """Writes a live HLS rendition of the relayed stream into `folder`."""

    name = "live-hls"

    def __init__(
        self, folder: Path, target: float = 2.0, window: int = 6,
        subtitles: LiveSubtitles | None = None,
    ) -> None:
        super().__init__()
        self.folder = folder
        # Live captions, written as a subtitle rendition beside the video (`stream.subtitles`).
        self.subtitles = subtitles
        self.target = target
        self.window = window
        self.segments: list[Segment] = []
        self._sequence = 0
        self._container: av.container.OutputContainer | None = None
        self._video: VideoStream | None = None
        self._audio: AudioStream | None = None
        self._started_at = 0.0
        self._last_at = 0.0
        self._transcoder = OpusToAac()

    def write(self, packet: MediaPacket) -> None:
        """Add one frame; a keyframe past the target duration starts a new segment."""
        if self.subtitles is not None:
            self.subtitles.anchor(packet.seconds)
        if packet.kind == "video":
            if packet.keyframe and (
                self._container is None or packet.seconds - self._started_at >= self.target
            ):
                self._cut(packet)
            if self._container is not None and self._video is not None:
                mux_video(self._container, self._video, packet)
                self._last_at = max(self._last_at, packet.seconds)
        else:
            aac = self._transcoder.encode_media(packet)
            if self._container is not None and self._audio is not None:
                for out in aac:
                    out.stream = self._audio
                    self._container.mux(out)

    def _cut(self, keyframe: MediaPacket) -> None:
        if self._container is not None:
            self._close_segment(keyframe.seconds)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sequence += 1
        path = self.folder / Segment(self._sequence, 0).name
        container = av.open(str(path), "w", format="mpegts")
        self._video = add_video_stream(container, keyframe.data)
        self._audio = add_aac_stream(container)
        self._container = container
        self._started_at = self._last_at = keyframe.seconds

    def _close_segment(self, end: float) -> None:
        assert self._container is not None
        self._container.close()
        self._container = None
        duration = max(end - self._started_at, 0.001)
        self.segments.append(Segment(self._sequence, duration, self._started_at))
        if self.subtitles is not None:
            self.subtitles.write_segment(self.folder, self._sequence, self._started_at, end)
        self._publish(ended=False)

    def _publish(self, ended: bool) -> None:
        if not ended and len(self.segments) < MIN_LIVE_SEGMENTS:
            return
        listed = self.segments[-self.window :]
        partial = self.folder / (PLAYLIST + ".part")
        partial.write_text(render_playlist(listed, ended), encoding="utf-8")
        os.replace(partial, self.folder / PLAYLIST)
        if self.subtitles is not None:
            self.subtitles.publish(
                self.folder, [(s.sequence, s.duration) for s in listed], ended)
        for old in self.segments[: -(self.window + KEEP_EXTRA)]:
            (self.folder / old.name).unlink(missing_ok=True)
            if self.subtitles is not None:
                self.subtitles.remove(self.folder, old.sequence)

    def finish(self) -> None:
        """Close the last segment and mark the playlist ended."""
        if self._container is not None:
            # the last frame lasts about as long as the ones before it
            self._close_segment(self._last_at + 1 / 30)
        if self.segments:
            self._publish(ended=True)
