"""Chapters: the `Chapter` value, chapters from a programme, and `?t=` time offsets.

A programme gives one chapter per item, placed by the stream's start time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Chapter:
    """A named point in a recording, `start` in seconds."""

    title: str
    start: float


def chapters_from_programme(
    items: Sequence[tuple[str, datetime]],
    recording_started_at: datetime,
    duration: float | None = None,
) -> list[Chapter]:
    """Turn (title, starts_at) programme items into chapters in recording seconds.

    An item that began before the recording and was still running when it started opens
    at 0; items that ended before the recording began, or start after its end (when
    `duration` is known), are left out. Datetimes must be both aware or both naive.
    """
    ordered = sorted(items, key=lambda item: item[1])
    chapters: list[Chapter] = []
    for i, (title, starts_at) in enumerate(ordered):
        offset = (starts_at - recording_started_at).total_seconds()
        next_offset = (
            (ordered[i + 1][1] - recording_started_at).total_seconds()
            if i + 1 < len(ordered)
            else float("inf")
        )
        if next_offset <= 0 or (duration is not None and offset >= duration):
            continue
        chapters.append(Chapter(title, max(0.0, offset)))
    return chapters


def parse_offset(value: str) -> float:
    """Parse a `?t=` value: seconds (`2472`), `HH:MM:SS`, `MM:SS` or `41m12s` forms."""
    text = value.strip().lower()
    if not text:
        raise ValueError("empty time offset")
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        if len(parts) > 3 or any(p < 0 for p in parts):
            raise ValueError(f"not a time offset: {value!r}")
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    if text[-1] in "hms":
        return _parse_units(text, value)
    seconds = float(text)
    if seconds < 0:
        raise ValueError(f"not a time offset: {value!r}")
    return seconds


def _parse_units(text: str, original: str) -> float:
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in "hms" and number:
            total += float(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
        else:
            raise ValueError(f"not a time offset: {original!r}")
    return total


def format_offset(seconds: float) -> str:
    """Seconds as `HH:MM:SS` for "asked at 00:41:12" labels."""
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
