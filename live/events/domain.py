"""The pure rules of events: document checks, local times, where an event stands now, and
the places left in an occurrence (registration counts them with these rules too).

No database and no I/O here: `live.events.service` saves and loads what these rules accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from live.errors import Invalid
from live.events import embeds
from live.events.document import EventDoc
from live.models import Attendance, Event, Occurrence

OSLO = ZoneInfo("Europe/Oslo")
RESERVED_SLUGS = frozenset({"new"})


def aware(value: dt.datetime | None, tz: ZoneInfo = OSLO) -> dt.datetime | None:
    """Times without an offset are local to the event's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz)


def validate(doc: EventDoc, *, embed_hosts: str | Iterable[str] = "") -> None:
    """Check what the types cannot: unique keys, references, time order. Raises Invalid.

    `embed_hosts` are the player hosts allowed beyond YouTube and Vimeo
    (`Settings.embed_hosts`); callers without settings allow only those two.
    """
    errors: dict[str, str] = {}
    if doc.slug in RESERVED_SLUGS:
        errors["slug"] = "This address is reserved; choose another."
    if doc.stream_url and (problem := embeds.stream_url_problem(doc.stream_url, embed_hosts)):
        errors["stream_url"] = problem
    _unique(errors, "occurrences", [o.slug for o in doc.occurrences], "slug")
    _unique(errors, "themes", [t.slug for t in doc.themes], "slug")
    _unique(errors, "speakers", [s.key for s in doc.speakers], "key")
    for i, occ in enumerate(doc.occurrences):
        _order(errors, f"occurrences[{i}]", occ.starts, occ.ends)
    keys = {s.key for s in doc.speakers}
    for b, block in enumerate(doc.programme):
        _order(errors, f"programme[{b}]", block.starts, block.ends)
        for i, item in enumerate(block.items):
            path = f"programme[{b}].items[{i}]"
            _order(errors, path, item.starts, item.ends)
            for ref in item.speakers:
                if ref not in keys:
                    errors[f"{path}.speakers"] = f"Unknown speaker key {ref!r}."
    for q, quota in enumerate(doc.quotas):
        if quota.organisation_kind and quota.organisation:
            errors[f"quotas[{q}]"] = "Give an organisation kind or one organisation, not both."
    if errors:
        raise Invalid("The event document has errors.", code="event.invalid", fields=errors)


def _unique(errors: dict[str, str], path: str, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            errors[f"{path}[{i}].{what}"] = f"Duplicate {what} {value!r}."
        seen.add(value)


def _order(errors: dict[str, str], path: str, start: dt.datetime | None,
           end: dt.datetime | None) -> None:
    if start is not None and end is not None and aware(end) <= aware(start):  # type: ignore[operator]
        errors[f"{path}.ends"] = "The end must be after the start."


def capacity(occurrence: Occurrence, attendance: Attendance) -> int | None:
    """Places for one way of attending (None = unlimited)."""
    if attendance == Attendance.IN_PERSON:
        return occurrence.capacity_in_person
    return occurrence.capacity_online


def places_left(occurrence: Occurrence, attendance: Attendance, confirmed: int) -> int | None:
    """Free places in one occurrence and mode, given how many are confirmed there (None =
    unlimited). The one count the event page, the form and the API all show."""
    cap = capacity(occurrence, attendance)
    return None if cap is None else max(0, cap - confirmed)


@dataclass(frozen=True)
class EventStatus:
    """Where an event stands now: upcoming, starting soon, live or ended."""

    state: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


SOON = dt.timedelta(hours=1)


def status_until(event: Event, now: dt.datetime) -> tuple[EventStatus, dt.datetime | None]:
    """`event_status(event, now)` and the first moment it may differ (None: never again)."""
    # Live includes `ends_at` itself: the change comes a microsecond after it.
    after = dt.timedelta(microseconds=1)
    edges = [t for o in event.occurrences
             for t in (o.starts_at - SOON, o.starts_at, o.ends_at + after)]
    later = [t for t in edges if t > now]
    return event_status(event, now), min(later) if later else None


def event_status(event: Event, now: dt.datetime) -> EventStatus:
    if not event.occurrences:
        return EventStatus("upcoming", None, None)
    first = min(o.starts_at for o in event.occurrences)
    last = max(o.ends_at for o in event.occurrences)
    for occ in event.occurrences:
        if occ.starts_at <= now <= occ.ends_at:
            return EventStatus("live", occ.starts_at, occ.ends_at)
    upcoming = [o for o in event.occurrences if o.starts_at > now]
    if not upcoming:
        return EventStatus("ended", first, last)
    nxt = min(upcoming, key=lambda o: o.starts_at)
    soon = nxt.starts_at - now <= SOON
    return EventStatus("soon" if soon else "upcoming", nxt.starts_at, nxt.ends_at)
