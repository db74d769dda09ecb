"""Record while live: copy H.264 and Opus packets into MPEG-TS, which stays playable after a crash.

The recorder notes when its first packet was written (`started_at`, wall clock) in the
recording's lock file, so a recording recovered after a crash keeps its real start.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from stream.audio import SAMPLE_RATE, TIME_BASE
from stream.packets import MediaPacket
from stream.recovery import RecordingLock
from stream.sink import ThreadSink, add_video_stream, mux_video

# audio kept while waiting for the first video keyframe; past this it is audio-only
AUDIO_ONLY_AFTER = 250  # Opus packets, 5 s
log = logging.getLogger(__name__)


class TsRecorder(ThreadSink):
    """Writes every relayed frame, unchanged, into one `.ts` file."""

    name = "ts-recorder"

    def __init__(self, path: Path, lock: RecordingLock | None = None) -> None:
        super().__init__()
        self.path = path
        self.lock = lock
        self.started_at: datetime | None = None
        self._origin: float | None = None  # wall-clock time of stream time 0
        self._container: av.container.OutputContainer | None = None
        self._video: VideoStream | None = None
        self._audio: AudioStream | None = None
        self._pending_audio: list[MediaPacket] = []
        self.frames = 0

    def put(self, packet: MediaPacket) -> None:
        """Queue one frame; the first one anchors stream time to the wall clock."""
        if self._origin is None:
            self._origin = time.time() - packet.seconds
        super().put(packet)

    def write(self, packet: MediaPacket) -> None:
        """Write one frame; nothing is written before the first keyframe."""
        if self._container is None:
            if packet.kind == "video" and packet.keyframe:
                self._open(packet)
            elif packet.kind == "audio":
                self._pending_audio.append(packet)
                if len(self._pending_audio) >= AUDIO_ONLY_AFTER:
                    self._open(None)
            if self._container is None:
                return
            pending, self._pending_audio = self._pending_audio, []
            for audio in pending:
                self._mux_audio(audio)
            if packet.kind == "audio":
                return
        if packet.kind == "video" and self._video is not None:
            mux_video(self._require_container(), self._video, packet)
            self.frames += 1
        elif packet.kind == "audio":
            self._mux_audio(packet)

    def _open(self, keyframe: MediaPacket | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # flush_packets: each frame reaches the file at once, so a crash loses almost nothing
        container = av.open(
            str(self.path), "w", format="mpegts", container_options={"flush_packets": "1"}
        )
        if keyframe is not None:
            self._video = add_video_stream(container, keyframe.data)
        audio = container.add_stream("libopus", rate=SAMPLE_RATE)
        audio.layout = "stereo"
        audio.time_base = TIME_BASE
        self._audio = audio
        self._container = container
        first = [p.seconds for p in self._pending_audio[:1]]
        self._note_start(min([*first, keyframe.seconds] if keyframe else first or [0.0]))

    def _note_start(self, seconds: float) -> None:
        """The first written packet's time, on the wall clock, into the lock file."""
        origin = self._origin if self._origin is not None else time.time() - seconds
        self.started_at = datetime.fromtimestamp(origin + seconds, UTC)
        if self.lock is not None:
            try:
                self.lock.write_start(self.started_at)
            except OSError as exc:
                log.warning("%s: cannot note the start in its lock file: %s", self.path, exc)

    def _require_container(self) -> av.container.OutputContainer:
        assert self._container is not None
        return self._container

    def _mux_audio(self, packet: MediaPacket) -> None:
        if self._audio is None:
            return
        out = packet.to_av()
        out.stream = self._audio
        self._require_container().mux(out)

    def finish(self) -> None:
        """Close the file."""
        if self._container is not None:
            self._container.close()
            self._container = None
