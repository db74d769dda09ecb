"""Check-in at the door and the attendance an organiser sees, each in one transaction.

`check_in` judges a scanned code (or a registration picked from a search) with
`live.attendance.domain.judge`, then inserts the `checkins` row with ON CONFLICT DO NOTHING:
two doors scanning one code at once both answer, one "checked in", the other "already
checked in at 09:02". Nothing here locks the event: a check-in changes no count that a
registration depends on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.attendance.domain import Holder, Verdict, judge, parse_code
from live.models import Event, Organisation
from live.models.attendance import CheckIn, OnlineAttendance, OnlineAudience
from live.models.registration import Registration, Status

SEARCH_MAX = 50


@dataclass(frozen=True)
class Result:
    """What a check-in attempt came to, as the door sees it."""

    verdict: Verdict
    registration_id: int | None = None
    name: str = ""
    attendance: str = ""
    checked_in_at: dt.datetime | None = None
    other_event: str = ""  # the title of the event a foreign code is for

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": str(self.verdict),
            "registration": self.registration_id,
            "name": self.name,
            "attendance": self.attendance,
            "checked_in_at": self.checked_in_at.isoformat() if self.checked_in_at else None,
        }


def _insert(session: AsyncSession) -> object:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CheckIn)


async def check_in(
    db: async_sessionmaker[AsyncSession],
    event_id: int,
    *,
    code: str | None = None,
    registration_id: int | None = None,
    by: str = "",
    now: dt.datetime,
) -> Result:
    """Check in the holder of `code` (scanned) or `registration_id` (picked from a search)."""
    given = ""
    if code is not None:
        parsed = parse_code(code)
        if parsed is None:
            return Result(Verdict.NOT_A_CODE)
        registration_id, given = parsed
    async with db() as session, session.begin():
        row = await session.get(Registration, registration_id) if registration_id else None
        holder = None if row is None else Holder(row.event_id, Status(row.status), row.token)
        # Picked by name, the organiser's choice stands in for the code's digest.
        refused = judge(event_id, holder, given) if code is not None else _picked(event_id, holder)
        if refused is not None:
            other = ""
            if refused == Verdict.OTHER_EVENT and row is not None:
                other = (await session.get_one(Event, row.event_id)).title
            return Result(refused, other_event=other)
        assert row is not None
        statement = _insert(session).values(  # type: ignore[attr-defined]
            registration_id=row.id, event_id=event_id, checked_in_at=now, checked_in_by=by[:200],
        ).on_conflict_do_nothing(index_elements=["registration_id"])
        result = await session.execute(statement)
        inserted = result.rowcount == 1  # type: ignore[attr-defined]
        at = now if inserted else await session.scalar(
            select(CheckIn.checked_in_at).where(CheckIn.registration_id == row.id))
        verdict = Verdict.CHECKED_IN if inserted else Verdict.ALREADY
        return Result(verdict, row.id, row.name, str(row.attendance), at)


def _picked(event_id: int, holder: Holder | None) -> Verdict | None:
    """The rule for a registration picked by name: the same, without the digest."""
    if holder is None or holder.event_id != event_id:
        return Verdict.FORGED
    if holder.status == Status.CANCELLED:
        return Verdict.CANCELLED
    return None if holder.status == Status.CONFIRMED else Verdict.NOT_CONFIRMED


@dataclass(frozen=True)
class Person:
    """One registrant as the check-in page lists them."""

    id: int
    name: str
    organisation: str
    attendance: str
    status: str
    checked_in_at: dt.datetime | None


async def search(db: async_sessionmaker[AsyncSession], event_id: int, query: str) -> list[Person]:
    """Live registrations whose name contains `query` (any case, any spacing), by name."""
    wanted = " ".join(query.split()).casefold()
    if not wanted:
        return []
    async with db() as session:
        rows = (await session.execute(
            select(Registration, Organisation.name, CheckIn.checked_in_at)
            .outerjoin(Organisation, Organisation.id == Registration.organisation_id)
            .outerjoin(CheckIn, CheckIn.registration_id == Registration.id)
            .where(Registration.event_id == event_id, Registration.status != Status.CANCELLED)
            .order_by(Registration.name, Registration.id)
        )).all()
    found = [
        Person(r.id, r.name, org or "", str(r.attendance), str(r.status), at)
        for r, org, at in rows if wanted in " ".join(r.name.split()).casefold()
    ]
    return found[:SEARCH_MAX]


@dataclass(frozen=True)
class Came:
    """Whether and how one registrant attended."""

    checked_in_at: dt.datetime | None = None
    joined_at: dt.datetime | None = None
    minutes: int = 0


async def attendance_of(session: AsyncSession, event_id: int) -> dict[int, Came]:
    """Per registration id: the check-in time and the online join and minutes, where any."""
    found: dict[int, Came] = {}
    for reg_id, at in await session.execute(
            select(CheckIn.registration_id, CheckIn.checked_in_at)
            .where(CheckIn.event_id == event_id)):
        found[reg_id] = Came(checked_in_at=at)
    for reg_id, joined, minutes in await session.execute(
            select(OnlineAttendance.registration_id, OnlineAttendance.joined_at,
                   OnlineAttendance.minutes).where(OnlineAttendance.event_id == event_id)):
        before = found.get(reg_id, Came())
        found[reg_id] = Came(before.checked_in_at, joined, minutes)
    return found


async def audience(session: AsyncSession, event_id: int) -> tuple[int, int]:
    """Anonymous viewers of the event: (joins, minutes)."""
    row = await session.get(OnlineAudience, event_id)
    return (row.joins, row.minutes) if row is not None else (0, 0)
