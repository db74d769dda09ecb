"""A recording's first audio stream as 16 kHz mono signed 16-bit PCM, in chunks.

Decoding and resampling are PyAV's (libswresample); one chunk is held at a time, so a long
recording costs no more memory than a short one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
from av.audio.resampler import AudioResampler

from live.errors import Invalid

RATE = 16000
BYTES_PER_SECOND = RATE * 2


class NoAudio(Invalid):
    """The recording has no audio to transcribe."""

    code = "transcribe.no_audio"


def audio_duration(path: Path) -> float | None:
    """Seconds of the first audio stream (or the container), None if unknown; NoAudio if none."""
    with _open(path) as container:
        stream = _audio(container, path)
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / 1_000_000
    return None


def pcm_chunks(path: Path, chunk_seconds: float, start: float = 0.0) -> Iterator[tuple[float, bytes]]:
    """(offset in seconds, PCM) for each chunk of `chunk_seconds` from `start` on.

    Offsets count from the audio's first sample. Audio before `start` is decoded and
    dropped (resuming costs a decode of what was done, not a recognition of it).
    """
    chunk_bytes = int(chunk_seconds * RATE) * 2
    skip = int(start * RATE) * 2
    buffer = bytearray()
    offset = skip / BYTES_PER_SECOND
    with _open(path) as container:
        stream = _audio(container, path)
        resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        frames = container.decode(stream)
        for frame in frames:
            for out in resampler.resample(frame):
                data = bytes(out.planes[0])[: out.samples * 2]
                if skip:
                    dropped = min(skip, len(data))
                    data, skip = data[dropped:], skip - dropped
                buffer += data
                while len(buffer) >= chunk_bytes:
                    yield offset, bytes(buffer[:chunk_bytes])
                    del buffer[:chunk_bytes]
                    offset += chunk_bytes / BYTES_PER_SECOND
        for out in resampler.resample(None):
            buffer += bytes(out.planes[0])[: out.samples * 2][skip:]
            skip = 0
    if buffer:
        yield offset, bytes(buffer)


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise Invalid(f"{path.name}: cannot be read as media.", code="transcribe.unreadable") from exc


def _audio(container: av.container.InputContainer, path: Path) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise NoAudio(f"{path.name} has no sound, so there is nothing to transcribe.")
    return container.streams.audio[0]
