"""Chapters from programme times, and `?t=` offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stream.package import Chapter
from stream.package.chapters import chapters_from_programme, format_offset, parse_offset

STARTED = datetime(2027, 1, 9, 9, 58, 30, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    """A time on the day of the recording."""
    return datetime(2027, 1, 9, hour, minute, tzinfo=UTC)


def test_items_become_chapters_at_their_offset() -> None:
    """Each programme item becomes a chapter at its start minus the recording's start."""
    items = [("Innlegg", at(10, 15)), ("Velkommen", at(10, 0)), ("Panel", at(11, 0))]
    assert chapters_from_programme(items, STARTED) == [
        Chapter("Velkommen", 90.0),
        Chapter("Innlegg", 990.0),
        Chapter("Panel", 3690.0),
    ]


def test_item_running_when_recording_starts_opens_at_zero() -> None:
    """An item that began before the recording but was still on starts the recording at 0."""
    items = [("Kaffe", at(9, 0)), ("Velkommen", at(9, 30)), ("Innlegg", at(10, 15))]
    assert chapters_from_programme(items, STARTED) == [
        Chapter("Velkommen", 0.0),
        Chapter("Innlegg", 990.0),
    ]


def test_items_after_the_end_are_left_out() -> None:
    """With a known duration, items that begin after the recording ended are dropped."""
    items = [("Velkommen", at(10, 0)), ("Lunsj", at(12, 0))]
    chapters = chapters_from_programme(items, STARTED, duration=timedelta(hours=1).seconds)
    assert chapters == [Chapter("Velkommen", 90.0)]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2472", 2472.0), ("00:41:12", 2472.0), ("41:12", 2472.0), ("41m12s", 2472.0),
     ("1h", 3600.0), ("12.5", 12.5)],
)  # fmt: skip
def test_offsets_parse(value: str, seconds: float) -> None:
    """`?t=` accepts seconds, HH:MM:SS, MM:SS and 41m12s forms."""
    assert parse_offset(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "-5", "1:2:3:4", "12x"])
def test_bad_offsets_are_refused(value: str) -> None:
    """Garbage, negative and over-long offsets raise ValueError."""
    with pytest.raises(ValueError):
        parse_offset(value)


def test_offsets_format_as_clock_time() -> None:
    """Offsets print as HH:MM:SS for 'asked at' labels."""
    assert format_offset(2472.9) == "00:41:12"
    assert format_offset(3723) == "01:02:03"
