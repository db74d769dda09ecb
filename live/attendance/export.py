"""The attendance export per event: who came to the room (and when), who watched online.

One row per live registration (the participant list's rows, `live.registration.export`)
with its attendance; a second sheet (XLSX) or trailing lines (CSV) give the totals, with
the anonymous online audience, which has no rows. Times are local to the event's zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from live.attendance.service import Came, attendance_of, audience
from live.registration.export import Row, participant_rows
from live.registration.export import _safe as safe

HEADER = [
    "id", "name", "organisation", "email", "occurrence", "attendance", "status",
    "checked_in", "checked_in_at", "online_joined_at", "online_minutes",
]


@dataclass(frozen=True)
class Sheet:
    """The export's rows and totals."""

    rows: list[list[object]]
    totals: list[tuple[str, int]]


def _local(value: dt.datetime | None, tz: ZoneInfo) -> str:
    if value is not None:
        return value.astimezone(tz).isoformat(timespec="minutes")
    return ""


def _line(row: Row, came: Came, tz: ZoneInfo) -> list[object]:
    return [safe(v) for v in (
        row.id, row.name, row.organisation, row.email, row.occurrence, row.attendance,
        row.status, "yes" if came.checked_in_at else "no", _local(came.checked_in_at, tz),
        _local(came.joined_at, tz), came.minutes if came.joined_at else "",
    )]


async def attendance_sheet(session: AsyncSession, event_id: int, timezone: str) -> Sheet:
    """Every live registration with its attendance, and the totals."""
    tz = ZoneInfo(timezone)
    rows, _ = await participant_rows(session, event_id)
    came = await attendance_of(session, event_id)
    lines = [_line(r, came.get(r.id, Came()), tz) for r in rows]
    joins, minutes = await audience(session, event_id)
    seen = [came.get(r.id, Came()) for r in rows]
    totals = [
        ("checked_in", sum(c.checked_in_at is not None for c in seen)),
        ("online_registrants", sum(c.joined_at is not None for c in seen)),
        ("online_registrant_minutes", sum(c.minutes for c in seen)),
        ("online_anonymous_joins", joins),
        ("online_anonymous_minutes", minutes),
    ]
    return Sheet(lines, totals)


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel reads æøå right); totals after a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(sheet.rows)
    writer.writerow([])
    writer.writerows([["total", key, n] for key, n in sheet.totals])
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(sheet: Sheet) -> bytes:
    """A workbook: "Attendance" with one row per registration, "Totals"."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Attendance"
    first.append(HEADER)
    for line in sheet.rows:
        first.append(line)
    first.freeze_panes = "A2"
    totals = book.create_sheet("Totals")
    totals.append(["total", "count"])
    for key, n in sheet.totals:
        totals.append([key, n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def columns() -> Sequence[str]:
    """The export's column names (the API documents them)."""
    return HEADER
