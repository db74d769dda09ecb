"""A poster frame for a packaged recording: one decoded picture, saved as JPEG with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.video.stream import VideoStream

POSTER_NAME = "poster.jpg"
POSTER_WIDTH = 640


def write_poster(src: str | Path, dst: str | Path, *, at: float = 2.0) -> Path | None:
    """Blocking: save the first picture at or after `at` seconds (else the first) as JPEG.

    The picture is scaled to at most `POSTER_WIDTH` pixels wide. Returns `dst`, or None
    when the file has no decodable picture (the player then shows none; nothing is raised).
    """
    try:
        frame = _frame_at(Path(src), at)
    except (av.FFmpegError, OSError):
        return None
    if frame is None:
        return None
    width = min(POSTER_WIDTH, frame.width) // 2 * 2
    height = max(2, round(frame.height * width / frame.width) // 2 * 2)
    codec = av.CodecContext.create("mjpeg", "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    data = b"".join(bytes(p) for p in codec.encode(picture) + codec.encode(None))
    Path(dst).write_bytes(data)
    return Path(dst)


def _frame_at(src: Path, at: float) -> av.VideoFrame | None:
    first: av.VideoFrame | None = None
    with av.open(str(src)) as container:
        stream = next((s for s in container.streams if isinstance(s, VideoStream)), None)
        if stream is None:
            return None
        for frame in container.decode(stream):
            first = first or frame
            if frame.time is not None and frame.time >= at:
                return frame
    return first
