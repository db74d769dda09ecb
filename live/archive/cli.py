"""`salen recording import FILE --event SLUG [--started-at ISO-TIME]`: import with a progress bar;
`salen recording transcribe ID`: draft captions by speech recognition, with a progress bar."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import TextIO
from zoneinfo import ZoneInfo

from live.errors import Invalid
from live.settings import Settings

BAR_WIDTH = 30


class ProgressBar:
    """A one-line progress bar on a terminal stream (stderr), redrawn only when it changes."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self.shown = stream, label, -1

    def __call__(self, fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if percent == self.shown:
            return
        self.shown = percent
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def parse_started_at(text: str | None, timezone: str) -> dt.datetime | None:
    """An ISO time; without an offset it is read in the site's time zone."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"--started-at {text!r} is not an ISO time such as 2026-10-21T10:00",
            code="started_at.invalid",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(timezone))


def recording_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import args.file for args.event, wait for packaging, print the recording's id."""
    from live.archive.service import Archive
    from live.db import create_engine, sessionmaker
    from live.models import Recording

    started = parse_started_at(args.started_at, settings.timezone)
    if not args.file.is_file():
        raise Invalid(f"{args.file}: no such file", code="file.missing")
    bar = ProgressBar(sys.stderr, args.file.name)

    async def run() -> tuple[int, Recording | None]:
        engine = create_engine(settings.database_url)
        try:
            archive = Archive(settings, sessionmaker(engine))
            rid = await archive.import_file(
                args.event, args.file, started_at=started, title=args.title, wait=True, progress=bar
            )
            async with archive.db() as session:
                return rid, await session.get(Recording, rid)
        finally:
            await engine.dispose()

    rid, recording = asyncio.run(run())
    if recording is not None and recording.state == "failed":
        bar.done()
        print(f"error: recording {rid} failed: {recording.error}", file=sys.stderr)
        return 1
    bar(1.0)
    bar.done()
    print(rid)
    return 0


def recording_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    """Transcribe recording args.id in a worker process; print the draft caption file's URL."""
    from live.archive.service import Archive
    from live.archive.transcripts import draft_lang, start_transcription
    from live.db import create_engine, sessionmaker
    from stream.transcribe.worker import TranscriptionFailed

    bar = ProgressBar(sys.stderr, f"recording {args.id}")

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            archive = Archive(settings, sessionmaker(engine))
            await start_transcription(archive, args.id, wait=True, progress=bar)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except TranscriptionFailed as exc:
        bar.done()
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    bar.done()
    print(f"/recordings/{args.id}/files/captions/{draft_lang(settings.transcribe_language)}.vtt")
    return 0
