"""The sign-language interpreter's recording, kept beside the main recording it belongs to.

The interpreter streams on a stream of its own (`live.streaming.whip.interpreter_name`); when
it ends, its MP4 is parked under `SALEN_RECORDINGS_DIR/interpreters/{slug}/` with its start
time, then attached to the event's stream recording that was running at that moment:
moved to `archive/<id>/interpreter/interpreter.mp4` with `interpreter.json` holding
`{"offset": seconds}` — how long after the main recording's start it began. Either stream
may end first: parked files are attached when the interpreter's ends (if the main
recording is already there) and again whenever a stream recording is registered. A
recording already holding an interpreter keeps it; a second one stays parked (nothing is
thrown away).

The player (static/js/interpreter-pip.js) plays it picture-in-picture at main time
`t + cut_start - offset`, so the two stay on the same wall clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from live.models import Event, Recording
from live.settings import Settings

log = logging.getLogger(__name__)
FOLDER = "interpreter"
FILE = "interpreter.mp4"
META = "interpreter.json"
SLACK = 60.0  # seconds the two streams' starts and ends may differ and still belong together


def parked_dir(settings: Settings, slug: str) -> Path:
    """Where an event's interpreter recordings wait for their main recording."""
    return Path(settings.recordings_dir) / "interpreters" / slug


def interpreter_info(folder: Path) -> dict[str, Any] | None:
    """`{"offset": seconds}` when the recording in `folder` has an interpreter, else None."""
    if not (folder / FOLDER / FILE).is_file():
        return None
    try:
        meta = json.loads((folder / FOLDER / META).read_text(encoding="utf-8"))
        return {"offset": float(meta["offset"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {"offset": 0.0}


async def park(settings: Settings, slug: str, path: Path, started_at: dt.datetime) -> Path:
    """Move a finished interpreter MP4 into the event's waiting folder, with its start."""
    folder = parked_dir(settings, slug)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(path).name
    await asyncio.to_thread(shutil.move, str(path), target)
    target.with_suffix(".json").write_text(
        json.dumps({"started_at": started_at.isoformat()}), encoding="utf-8"
    )
    return target


async def attach_parked(archive: Any, slug: str) -> list[int]:
    """Attach every waiting interpreter recording of `slug` that has its main recording."""
    folder = parked_dir(archive.settings, slug)
    attached: list[int] = []
    for mp4 in sorted(folder.glob("*.mp4")) if folder.is_dir() else []:
        try:
            meta = json.loads(mp4.with_suffix(".json").read_text(encoding="utf-8"))
            started = dt.datetime.fromisoformat(meta["started_at"])
        except (OSError, ValueError, KeyError):
            continue
        async with archive.db() as session:
            rows = await session.scalars(
                select(Recording).join(Event).where(Event.slug == slug,
                                                    Recording.source == "stream"))
            match = _running_at(list(rows), started)
        if match is None:
            continue
        target = archive.folder(match.id) / FOLDER
        if (target / FILE).exists():
            log.warning("recording %s has an interpreter already; %s stays parked", match.id, mp4)
            continue
        assert match.started_at is not None
        offset = (started - _aware(match.started_at)).total_seconds()
        target.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.move, str(mp4), target / FILE)
        (target / META).write_text(json.dumps({"offset": offset}), encoding="utf-8")
        mp4.with_suffix(".json").unlink(missing_ok=True)
        attached.append(match.id)
    return attached


def _running_at(recordings: list[Recording], moment: dt.datetime) -> Recording | None:
    """The recording that was running at `moment` (within SLACK), the latest such."""
    best: Recording | None = None
    for r in recordings:
        if r.started_at is None:
            continue
        start = _aware(r.started_at)
        end = start + dt.timedelta(seconds=(r.duration or 0) + SLACK)
        if start - dt.timedelta(seconds=SLACK) <= moment <= end and (
            best is None or start > _aware(best.started_at)  # type: ignore[arg-type]
        ):
            best = r
    return best


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
