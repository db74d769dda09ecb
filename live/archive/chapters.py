"""Chapters of a recording: derived from the programme times, or edited by the organiser."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from live.bounds import MAX_SECONDS
from live.errors import Invalid
from live.models import Event, ProgrammeItem

MAX_CHAPTERS = 200
# One part of a typed time: digits, an optional fraction (no signs, exponents, nan or inf).
_TIME_PART = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")


@dataclass(frozen=True, slots=True)
class TimedItem:
    """A programme item with the moment it began (its own time, or its block's for the first)."""

    item: ProgrammeItem
    starts_at: dt.datetime


def timed_items(event: Event) -> list[TimedItem]:
    """The event's programme items that have a start time, in time order."""
    found: list[TimedItem] = []
    for block in event.blocks:
        for index, item in enumerate(block.items):
            start = item.starts_at or (block.starts_at if index == 0 else None)
            if start is not None:
                found.append(TimedItem(item, start))
    found.sort(key=lambda t: t.starts_at)
    return found


def programme_start(event: Event) -> dt.datetime | None:
    """When the programme began: the default start of a recording made without a clock."""
    items = timed_items(event)
    blocks = [b.starts_at for b in event.blocks if b.starts_at is not None]
    times = [t.starts_at for t in items] + blocks
    return min(times) if times else None


def derive_chapters(
    event: Event, started_at: dt.datetime | None, duration: float | None
) -> list[dict[str, Any]]:
    """One chapter per programme item, in seconds from `started_at` (source time).

    The item running when the recording began starts at 0; items that began earlier are
    left out, and so are items that begin after the recording ended.
    """
    if started_at is None:
        return []
    chapters: list[dict[str, Any]] = []
    for timed in timed_items(event):
        offset = (timed.starts_at - started_at).total_seconds()
        if duration is not None and offset >= duration:
            continue
        if offset <= 0:
            chapters = []  # a later item that is already running at 0 replaces earlier ones
            offset = 0.0
        chapters.append(
            {"title": timed.item.title, "start": round(offset, 3), "item": timed.item.id}
        )
    return chapters


def to_output_time(chapters: Iterable[dict[str, Any]], cut_start: float) -> list[dict[str, Any]]:
    """Chapters moved from source time to output time, dropping any before the cut."""
    moved = [dict(c, start=round(max(0.0, c["start"] - cut_start), 3)) for c in chapters]
    kept: list[dict[str, Any]] = []
    for chapter in moved:
        if kept and chapter["start"] <= 0:
            kept = []
        kept.append(chapter)
    return kept


def parse_chapter_lines(text: str) -> list[dict[str, Any]]:
    """Chapters from organiser text, one per line: `HH:MM:SS Title` (or `MM:SS Title`)."""
    chapters: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        stamp, _, title = line.partition(" ")
        try:
            start = parse_timestamp(stamp)
        except ValueError:
            raise Invalid(
                f"Line {number}: start with a time such as 00:12:30, then the title.",
                code="chapters.invalid",
                fields={"chapters": f"line {number}"},
            ) from None
        chapters.append({"title": title.strip(), "start": start})
    return validate_chapters(chapters, None)


def validate_chapters(chapters: Any, duration: float | None) -> list[dict[str, Any]]:
    """Check chapters from a form or the API: titles, times inside the recording, in order."""
    if not isinstance(chapters, list) or len(chapters) > MAX_CHAPTERS:
        raise Invalid(f"Give a list of at most {MAX_CHAPTERS} chapters.", code="chapters.invalid")
    result: list[dict[str, Any]] = []
    for index, chapter in enumerate(chapters, start=1):
        title = chapter.get("title") if isinstance(chapter, dict) else None
        start = chapter.get("start") if isinstance(chapter, dict) else None
        if not isinstance(title, str) or not title.strip() or len(title) > 300:
            raise Invalid(
                f"Chapter {index} needs a title (at most 300 characters).", code="chapters.invalid"
            )
        if not is_seconds(start):
            raise Invalid(
                f"Chapter {index} needs a start time in seconds.", code="chapters.invalid"
            )
        if duration is not None and start >= duration:
            raise Invalid(
                f"Chapter {index} starts after the recording ends.", code="chapters.invalid"
            )
        result.append({"title": title.strip(), "start": round(float(start), 3)})
    starts = [c["start"] for c in result]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise Invalid(
            "Chapters must be in order, each starting after the one before.",
            code="chapters.invalid",
        )
    return result


def is_seconds(value: object) -> TypeGuard[float]:
    """Is `value` a number of seconds Salen accepts: finite, 0 to `MAX_SECONDS`?"""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value <= MAX_SECONDS  # False for NaN


def parse_timestamp(text: str) -> float:
    """`01:02:03`, `02:03`, `123` or `01:02:03.5` to seconds; ValueError otherwise."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(_TIME_PART.fullmatch(p) for p in parts):
        raise ValueError(text)
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    if seconds > MAX_SECONDS:
        raise ValueError(text)
    return seconds


def format_timestamp(seconds: float) -> str:
    """Seconds as `HH:MM:SS` (what the page shows and `?t=` accepts)."""
    whole = int(seconds) if 0 <= seconds <= MAX_SECONDS else 0  # NaN and inf as 0
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
