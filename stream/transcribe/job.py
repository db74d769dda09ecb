"""Transcribe one file: chunks through the engine, a checkpoint after each, WebVTT at the end.

The checkpoint (`work/checkpoint.json`) names the source (its size and modification time)
and holds the cues so far and the seconds done; it is rewritten whole (temporary file and
rename) after every chunk, so a crash leaves either the old or the new checkpoint. A run
with a checkpoint for the same source resumes at its end; one for another source is
ignored. `dst` is written to a hidden sibling and renamed into place when complete, and the
checkpoint is removed after that.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from stream.package.captions import format_timestamp
from stream.transcribe.audio import audio_duration, pcm_chunks
from stream.transcribe.engines import Engine, Segment

CHUNK_SECONDS = 30.0
CHECKPOINT = "checkpoint.json"
Progress = Callable[[float], None]


@dataclasses.dataclass(frozen=True, slots=True)
class Transcript:
    """What a finished run wrote: the WebVTT file, its cues, and where it resumed from."""

    path: Path
    segments: list[Segment]
    resumed_at: float


def transcribe_file(
    src: Path, dst: Path, engine: Engine, *, work: Path, progress: Progress | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
) -> Transcript:
    """Recognise `src`'s speech with `engine` into WebVTT at `dst`; see the module."""
    duration = audio_duration(src)
    work.mkdir(parents=True, exist_ok=True)
    identity = _identity(src)
    segments, done = _load_checkpoint(work / CHECKPOINT, identity)
    resumed_at = done
    for offset, pcm in pcm_chunks(src, chunk_seconds, start=done):
        segments.extend(engine.transcribe(pcm, offset))
        done = offset + len(pcm) / 32000
        _write_atomic(work / CHECKPOINT, json.dumps({
            "source": identity, "done": done,
            "segments": [dataclasses.asdict(s) for s in segments],
        }))
        if progress is not None and duration:
            progress(min(done / duration, 0.999))
    _write_atomic(dst, to_webvtt(segments))
    (work / CHECKPOINT).unlink(missing_ok=True)
    if progress is not None:
        progress(1.0)
    return Transcript(dst, segments, resumed_at)


def to_webvtt(segments: list[Segment]) -> str:
    """The segments as WebVTT cues; text is escaped (`&`, `<`, `>`)."""
    blocks = ["WEBVTT", ""]
    for s in segments:
        text = s.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks += [f"{format_timestamp(s.start)} --> {format_timestamp(max(s.end, s.start))}",
                   text, ""]
    return "\n".join(blocks)


def _identity(src: Path) -> str:
    stat = src.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _load_checkpoint(path: Path, identity: str) -> tuple[list[Segment], float]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved["source"] != identity:
            return [], 0.0
        return [Segment(**s) for s in saved["segments"]], float(saved["done"])
    except (OSError, ValueError, KeyError, TypeError):
        return [], 0.0


def _write_atomic(path: Path, text: str) -> None:
    """`text` into `path` through a hidden temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.part-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
