"""Draft captions from offline speech recognition, for a recording in the archive.

    await start_transcription(archive, recording_id, wait=False)   # admin button, CLI
    transcript_status(archive, recording_id) -> {"state", "progress", "error", "lang"} | None

The work runs in a worker process (`stream.transcribe.worker`), never in the server's
loop or threads, on the packaged MP4 (so cue times are the player's times). The result is
stored as a caption track the way uploaded captions are (`captions/<lang>-auto.vtt` and a
`RecordingCaption` row), where the organiser corrects it. Its state is a small JSON file in
the recording's folder (`transcript.json`), rewritten whole on each change, so every
server process sees it; the worker's checkpoint (`.transcribe/`) lets a run cut short
(server stopped, process killed) resume where it was when started again. A state left
`running` by a process that is gone shows as `interrupted`.

Engine and model come from the settings `SALEN_TRANSCRIBE_ENGINE`, `SALEN_TRANSCRIBE_MODEL`
and `SALEN_TRANSCRIBE_LANGUAGE`.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from live.archive.service import CAPTIONS_DIR, MEDIA_DIR, MP4_NAME
from live.errors import Conflict, NotFound
from live.i18n import N_
from live.models import Recording, RecordingState
from live.models.base import utcnow
from live.models.recordings import RecordingCaption
from stream.transcribe.worker import TranscriptionFailed, is_running, run_worker

STATUS = "transcript.json"
WORK = ".transcribe"
# the organiser's words for a failed transcription's codes (the worker's own message else)
FAILURES = {
    "transcribe.no_audio": N_("The recording has no sound, so there is nothing to transcribe."),
    "transcribe.engine": N_("The speech recognition engine or its model could not be loaded: "
                            "ask the operator to check SALEN_TRANSCRIBE_ENGINE and "
                            "SALEN_TRANSCRIBE_MODEL."),
    "transcribe.failed": N_("The transcription stopped before it was done. Start it again to "
                            "resume where it stopped."),
}


def draft_lang(language: str) -> str:
    """The caption track code of a draft in `language`: `nb-auto`."""
    return f"{language}-auto"


def transcript_status(archive: Any, recording_id: int) -> dict[str, Any] | None:
    """The transcription's state for the admin page; None if it never ran."""
    try:
        status: dict[str, Any] = json.loads(
            (archive.folder(recording_id) / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    status["message"] = FAILURES.get(str(status.get("code", "")), str(status.get("error", "")))
    if status.get("state") == "running" and recording_id not in archive.transcribing and \
            not is_running(archive.folder(recording_id) / WORK):
        status["state"] = "interrupted"
    return status


async def start_transcription(
    archive: Any, recording_id: int, *, wait: bool = False,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Transcribe the recording's MP4 in a worker process (awaited with `wait`).

    Conflict when it is still being packaged or is being transcribed already.
    """
    async with archive.db() as session:
        recording = await session.get(Recording, recording_id)
        if recording is None:
            raise NotFound("No such recording.", code="recording.unknown")
        if recording.state not in (RecordingState.READY, RecordingState.PUBLISHED):
            raise Conflict("The recording is not ready yet: transcribe it once it is.",
                           code="transcribe.not_ready")
    if recording_id in archive.transcribing or is_running(archive.folder(recording_id) / WORK):
        raise Conflict("The recording is being transcribed already.", code="transcribe.running")
    archive.transcribing.add(recording_id)
    _write_status(archive, recording_id, state="running", progress=0.0)
    work = _run(archive, recording_id, progress)
    if wait:
        if (failed := await work) is not None:
            raise failed
        return
    task = asyncio.get_running_loop().create_task(work)
    archive.transcriptions.add(task)
    task.add_done_callback(archive.transcriptions.discard)


async def _run(
    archive: Any, recording_id: int, progress: Callable[[float], None] | None
) -> TranscriptionFailed | None:
    """The transcription; its refusal is returned (and kept in the state file), not raised."""
    settings = archive.settings
    folder: Path = archive.folder(recording_id)
    lang = draft_lang(settings.transcribe_language)

    def report(fraction: float) -> None:
        _write_status(archive, recording_id, state="running", progress=fraction)
        if progress is not None:
            progress(fraction)

    try:
        # Still "transcribing" until the final state is written: a page read in between
        # would otherwise take the finished worker for an interrupted one.
        return await _transcribe(archive, recording_id, folder, lang, report)
    finally:
        archive.transcribing.discard(recording_id)


async def _transcribe(
    archive: Any, recording_id: int, folder: Path, lang: str, report: Callable[[float], None]
) -> TranscriptionFailed | None:
    settings = archive.settings
    try:
        cues = await run_worker(
            folder / MEDIA_DIR / MP4_NAME, folder / CAPTIONS_DIR / f"{lang}.vtt", folder / WORK,
            engine=settings.transcribe_engine, model=settings.transcribe_model,
            language=settings.transcribe_language, progress=report,
        )
    except TranscriptionFailed as exc:
        _write_status(archive, recording_id, state="failed", progress=0.0, error=exc.message,
                      code=exc.code)
        return exc
    async with archive.db() as session, session.begin():
        recording = await session.get(Recording, recording_id)
        if recording is not None:
            if all(c.lang != lang for c in recording.captions):
                recording.captions.append(RecordingCaption(
                    lang=lang, label=f"{settings.transcribe_language} (automatic draft)"))
            recording.updated_at = utcnow()  # the archive's search sees the new transcript
    _write_status(archive, recording_id, state="done", progress=1.0, cues=cues)
    return None


def _write_status(archive: Any, recording_id: int, **status: Any) -> None:
    folder: Path = archive.folder(recording_id)
    status.setdefault("error", "")
    status["lang"] = draft_lang(archive.settings.transcribe_language)
    fd, tmp = tempfile.mkstemp(prefix=f".{STATUS}.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(status, f)
    os.replace(tmp, folder / STATUS)
