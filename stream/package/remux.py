"""Package a recording without re-encoding video: MP4 with chapters (faststart) and VOD HLS.

Both functions stream packets from the source to the output (memory stays flat whatever the
length), copy the video as it is, copy AAC audio and transcode any other audio to AAC, and
write to a temporary name that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from av.container import OutputContainer

from stream.package.chapters import Chapter
from stream.package.pipeline import CopyReport, Cut, Pipeline, Progress
from stream.package.poster import POSTER_NAME, write_poster
from stream.package.probe import (
    BrokenMedia,
    MediaInfo,
    RecordingError,
    UnsupportedCodec,
    open_input,
    probe,
)

if TYPE_CHECKING:
    from av.container.core import Chapter as AvChapter

HLS_PLAYLIST = "index.m3u8"
MP4_NAME = "recording.mp4"
HLS_DIR = "hls"
_CHAPTER_TIME_BASE = Fraction(1, 1000)


@dataclass(frozen=True, slots=True)
class Mp4Result:
    """The MP4 written, in output time (seconds from its first frame)."""

    path: Path
    duration: float
    chapters: tuple[Chapter, ...]
    cut_start: float  # where the output starts, seconds from the start of the source
    audio_transcoded: bool


@dataclass(frozen=True, slots=True)
class HlsResult:
    """The VOD HLS rendition written into `directory`."""

    directory: Path
    playlist: Path
    segments: int
    duration: float
    cut_start: float
    audio_transcoded: bool


def remux_to_mp4(
    src: str | Path,
    dst: str | Path,
    *,
    chapters: Sequence[Chapter | tuple[str, float]] = (),
    trim: tuple[float | None, float | None] | None = None,
    progress: Progress | None = None,
) -> Mp4Result:
    """Remux `src` into a faststart MP4 at `dst` with chapters, optionally trimmed at keyframes.

    Chapter starts and the trim range are seconds from the start of the source. Trimming
    starts at the last keyframe at or before `trim[0]` and stops at the first keyframe at or
    after `trim[1]`, so nothing is re-encoded. Returned chapter times are in output time.
    """
    info = probe(src)
    if not info.mp4_copy:
        raise UnsupportedCodec(
            f"{info.path.name}: {info.video.codec} video cannot go into MP4 without re-encoding"
        )
    dst = Path(dst)
    cut = keyframe_cut(info, trim)
    tmp = _temp_name(dst)
    try:
        with open_input(info.path) as source, _open_mp4(tmp) as sink:
            pipeline = Pipeline(info, source, sink, cut)
            length = _plan_length(info, cut)
            out_chapters = shift_chapters(chapters, info, cut, length)
            sink.set_chapters(_chapter_dicts(out_chapters, length))
            report = pipeline.run(progress)
        _reject_empty(report, info)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    final = tuple(c for c in out_chapters if c.start < report.duration)
    return Mp4Result(
        dst, report.duration, final, report.start - info.start_time, report.audio_transcoded
    )


def package_hls_vod(
    src: str | Path,
    out_dir: str | Path,
    *,
    segment_seconds: float = 6,
    trim: tuple[float | None, float | None] | None = None,
    progress: Progress | None = None,
) -> HlsResult:
    """Write a VOD HLS rendition of `src` (MPEG-TS segments cut at keyframes) into `out_dir`.

    The directory is built under a temporary name and swapped in when complete; an existing
    `out_dir` is replaced. The playlist is `out_dir / "index.m3u8"`.
    """
    info = probe(src)
    if not info.hls_copy:
        raise UnsupportedCodec(
            f"{info.path.name}: HLS needs H.264 video; {info.video.codec} would need re-encoding"
        )
    out_dir = Path(out_dir)
    cut = keyframe_cut(info, trim)
    tmp = _temp_name(out_dir)
    tmp.mkdir(parents=True)
    try:
        with open_input(info.path) as source, _open_hls(tmp, segment_seconds) as sink:
            report = Pipeline(info, source, sink, cut).run(progress)
        _reject_empty(report, info)
        _swap_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    segments = sum(1 for p in out_dir.iterdir() if p.suffix == ".ts")
    return HlsResult(
        out_dir,
        out_dir / HLS_PLAYLIST,
        segments,
        report.duration,
        report.start - info.start_time,
        report.audio_transcoded,
    )


@dataclass(frozen=True, slots=True)
class Renditions:
    """Both renditions of one recording, and what the source was."""

    info: MediaInfo
    mp4: Mp4Result
    hls: HlsResult


def package_recording(
    src: str | Path,
    out_dir: str | Path,
    *,
    chapters: Sequence[Chapter | tuple[str, float]] = (),
    trim: tuple[float | None, float | None] | None = None,
    segment_seconds: float = 6,
    progress: Progress | None = None,
) -> Renditions:
    """Write `out_dir/recording.mp4` and `out_dir/hls/index.m3u8`: both or neither.

    A poster frame (`out_dir/poster.jpg`, a picture from 2 s in) comes with them when one
    can be decoded; its absence is not an error.

    `out_dir` belongs to packaging: it is built under a temporary name and swapped in
    whole, replacing an earlier `out_dir` (keep captions and slides elsewhere). Progress
    runs 0–0.5 for the MP4 and 0.5–1 for HLS.
    """
    info = probe(src)
    if not info.hls_copy:
        raise UnsupportedCodec(
            f"{info.path.name}: HLS needs H.264 video; {info.video.codec} would need re-encoding"
        )
    out_dir = Path(out_dir)
    tmp = _temp_name(out_dir)
    tmp.mkdir(parents=True)
    try:
        mp4 = remux_to_mp4(
            info.path, tmp / MP4_NAME, chapters=chapters, trim=trim,
            progress=_scaled(progress, 0.0, 0.5),
        )  # fmt: skip
        hls = package_hls_vod(
            info.path, tmp / HLS_DIR, segment_seconds=segment_seconds, trim=trim,
            progress=_scaled(progress, 0.5, 1.0),
        )  # fmt: skip
        write_poster(tmp / MP4_NAME, tmp / POSTER_NAME)
        _swap_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Renditions(
        info,
        replace(mp4, path=out_dir / MP4_NAME),
        replace(hls, directory=out_dir / HLS_DIR, playlist=out_dir / HLS_DIR / HLS_PLAYLIST),
    )


def _scaled(progress: Progress | None, low: float, high: float) -> Progress | None:
    if progress is None:
        return None
    report = progress

    def scaled(fraction: float) -> None:
        report(low + (high - low) * fraction)

    return scaled


def _open_mp4(path: Path) -> OutputContainer:
    # faststart: moov goes before mdat, so browsers can play while downloading.
    return av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})


def _open_hls(directory: Path, segment_seconds: float) -> OutputContainer:
    options = {
        "hls_time": f"{segment_seconds:g}",
        "hls_playlist_type": "vod",
        "hls_list_size": "0",
        "hls_segment_type": "mpegts",
        "hls_flags": "independent_segments",
        "hls_segment_filename": str(directory / "seg_%05d.ts"),
    }
    return av.open(str(directory / HLS_PLAYLIST), "w", format="hls", options=options)


def keyframe_cut(info: MediaInfo, trim: tuple[float | None, float | None] | None) -> Cut:
    """Turn a trim range (seconds from the source's start) into keyframe times.

    Reads the video packets once (no decoding) to find the keyframes; only done when trimming.
    """
    if trim is None or (trim[0] is None and trim[1] is None):
        return Cut()
    start, end = trim
    if start is not None and end is not None and end <= start:
        raise RecordingError(
            f"trim end ({end:g} s) must be after trim start ({start:g} s)", code="recording.trim"
        )
    keys = keyframe_times(info)
    origin = info.start_time
    cut_start = None
    if start is not None:
        before = [k for k in keys if k <= origin + start + 1e-3]
        cut_start = before[-1] if before else keys[0]
    cut_end = None
    if end is not None:
        after = [
            k for k in keys if k >= origin + end - 1e-3 and (cut_start is None or k > cut_start)
        ]
        cut_end = after[0] if after else None
    return Cut(cut_start, cut_end)


def keyframe_times(info: MediaInfo) -> list[float]:
    """Times (seconds, source timestamps) of every video keyframe, in order."""
    keys: list[float] = []
    with open_input(info.path) as source:
        video = source.streams[info.video.index]
        try:
            for packet in source.demux(video):
                if packet.is_keyframe and packet.pts is not None and packet.time_base:
                    keys.append(float(packet.pts * packet.time_base))
        except av.error.FFmpegError as exc:
            raise BrokenMedia(f"{info.path.name}: reading failed ({exc.strerror})") from exc
    if not keys:
        raise BrokenMedia(f"{info.path.name}: no video keyframe")
    return sorted(keys)


def shift_chapters(
    chapters: Sequence[Chapter | tuple[str, float]], info: MediaInfo, cut: Cut, length: float
) -> tuple[Chapter, ...]:
    """Move chapters (seconds from the source start) to output time, dropping cut-away ones.

    A chapter that began before the cut but runs past it starts at 0 in the output.
    """
    items = sorted(
        (c if isinstance(c, Chapter) else Chapter(*c) for c in chapters), key=lambda c: c.start
    )
    offset = (cut.start - info.start_time) if cut.start is not None else 0.0
    shifted: list[Chapter] = []
    for i, chapter in enumerate(items):
        next_start = items[i + 1].start if i + 1 < len(items) else float("inf")
        start = chapter.start - offset
        if next_start - offset <= 0 or start >= length:
            continue
        shifted.append(Chapter(chapter.title, max(0.0, start)))
    return tuple(shifted)


def _plan_length(info: MediaInfo, cut: Cut) -> float:
    """Expected output length, known before the copy (chapters are written with the header)."""
    start = cut.start if cut.start is not None else info.start_time
    end = cut.end if cut.end is not None else info.start_time + info.duration
    return max(0.0, end - start)


def _chapter_dicts(chapters: Sequence[Chapter], length: float) -> list[AvChapter]:
    result: list[AvChapter] = []
    for i, chapter in enumerate(chapters):
        end = chapters[i + 1].start if i + 1 < len(chapters) else max(length, chapter.start)
        result.append(
            {
                "id": i + 1,
                "start": round(chapter.start / _CHAPTER_TIME_BASE),
                "end": round(end / _CHAPTER_TIME_BASE),
                "time_base": _CHAPTER_TIME_BASE,
                "metadata": {"title": chapter.title},
            }
        )
    return result


def _reject_empty(report: CopyReport, info: MediaInfo) -> None:
    if report.duration <= 0:
        raise BrokenMedia(f"{info.path.name}: nothing left to package")


def _temp_name(final: Path) -> Path:
    """A hidden sibling of `final`: same filesystem, so the last rename is atomic."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.with_name(f".{final.name}.part-{secrets.token_hex(4)}")


def _swap_dir(new: Path, final: Path) -> None:
    """Put directory `new` at `final`; an old `final` is moved aside first, then removed."""
    if not final.exists():
        os.replace(new, final)
        return
    old = final.with_name(f".{final.name}.old-{secrets.token_hex(4)}")
    os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)
