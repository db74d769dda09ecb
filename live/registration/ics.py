"""An iCalendar (.ics) entry for one registration, in the event's time zone with its VTIMEZONE."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from live.registration.service import Receipt

PRODID = "-//Salen//Salen registration//NB"


def calendar_entry(
    receipt: Receipt,
    *,
    base_url: str,
    timezone: str = "Europe/Oslo",
    now: dt.datetime | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT; times are local with a TZID and a matching VTIMEZONE."""
    tz = ZoneInfo(timezone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = icalendar.Event()
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "salen"
    entry.add("uid", f"registration-{receipt.id}-{receipt.occurrence_id}@{host}")
    entry.add("dtstamp", (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    entry.add("dtstart", receipt.starts_at.astimezone(tz))
    entry.add("dtend", receipt.ends_at.astimezone(tz))
    entry.add("summary", receipt.event_title)
    where = ", ".join(part for part in (receipt.venue, receipt.address, receipt.city) if part)
    if where:
        entry.add("location", where)
    entry.add("url", f"{base_url.rstrip('/')}/e/{receipt.event_slug}")
    entry.add("description", f"{base_url.rstrip('/')}/r/{receipt.token}")
    entry.add("status", "CONFIRMED")
    calendar.add_component(entry)
    first, last = receipt.starts_at.date(), receipt.ends_at.date()
    calendar.add_missing_timezones(
        first_date=first - dt.timedelta(days=366), last_date=last + dt.timedelta(days=366)
    )
    return bytes(calendar.to_ical())
