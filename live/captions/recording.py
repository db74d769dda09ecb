"""A recorded stream keeps its live captions: a draft WebVTT track on the recording's clock.

When a recording of a stream has been packaged (`Archive.on_ready`), the lines committed
while it ran become its caption track `nb` (`LABEL`), timed on the
recording's own clock: output time = wall-clock time − `started_at` − `cut_start`
(`live.models.Recording`). The track is not published by itself: it is a draft for the
organiser to correct (the recording's admin page) and publish with the recording. A
recording that already has an `nb` track keeps it (a re-packaging after a trim, say,
never overwrites the organiser's corrections).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.archive.service import CAPTIONS_DIR, recording_dir
from live.captions.domain import cues, webvtt
from live.captions.service import CaptionService
from live.models.recordings import Recording, RecordingCaption
from live.settings import Settings

LANG = "nb"
# The track's label is data (like an uploaded track's), in the events' language.
LABEL = "Teksting fra skrivetolk (utkast)"


def draft_tracks(
    settings: Settings, db: async_sessionmaker[AsyncSession], service: CaptionService
) -> Callable[[int], Awaitable[None]]:
    """The archive's `on_ready` hook that writes a recording's draft caption track."""

    async def on_ready(recording_id: int) -> None:
        await write_draft(settings, db, service, recording_id)

    return on_ready


async def write_draft(
    settings: Settings, db: async_sessionmaker[AsyncSession], service: CaptionService,
    recording_id: int,
) -> bool:
    """Write the recording's live captions as its `nb` track; False when there is nothing
    to write (not a stream, no lines while it ran, or a track there already)."""
    async with db() as session:
        recording = await session.get(Recording, recording_id)
        if (recording is None or recording.source != "stream" or recording.started_at is None
                or recording.duration is None
                or any(c.lang == LANG for c in recording.captions)):
            return False
        origin = recording.started_at + dt.timedelta(seconds=recording.cut_start)
        duration, event_id = recording.duration, recording.event_id
    lines = await service.between(event_id, origin, origin + dt.timedelta(seconds=duration))
    found = cues(lines, origin, until=duration)
    if not found:
        return False
    folder = recording_dir(settings, recording_id) / CAPTIONS_DIR
    text = webvtt(found)
    await asyncio.to_thread(_write, folder, text)
    async with db() as session, session.begin():
        recording = await session.get(Recording, recording_id)
        if recording is None or any(c.lang == LANG for c in recording.captions):
            return False
        recording.captions.append(RecordingCaption(lang=LANG, label=LABEL))
    return True


def _write(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{LANG}.vtt.part"
    partial.write_text(text, encoding="utf-8")
    partial.replace(folder / f"{LANG}.vtt")
