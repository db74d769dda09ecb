"""Participant lists for organisers: rows, counts, CSV and Excel (.xlsx)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models.events import Occurrence, Theme
from live.models.people import Organisation
from live.models.registration import Registration, Status

COUNTED = ("occurrence", "attendance", "status", "organisation", "theme", "diet")


@dataclass(frozen=True)
class Row:
    """One participant as the organiser sees them."""

    id: int
    status: str
    waitlist_position: int | None
    occurrence: str
    attendance: str
    name: str
    email: str
    organisation: str
    job_title: str
    theme: str
    diet: str
    registered_at: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Filters:
    """Narrow the list: by occurrence (id or slug), mode, status, organisation or theme."""

    occurrence: str | None = None
    attendance: str | None = None
    status: str | None = None
    organisation: str | None = None
    theme: str | None = None
    include_cancelled: bool = False

    def keep(self, row: Row, occurrence_keys: Mapping[str, set[str]]) -> bool:
        """Does the row pass every filter given?"""
        if not self.include_cancelled and row.status == Status.CANCELLED and self.status is None:
            return False
        checks = [
            self.occurrence is None
            or self.occurrence in occurrence_keys.get(row.occurrence, set()),
            self.attendance is None or row.attendance == self.attendance,
            self.status is None or row.status == self.status,
            self.organisation is None
            or self.organisation.casefold() in row.organisation.casefold(),
            self.theme is None or row.theme == self.theme,
        ]
        return all(checks)


def occurrence_label(occurrence: Occurrence) -> str:
    """ "Elverum 2027-01-09": city and local date, unique enough within an event."""
    return f"{occurrence.city} {occurrence.starts_at:%Y-%m-%d}"


async def _in_order(session: AsyncSession, event_id: int) -> list[Registration]:
    """The event's registrations by occurrence and mode, confirmed first, then the waitlist."""
    return list(
        await session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(
                Registration.occurrence_id,
                Registration.attendance,
                Registration.waitlist_seq.is_not(None),
                Registration.waitlist_seq,
                Registration.id,
            )
        )
    )


async def _organisation_names(
    session: AsyncSession, registrations: list[Registration]
) -> dict[int, str]:
    org_ids = {r.organisation_id for r in registrations if r.organisation_id}
    if not org_ids:
        return {}
    found = await session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    return {o.id: o.name for o in found}


async def participant_rows(
    session: AsyncSession, event_id: int, filters: Filters | None = None
) -> tuple[list[Row], list[dict[str, Any]]]:
    """The event's registrations as rows (waitlist in order), and each row's answers."""
    filters = filters or Filters()
    occurrences = {
        o.id: o
        for o in await session.scalars(select(Occurrence).where(Occurrence.event_id == event_id))
    }
    keys = {occurrence_label(o): {str(o.id), o.slug} for o in occurrences.values()}
    themes = {
        t.id: t.title
        for t in await session.scalars(select(Theme).where(Theme.event_id == event_id))
    }
    registrations = await _in_order(session, event_id)
    organisations = await _organisation_names(session, registrations)
    rows, answers = [], []
    positions: Counter[tuple[int, str]] = Counter()
    for r in registrations:
        position = None
        if r.status == Status.WAITLISTED:
            positions[(r.occurrence_id, r.attendance)] += 1
            position = positions[(r.occurrence_id, r.attendance)]
        row = Row(
            id=r.id,
            status=str(r.status),
            waitlist_position=position,
            occurrence=occurrence_label(occurrences[r.occurrence_id]),
            attendance=str(r.attendance),
            name=r.name,
            email=r.email,
            organisation=organisations.get(r.organisation_id or 0, ""),
            job_title=r.job_title,
            theme=themes.get(r.theme_id or 0, ""),
            diet=r.diet,
            registered_at=r.created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        )
        if filters.keep(row, keys):
            rows.append(row)
            answers.append(dict(r.answers or {}))
    return rows, answers


def counts(rows: Iterable[Row]) -> dict[str, dict[str, int]]:
    """Counts per occurrence, mode, status, organisation, theme and diet (confirmed + waitlisted)."""
    result: dict[str, Counter[str]] = {key: Counter() for key in COUNTED}
    for row in rows:
        if row.status == Status.CANCELLED:
            continue
        for key in COUNTED:
            result[key][getattr(row, key) or "-"] += 1
    return {key: dict(sorted(counter.items())) for key, counter in result.items()}


def _safe(value: object) -> object:
    """Defuse spreadsheet formulas typed into a name field ("=HYPERLINK(...)")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _table(
    rows: Sequence[Row],
    answers: Sequence[Mapping[str, Any]],
    questions: Sequence[Mapping[str, Any]],
) -> list[list[object]]:
    keys = [str(q.get("key") or q.get("id") or "") for q in questions]
    keys = [k for k in keys if k]
    header: list[object] = [f.name for f in fields(Row)]
    header += [f"answer:{k}" for k in keys]
    table: list[list[object]] = [header]
    for row, given in zip(rows, answers, strict=True):
        extra = [given.get(k, "") for k in keys]
        extra = [", ".join(map(str, v)) if isinstance(v, list) else v for v in extra]
        table.append([_safe(v) for v in [*row.as_dict().values(), *extra]])
    return table


def to_csv(
    rows: Sequence[Row],
    answers: Sequence[Mapping[str, Any]],
    questions: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """UTF-8 CSV with a byte-order mark so that Excel reads æøå right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(_table(rows, answers, questions))
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(
    rows: Sequence[Row],
    answers: Sequence[Mapping[str, Any]],
    questions: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """A workbook: "Participants" with one row each, "Counts" with the totals."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Participants"
    for line in _table(rows, answers, questions):
        sheet.append(line)
    sheet.freeze_panes = "A2"
    summary = book.create_sheet("Counts")
    summary.append(["by", "value", "count"])
    for key, values in counts(rows).items():
        for value, n in values.items():
            summary.append([key, _safe(value), n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
