"""Synthetic test recordings made with PyAV's lavfi sources (no files, no network, no ffmpeg CLI)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import PictureType
from av.video.stream import VideoStream

_VIDEO_ENCODERS = {"h264": "libx264", "hevc": "libx265", "mpeg4": "mpeg4"}
_AUDIO_ENCODERS = {"opus": "libopus", "aac": "aac", "mp3": "libmp3lame"}


def make_test_video(
    path: str | Path,
    seconds: float,
    *,
    container: str = "mpegts",
    video_codec: str = "h264",
    audio_codec: str | None = "opus",
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    gop_seconds: float = 2.0,
) -> Path:
    """Write a test-pattern video with a sine tone; keyframes exactly every `gop_seconds`."""
    path = Path(path)
    gop = max(1, round(fps * gop_seconds))
    with av.open(str(path), "w", format=container) as out:
        vstream = _add_video(out, video_codec, size, fps, gop)
        astream = _add_audio(out, audio_codec) if audio_codec else None
        sources = [_video_packets(vstream, seconds, size, fps)]
        if astream is not None:
            sources.append(_audio_packets(astream, seconds))
        # Interleave by time so the file looks like a real recording.
        for _, _, packet in heapq.merge(*sources, key=lambda item: (item[0], item[1])):
            out.mux(packet)
    return path


def _add_video(
    out: OutputContainer, codec: str, size: tuple[int, int], fps: int, gop: int
) -> VideoStream:
    options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
    if codec == "h264":
        options.update(preset="ultrafast", bf="2")
    elif codec == "hevc":
        options.update(preset="ultrafast", **{"x265-params": "log-level=error"})
    stream = out.add_stream(_VIDEO_ENCODERS[codec], rate=fps, options=options)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    return stream


def _add_audio(out: OutputContainer, codec: str) -> AudioStream:
    stream = out.add_stream(_AUDIO_ENCODERS[codec], rate=48000, layout="mono")
    assert isinstance(stream, AudioStream)
    return stream


def _video_packets(
    stream: VideoStream, seconds: float, size: tuple[int, int], fps: int
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    spec = f"testsrc=size={size[0]}x{size[1]}:rate={fps}:duration={seconds}"
    with av.open(spec, format="lavfi") as source:
        for frame in source.decode(video=0):
            frame = frame.reformat(format="yuv420p")
            # lavfi marks every frame as I, which would force an IDR per frame.
            frame.pict_type = PictureType.NONE
            yield from _timed(stream.encode(frame), 0)
    yield from _timed(stream.encode(None), 0)


def _audio_packets(
    stream: AudioStream, seconds: float
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    spec = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    with av.open(spec, format="lavfi") as source:
        for frame in source.decode(audio=0):
            yield from _timed(stream.encode(frame), 1)
    yield from _timed(stream.encode(None), 1)


def _timed(
    packets: list[av.Packet[Any]], order: int
) -> Iterator[tuple[float, int, av.Packet[Any]]]:
    for packet in packets:
        dts = packet.dts if packet.dts is not None else packet.pts or 0
        yield float(dts * packet.time_base), order, packet
