"""Import, packaging, trimming and publishing of recordings (no HTTP here).

Packaging runs PyAV on a worker thread; the asyncio side polls its progress into
`Recording.progress` so pages and the API can show it. `Archive` lives on the app's
lifespan state and keeps strong references to its background tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from live.archive.chapters import derive_chapters, programme_start, to_output_time
from live.errors import Conflict, Invalid, NotFound
from live.events.service import find_event, load_event
from live.models import Event, Recording, RecordingState, utcnow
from live.settings import Settings
from stream.package import HLS_PLAYLIST, Chapter, keyframe_cut, package_recording
from stream.package.probe import MediaInfo, RecordingError, UnsupportedCodec, probe

log = logging.getLogger(__name__)

MEDIA_DIR = "media"  # belongs to the packager, swapped in whole (stream.package)
MP4_NAME = "recording.mp4"
HLS_DIR = "hls"
CAPTIONS_DIR = "captions"
ATTACHMENTS_DIR = "attachments"
Progress = Callable[[float], None]
_POLL_SECONDS = 0.25


def recording_dir(settings: Settings, recording_id: int) -> Path:
    """The folder holding one recording's files."""
    return Path(settings.recordings_dir) / "archive" / str(recording_id)


@dataclass
class _Meter:
    """Progress shared between the packaging thread and the task that stores it."""

    value: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, value: float) -> None:
        with self.lock:
            self.value = value

    def get(self) -> float:
        with self.lock:
            return self.value


@dataclass(frozen=True, slots=True)
class Packaged:
    """What packaging produced, in output time."""

    duration: float
    cut_start: float
    chapters: list[dict[str, Any]]


def package(
    source: Path,
    folder: Path,
    chapters: list[dict[str, Any]],
    trim: tuple[float | None, float | None] | None,
    progress: Progress | None = None,
) -> Packaged:
    """Blocking: write the MP4 (chapters, faststart) and the VOD HLS into folder/media, both or neither."""
    marks = [Chapter(c["title"], float(c["start"])) for c in chapters]
    done = package_recording(
        source, folder / MEDIA_DIR, chapters=marks, trim=trim, progress=progress
    )
    out = [{"title": c.title, "start": round(c.start, 3)} for c in done.mp4.chapters]
    items = {c["title"]: c.get("item") for c in chapters}
    for chapter in out:
        if items.get(chapter["title"]) is not None:
            chapter["item"] = items[chapter["title"]]
    return Packaged(done.mp4.duration, chapter_offset(done.info, trim), out)


def chapter_offset(info: MediaInfo, trim: tuple[float | None, float | None] | None) -> float:
    """Seconds of source cut away before the output, as the packager shifts chapters by.

    (`Mp4Result.cut_start` is the first packet's time, which can differ by a frame or an
    audio priming delay; chapters and questions must move by the same amount as chapters.)
    """
    cut = keyframe_cut(info, trim)
    return (cut.start - info.start_time) if cut.start is not None else 0.0


def check_source(path: Path) -> MediaInfo:
    """Blocking: probe an incoming file and refuse what cannot be packaged without re-encoding.

    Every published recording has both an MP4 and an HLS rendition, and HLS (MPEG-TS
    segments) needs H.264, so other video codecs are refused rather than half-packaged.
    """
    info = probe(path)
    if not (info.mp4_copy and info.hls_copy):
        raise UnsupportedCodec(
            f"{path.name}: {info.video.codec} video cannot be published without re-encoding; "
            "convert it to H.264 first",
            fields={"codec": info.video.codec},
        )
    return info


class Archive:
    """The archive's service object: one per app (or per CLI run)."""

    def __init__(self, settings: Settings, db: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.db = db
        self._tasks: set[asyncio.Task[None]] = set()
        self._resume_lock: int | None = None
        # Transcriptions of this process (`live.archive.transcripts`): the recordings being
        # transcribed and the tasks waiting on their worker processes.
        self.transcribing: set[int] = set()
        self.transcriptions: set[asyncio.Task[Any]] = set()
        # Told of each recording packaged here (the live captions' draft track, say).
        self.on_ready: list[Callable[[int], Awaitable[None]]] = []

    def folder(self, recording_id: int) -> Path:
        return recording_dir(self.settings, recording_id)

    async def import_file(
        self,
        slug: str,
        path: Path,
        *,
        started_at: dt.datetime | None = None,
        title: str = "",
        source: str = "import",
        move: bool = False,
        wait: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Check `path`, create a processing Recording for event `slug`, and package it.

        With `wait` the packaging is awaited (CLI); otherwise it runs in the background.
        A file that is not a usable video raises (RecordingError) before anything is created.
        """
        info = await asyncio.to_thread(check_source, path)
        async with self.db() as session, session.begin():
            event = await load_event(session, slug)
            started = started_at or programme_start(event)
            recording = Recording(
                event_id=event.id,
                state=RecordingState.PROCESSING,
                title=title or event.title,
                started_at=started,
                duration=info.duration,
                source=source,
                progress=0.0,
                chapters=derive_chapters(event, started, info.duration),
            )
            session.add(recording)
            await session.flush()
            recording_id = recording.id
            folder = self.folder(recording_id)
            folder.mkdir(parents=True, exist_ok=True)
            recording.source_file = "source" + (path.suffix.lower() or ".bin")
            target = folder / recording.source_file
            await asyncio.to_thread(shutil.move if move else shutil.copyfile, path, target)
        if wait:
            await self.process(recording_id, progress)
        else:
            self.spawn(self.process(recording_id, progress))
        return recording_id

    async def register_stream_recording(
        self, slug: str, path: Path, started_at: dt.datetime
    ) -> int:
        """Take a finished live-stream recording into the archive (the stream's on_finished);
        an interpreter recording waiting for it is attached."""
        from live.archive.interpreter import attach_parked

        rid = await self.import_file(
            slug, Path(path), started_at=started_at, source="stream", move=True
        )
        await attach_parked(self, slug)
        return rid

    async def register_interpreter_recording(
        self, slug: str, path: Path, started_at: dt.datetime
    ) -> list[int]:
        """Keep a finished interpreter recording with the event's main recording (or park it
        until that arrives); the ids it was attached to."""
        from live.archive.interpreter import attach_parked, park

        async with self.db() as session:
            await load_event(session, slug)  # NotFound for an event that is gone
        await park(self.settings, slug, Path(path), started_at)
        return await attach_parked(self, slug)

    @property
    def running(self) -> int:
        """Recordings being packaged by this process now."""
        return len(self._tasks)

    def spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume_unfinished(self) -> list[int]:
        """Package again every recording left `processing` (e.g. by a restart); returns their ids.

        Call it once at start-up from one process only: two processes resuming the same
        recording would package it twice (harmless, but wasted work).
        """
        async with self.db() as session:
            ids = list(
                await session.scalars(
                    select(Recording.id).where(Recording.state == RecordingState.PROCESSING)
                )
            )
        for recording_id in ids:
            self.spawn(self.process(recording_id))
        return ids

    async def resume_at_start_up(self) -> list[int]:
        """`resume_unfinished` in the one process of this machine that holds the resume lock.

        The lock (`.resume.lock` in the recordings folder) is held for the process's life, so
        with several workers exactly one resumes, and a worker restarted after the holder died
        takes over. Returns the ids resumed (none in the other processes).
        """
        root = Path(self.settings.recordings_dir)
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".resume.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return []
        self._resume_lock = fd
        resumed = await self.resume_unfinished()
        if resumed:
            log.info("packaging again recordings left unfinished: %s", resumed)
        return resumed

    async def wait_idle(self) -> None:
        """Wait until every background job has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Let running jobs finish: a cancelled thread would still run, and its row must end.
        Transcriptions (worker processes, `live.archive.transcripts`) are stopped instead:
        their checkpoints let them resume."""
        for task in list(self.transcriptions):
            task.cancel()
        await self.wait_idle()
        if self._resume_lock is not None:
            os.close(self._resume_lock)  # releases the lock
            self._resume_lock = None

    async def process(self, recording_id: int, progress: Progress | None = None) -> None:
        """Package the recording's source file, storing progress, then the outcome."""
        async with self.db() as session:
            recording = await self._get(session, recording_id)
            folder = self.folder(recording_id)
            source = folder / recording.source_file
            chapters = [dict(c, start=c["start"] + recording.cut_start) for c in recording.chapters]
            trim = (recording.trim_start, recording.trim_end)
            first = not (folder / MEDIA_DIR / MP4_NAME).exists()
        meter = _Meter()

        def report(value: float) -> None:
            meter.set(value)
            if progress is not None:
                progress(value)

        job = asyncio.ensure_future(
            asyncio.to_thread(package, source, folder, chapters, trim, report)
        )
        try:
            while not job.done():
                await asyncio.wait([job], timeout=_POLL_SECONDS)
                await self._store_progress(recording_id, meter.get())
            result = job.result()
        except (RecordingError, av.FFmpegError, OSError) as exc:
            await self._failed(recording_id, exc, first)
            return
        await self._finished(recording_id, result)
        for hook in self.on_ready:
            try:
                await hook(recording_id)
            except Exception:
                log.exception("after packaging recording %s", recording_id)

    async def _store_progress(self, recording_id: int, value: float) -> None:
        async with self.db() as session, session.begin():
            recording = await session.get(Recording, recording_id)
            if recording is not None and recording.progress != value:
                recording.progress = value

    async def _finished(self, recording_id: int, result: Packaged) -> None:
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            recording.duration = result.duration
            recording.cut_start = result.cut_start
            recording.chapters = result.chapters
            recording.progress = 1.0
            recording.error = ""
            if recording.state != RecordingState.PUBLISHED:
                recording.state = RecordingState.READY

    async def _failed(self, recording_id: int, exc: BaseException, first: bool) -> None:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        log.warning("recording %s: packaging failed: %s", recording_id, message)
        folder = self.folder(recording_id)
        if first:  # the packager leaves nothing half-made; make sure nothing is served
            shutil.rmtree(folder / MEDIA_DIR, ignore_errors=True)
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            recording.error = message[:500]
            recording.progress = 0.0 if first else 1.0
            if first:
                recording.state = RecordingState.FAILED
            elif recording.state == RecordingState.PROCESSING:
                recording.state = RecordingState.READY

    async def _get(self, session: AsyncSession, recording_id: int) -> Recording:
        recording = await session.get(Recording, recording_id)
        if recording is None:
            raise NotFound("No recording with that number.", code="recording.not_found")
        return recording

    async def set_published(self, recording_id: int, published: bool) -> None:
        """Publish a ready recording, or take a published one back to ready."""
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            if published and recording.state not in (
                RecordingState.READY,
                RecordingState.PUBLISHED,
            ):
                raise Conflict(
                    "Only a recording that has finished processing can be published.",
                    code="recording.not_ready",
                )
            if published and recording.state == RecordingState.READY:
                recording.state = RecordingState.PUBLISHED
                recording.published_at = utcnow()
            elif not published and recording.state == RecordingState.PUBLISHED:
                recording.state = RecordingState.READY

    async def set_chapters(self, recording_id: int, chapters: list[dict[str, Any]]) -> None:
        """Replace the chapters (output time); the MP4 is re-packaged to carry them."""
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            self._check_idle(recording)
            recording.chapters = chapters
            self._begin(recording)
        self.spawn(self.process(recording_id))

    async def set_trim(self, recording_id: int, start: float | None, end: float | None) -> None:
        """Cut the recording to [start, end] in source seconds (keyframes, no re-encode)."""
        if start is not None and end is not None and end <= start:
            raise Invalid("The end must come after the start.", code="trim.invalid")
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            self._check_idle(recording)
            # Chapters go back to source time so the packager can place them after the new cut.
            source_chapters = [
                dict(c, start=c["start"] + recording.cut_start) for c in recording.chapters
            ]
            recording.trim_start, recording.trim_end = start, end
            recording.chapters = to_output_time(source_chapters, 0.0)
            recording.cut_start = 0.0
            self._begin(recording)
        self.spawn(self.process(recording_id))

    async def reset_chapters(self, recording_id: int) -> None:
        """Derive the chapters from the programme again (and re-package)."""
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            self._check_idle(recording)
            slug = await session.scalar(select(Event.slug).where(Event.id == recording.event_id))
            event = await load_event(session, slug or "")
            recording.chapters = to_output_time(
                derive_chapters(event, recording.started_at, None), recording.cut_start
            )
            self._begin(recording)
        self.spawn(self.process(recording_id))

    @staticmethod
    def _check_idle(recording: Recording) -> None:
        if recording.state == RecordingState.PROCESSING or (
            recording.state == RecordingState.PUBLISHED and recording.progress < 1.0
        ):
            raise Conflict(
                "The recording is being processed; try again when it is done.",
                code="recording.busy",
            )
        if recording.state == RecordingState.FAILED:
            raise Conflict(
                "This recording failed to process; import it again.", code="recording.failed"
            )

    @staticmethod
    def _begin(recording: Recording) -> None:
        recording.progress = 0.0
        if recording.state != RecordingState.PUBLISHED:
            recording.state = RecordingState.PROCESSING

    async def delete(self, recording_id: int) -> None:
        """Remove the recording and its files."""
        async with self.db() as session, session.begin():
            recording = await self._get(session, recording_id)
            if recording.state != RecordingState.FAILED:
                self._check_idle(recording)
            await session.delete(recording)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder(recording_id))


async def recordings_for_event(session: AsyncSession, slug: str) -> list[Recording]:
    """Every recording of the event, newest first."""
    event = await find_event(session, slug)
    rows = await session.scalars(
        select(Recording)
        .where(Recording.event_id == event.id)
        .order_by(Recording.created_at.desc())
        .options(selectinload(Recording.captions))
    )
    return list(rows)


__all__ = ["HLS_PLAYLIST", "Archive", "package", "recording_dir", "recordings_for_event"]
