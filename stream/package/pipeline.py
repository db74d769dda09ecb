"""The packet loop shared by MP4 and HLS packaging: copy video, copy or transcode audio, cut, shift.

Packets are streamed from demuxer to muxer one at a time; the only buffer is a few seconds
of audio held while waiting for the first video keyframe, so memory does not grow with the
length of the file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Stream

from stream.package.probe import BrokenMedia, MediaInfo
from stream.package.reader import PacketReader, ReadFailed

Progress = Callable[[float], None]

_HOLD_SECONDS = 5.0  # audio kept while waiting for the first video keyframe
_EPSILON = 1e-3  # seconds: timestamps closer than this count as equal
_PROGRESS_STEP = 0.005  # report at most every half percent


@dataclass(frozen=True, slots=True)
class Cut:
    """Where output starts and stops, in the source's timestamps (seconds).

    `start` is the earliest keyframe time output may begin at (None: the first keyframe);
    `end` is a keyframe time at which output stops (None: the end of the file).
    """

    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What the packet loop did: the source time output started at, and its length."""

    start: float
    duration: float
    audio_transcoded: bool


class _Track:
    """Per-stream constants, computed once so that per-packet work stays cheap."""

    def __init__(self, stream: Stream, out: Stream) -> None:
        self.index = stream.index
        self.time_base = float(stream.time_base or 0)
        self.out = out
        self.shift = 0  # ticks subtracted from every timestamp, set when output starts

    def time(self, packet: av.Packet[Any]) -> float:
        ticks = packet.pts if packet.pts is not None else packet.dts
        return ticks * self.time_base if ticks is not None else 0.0

    def start_at(self, origin: float) -> None:
        self.shift = round(origin / self.time_base) if self.time_base else 0


class Pipeline:
    """Copy one video stream and one audio stream from `source` into `sink`."""

    def __init__(
        self, info: MediaInfo, source: InputContainer, sink: OutputContainer, cut: Cut
    ) -> None:
        self.info = info
        self.source = source
        self.sink = sink
        self.cut = cut
        self.video_in = source.streams[info.video.index]
        self.video = _Track(self.video_in, sink.add_stream_from_template(self.video_in))
        self.audio_in: AudioStream | None = None
        self.audio: _Track | None = None
        self.encoder: AudioStream | None = None  # set when audio is transcoded
        self.transcode = info.audio_needs_transcode
        if info.audio is not None:
            audio_in = source.streams[info.audio.index]
            assert isinstance(audio_in, AudioStream)
            self.audio_in = audio_in
            self.audio = _Track(audio_in, self._add_audio_out(audio_in))
        self.origin: float | None = None  # source time (s) that becomes 0 in the output
        self.end = cut.end if cut.end is not None else float("inf")
        self.held: deque[av.Packet[Any]] = deque()
        self.video_done = False
        self.audio_done = self.audio_in is None
        self.last_time = 0.0  # source time of the latest video frame written
        self.last_duration = 0  # its duration, in video ticks
        self.reported = -1.0
        self.total = 0.0

    def _add_audio_out(self, audio_in: AudioStream) -> Stream:
        if not self.transcode:
            return self.sink.add_stream_from_template(audio_in)
        ctx = audio_in.codec_context
        out = self.sink.add_stream("aac", rate=ctx.sample_rate, layout=ctx.layout.name)
        out.bit_rate = 128_000 if ctx.layout.nb_channels > 1 else 96_000
        self.encoder = out
        return out

    def run(self, progress: Progress | None) -> CopyReport:
        """Stream every packet through; return where output started and how long it is."""
        streams = [s for s in (self.video_in, self.audio_in) if s is not None]
        video_index = self.video.index
        try:
            with PacketReader(self.source, streams) as packets:
                for packet in packets:
                    pts, dts = packet.pts, packet.dts
                    if pts is None and dts is None:
                        continue  # the demuxer's end-of-stream marker
                    if packet.stream_index == video_index:
                        self._video(packet, pts, dts)
                    else:
                        self._audio(packet)
                    if self.video_done and self.audio_done:
                        break
                    if progress is not None:
                        self._report(progress)
            self._flush_audio()
        except ReadFailed as exc:
            raise BrokenMedia(f"{self.info.path.name}: reading failed ({exc})") from exc
        if self.origin is None:
            raise BrokenMedia(f"{self.info.path.name}: no video keyframe to start from")
        if progress is not None:
            progress(1.0)
        end = self.last_time + self.last_duration * self.video.time_base
        return CopyReport(self.origin, max(0.0, end - self.origin), self.transcode)

    def _video(self, packet: av.Packet[Any], pts: int | None, dts: int | None) -> None:
        # The hot path: one call per video packet, so timestamps are read once and passed on.
        if self.video_done:
            return
        time = (pts if pts is not None else dts) * self.video.time_base  # type: ignore[operator]
        origin = self.origin
        if origin is None:
            if not self._starts_here(packet, time):
                return
            origin = time
        if packet.is_keyframe and time >= self.end - _EPSILON:
            self.video_done = True
            return
        if time < origin - _EPSILON:
            return  # leading pictures of an open GOP refer to frames before the cut
        if time >= self.last_time:
            self.last_time = time
            self.last_duration = packet.duration or 0
        self._mux_shifted(packet, self.video, pts, dts)

    def _starts_here(self, packet: av.Packet[Any], time: float) -> bool:
        """Output starts at the first keyframe at or after the cut's start."""
        if not packet.is_keyframe:
            return False
        if self.cut.start is not None and time < self.cut.start - _EPSILON:
            return False
        self.origin = time
        self.video.start_at(time)
        if self.audio is not None:
            self.audio.start_at(time)
        end = (
            self.cut.end if self.cut.end is not None else self.info.start_time + self.info.duration
        )
        self.total = end - time
        self._release_held()
        return True

    def _audio(self, packet: av.Packet[Any]) -> None:
        assert self.audio is not None
        time = self.audio.time(packet)
        if self.origin is None:
            self.held.append(packet)
            while self.held and self.audio.time(self.held[0]) < time - _HOLD_SECONDS:
                self.held.popleft()
            return
        self._audio_after_start(packet, time)

    def _audio_after_start(self, packet: av.Packet[Any], time: float) -> None:
        assert self.origin is not None and self.audio is not None
        if time >= self.end - _EPSILON:
            self.audio_done = True
            return
        if time < self.origin - _EPSILON or self.audio_done:
            return
        if self.transcode:
            self._transcode(packet)
        else:
            self._mux_shifted(packet, self.audio, packet.pts, packet.dts)

    def _release_held(self) -> None:
        while self.held and self.audio is not None:
            packet = self.held.popleft()
            self._audio_after_start(packet, self.audio.time(packet))

    def _mux_shifted(
        self, packet: av.Packet[Any], track: _Track, pts: int | None, dts: int | None
    ) -> None:
        if pts is not None:
            packet.pts = pts - track.shift
        if dts is not None:
            packet.dts = dts - track.shift
        packet.stream = track.out
        self.sink.mux_one(packet)

    def _transcode(self, packet: av.Packet[Any]) -> None:
        assert self.audio_in is not None and self.encoder is not None and self.audio is not None
        try:
            frames = self.audio_in.codec_context.decode(packet)
        except av.error.InvalidDataError:
            return  # one damaged audio packet costs a few ms of silence, not the recording
        for frame in frames:
            if frame.pts is None:
                continue
            frame.pts -= self.audio.shift
            if frame.pts < 0:
                continue
            self.sink.mux(self.encoder.encode(frame))

    def _flush_audio(self) -> None:
        if self.encoder is not None and self.origin is not None:
            self.sink.mux(self.encoder.encode(None))

    def _report(self, progress: Progress) -> None:
        if self.origin is None or self.total <= 0:
            return
        fraction = (self.last_time - self.origin) / self.total
        if fraction - self.reported >= _PROGRESS_STEP:
            self.reported = fraction
            progress(min(0.999, fraction))
