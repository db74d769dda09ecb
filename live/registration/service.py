"""Register, change, cancel and promote, each inside one write transaction.

Every write first takes the event's lock: `BEGIN IMMEDIATE` on SQLite (the whole database
is one writer) and `SELECT ... FOR UPDATE` on the event row on PostgreSQL. The event row,
not the occurrence row, is the lock because quotas and the one-registration-per-e-mail rule
span every occurrence of the event; a kind quota ("each county") would be shared by all
occurrences anyway. Counting and inserting then happen under that lock, so there is no
check-then-insert race. Each write's `after` hook runs in its transaction with the outcome:
callers queue mail there (`live.registration.notify`), committed with the write, sent after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.bounds import parse_id
from live.errors import NotFound
from live.events.domain import capacity
from live.models.base import utcnow
from live.models.events import Event, Occurrence, Theme
from live.models.people import Organisation
from live.models.registration import Attendance, Registration, Status
from live.registration import rules
from live.registration.places import Slot, occurrences_of, slot_counts
from live.registration.quota import check_quota, organisation_for
from live.registration.rules import N_, Message, Refused
from live.registration.validate import Changes, Submission, check_answers


@asynccontextmanager
async def write_transaction(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose transaction holds the write lock from its first statement."""
    async with db() as session, session.begin():
        conn = await session.connection()
        if conn.dialect.name == "sqlite":
            # pysqlite begins lazily and DEFERRED; take the write lock now instead.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield session


async def lock_event(
    session: AsyncSession, *, slug: str | None = None, event_id: int | None = None
) -> Event:
    """Load and lock the event row (FOR UPDATE; a no-op under SQLite's database lock)."""
    query = select(Event).with_for_update()
    query = (
        query.where(Event.slug == slug) if slug is not None else query.where(Event.id == event_id)
    )
    event = await session.scalar(query)
    if event is None:
        raise NotFound("No such event.", code="event.not_found")
    return event


@dataclass(frozen=True)
class Receipt:
    """A registration as plain values, safe to use after the session is closed (for mail)."""

    id: int
    token: str
    status: Status
    waitlist_position: int | None
    attendance: Attendance
    name: str
    email: str
    locale: str
    diet: str
    event_slug: str
    event_title: str
    occurrence_id: int
    occurrence_slug: str
    city: str
    venue: str
    address: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    theme_title: str | None
    theme_slug: str | None
    organisation: str | None
    job_title: str
    answers: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The registrant's own view of their data (for the personal link)."""
        return {
            "id": self.id,
            "status": str(self.status),
            "waitlist_position": self.waitlist_position,
            "event": {"slug": self.event_slug, "title": self.event_title},
            "occurrence": {
                "id": self.occurrence_id,
                "slug": self.occurrence_slug,
                "city": self.city,
                "venue": self.venue,
                "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(),
            },
            "attendance": str(self.attendance),
            "name": self.name,
            "email": self.email,
            "organisation": self.organisation,
            "job_title": self.job_title,
            "theme": self.theme_slug,
            "diet": self.diet,
            "answers": self.answers,
        }


@dataclass(frozen=True)
class Outcome:
    """What a write did: the registrant's receipt and anybody promoted from the waitlist."""

    receipt: Receipt
    promoted: tuple[Receipt, ...] = ()
    previous_status: Status | None = None


# Runs inside the write's transaction with its outcome (the caller queues mail there).
After = Callable[[AsyncSession, Outcome], Awaitable[None]]


async def _finish(session: AsyncSession, outcome: Outcome, after: After | None) -> Outcome:
    if after is not None:
        await after(session, outcome)
    return outcome


async def _themes(session: AsyncSession, event: Event) -> list[Theme]:
    return list(await session.scalars(select(Theme).where(Theme.event_id == event.id)))


def pick(choices: list[Occurrence] | list[Theme], ref: str) -> Occurrence | Theme | None:
    """Find by id (digits) or slug."""
    for choice in choices:
        if choice.id == parse_id(ref) or choice.slug == ref:
            return choice
    return None


async def _next_seq(session: AsyncSession, slot: Slot) -> int:
    last = await session.scalar(
        select(func.max(Registration.waitlist_seq)).where(
            Registration.occurrence_id == slot[0], Registration.attendance == slot[1]
        )
    )
    return (last or 0) + 1


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
    """1 for the first in line; None when not waitlisted."""
    if registration.status != Status.WAITLISTED or registration.waitlist_seq is None:
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            Registration.occurrence_id == registration.occurrence_id,
            Registration.attendance == registration.attendance,
            Registration.status == Status.WAITLISTED,
            Registration.waitlist_seq < registration.waitlist_seq,
        )
    )
    return int(ahead or 0) + 1


async def receipt(session: AsyncSession, registration: Registration) -> Receipt:
    """Snapshot a registration with its event, occurrence, theme and organisation names."""
    event = await session.get_one(Event, registration.event_id)
    occurrence = await session.get_one(Occurrence, registration.occurrence_id)
    theme = await session.get(Theme, registration.theme_id) if registration.theme_id else None
    organisation = (
        await session.get(Organisation, registration.organisation_id)
        if registration.organisation_id
        else None
    )
    return Receipt(
        id=registration.id,
        token=registration.token,
        status=Status(registration.status),
        waitlist_position=await waitlist_position(session, registration),
        attendance=Attendance(registration.attendance),
        name=registration.name,
        email=registration.email,
        locale=registration.locale,
        diet=registration.diet,
        event_slug=event.slug,
        event_title=event.title,
        occurrence_id=occurrence.id,
        occurrence_slug=occurrence.slug,
        city=occurrence.city,
        venue=occurrence.venue,
        address=occurrence.address,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        theme_title=theme.title if theme else None,
        theme_slug=theme.slug if theme else None,
        organisation=organisation.name if organisation else None,
        job_title=registration.job_title,
        answers=dict(registration.answers or {}),
    )


async def promote(
    session: AsyncSession, occurrence: Occurrence, attendance: Attendance
) -> list[Registration]:
    """Move the first of the waitlist up while places are free; return who moved."""
    slot = (occurrence.id, attendance)
    confirmed, waiting = await slot_counts(session, slot)
    n = rules.promotable(capacity(occurrence, attendance), confirmed, waiting)
    if n == 0:
        return []
    moved = list(
        await session.scalars(
            select(Registration)
            .where(
                Registration.occurrence_id == slot[0],
                Registration.attendance == slot[1],
                Registration.status == Status.WAITLISTED,
            )
            .order_by(Registration.waitlist_seq, Registration.id)
            .limit(n)
        )
    )
    for registration in moved:
        registration.status = Status.CONFIRMED
        registration.waitlist_seq = None
    await session.flush()
    return moved


def _check_choice(
    event: Event,
    occurrence: Occurrence,
    attendance: Attendance,
    now: dt.datetime,
    by_organiser: bool = False,
) -> None:
    # Organisers add and move people by hand after closing or past the deadline.
    if not by_organiser:
        rules.check_open(event.registration_open)
        rules.check_deadline(occurrence.registration_deadline, now)
    rules.check_mode(attendance, capacity(occurrence, attendance), occurrence.online)


async def _resolve(
    session: AsyncSession,
    event: Event,
    occurrence_ref: str | None,
    theme_ref: str | None,
    *,
    theme_required: bool,
) -> tuple[Occurrence | None, Theme | None]:
    """Look up the chosen occurrence and theme, raising 422 with fields when unknown."""
    errors: dict[str, Message] = {}
    occurrence = theme = None
    if occurrence_ref is not None:
        occurrence = pick(await occurrences_of(session, event), occurrence_ref)
        if occurrence is None:
            errors["occurrence"] = Message(N_("Unknown choice."))
    themes = await _themes(session, event)
    if theme_ref is not None:
        theme = pick(themes, theme_ref)
        if theme is None:
            errors["theme"] = Message(N_("Unknown choice."))
    elif theme_required and themes:
        errors["theme"] = Message(N_("Choose a theme for the group work."))
    if errors:
        raise Refused(
            "registration.invalid", Message(N_("Some fields need attention.")), fields=errors
        )
    return occurrence, theme  # type: ignore[return-value]


async def _refuse_duplicate(session: AsyncSession, event: Event, email: str) -> None:
    """One live registration per e-mail address and event."""
    taken = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event.id,
            Registration.email == email,
            Registration.status != Status.CANCELLED,
        )
    )
    if taken is not None:
        raise rules.DuplicateRegistration()


async def register(
    db: async_sessionmaker[AsyncSession],
    slug: str,
    submission: Submission,
    *,
    locale: str = "nb",
    now: dt.datetime | None = None,
    by_organiser: bool = False,
    after: After | None = None,
) -> Outcome:
    """Create a registration: confirmed, waitlisted, or refused with a reason."""
    now = now or utcnow()
    async with write_transaction(db) as session:
        event = await lock_event(session, slug=slug)
        if not event.published and not by_organiser:
            raise NotFound("No such event.", code="event.not_found")
        occurrence, theme = await _resolve(
            session, event, submission.occurrence, submission.theme, theme_required=True
        )
        assert occurrence is not None
        check_answers(event.registration_questions or [], submission.answers)
        _check_choice(event, occurrence, submission.attendance, now, by_organiser)
        await _refuse_duplicate(session, event, submission.email)
        organisation = await organisation_for(
            session, submission.organisation, as_typed=submission.organisation_as_typed
        )
        await check_quota(session, event, organisation)
        slot = (occurrence.id, submission.attendance)
        status = rules.place(
            capacity(occurrence, submission.attendance), *await slot_counts(session, slot)
        )
        registration = Registration(
            event_id=event.id,
            occurrence_id=occurrence.id,
            attendance=submission.attendance,
            status=status,
            name=submission.name,
            email=submission.email,
            organisation_id=organisation.id,
            job_title=submission.job_title,
            theme_id=theme.id if theme else None,
            diet=submission.diet if occurrence.serves_food else "",
            answers=submission.answers,
            locale=locale,
            waitlist_seq=await _next_seq(session, slot) if status == Status.WAITLISTED else None,
        )
        session.add(registration)
        await session.flush()
        return await _finish(session, Outcome(await receipt(session, registration)), after)


async def _by_token(session: AsyncSession, token: str) -> Registration:
    registration = await session.scalar(select(Registration).where(Registration.token == token))
    if registration is None or registration.status == Status.CANCELLED:
        raise NotFound("No such registration, or it was cancelled.", code="registration.not_found")
    return registration


async def view(db: async_sessionmaker[AsyncSession], token: str) -> Receipt:
    """The registration behind a personal link."""
    async with db() as session:
        return await receipt(session, await _by_token(session, token))


@dataclass(frozen=True)
class ById:
    """An organiser's handle on a registration: the event's slug and the registration id."""

    slug: str
    id: int


Locator = str | ById  # a personal-link token, or an organiser's ById


async def _lock_registration(session: AsyncSession, who: Locator) -> tuple[Event, Registration]:
    """Lock the registration's event, then load the live registration."""
    if isinstance(who, ById):
        event = await lock_event(session, slug=who.slug)
        found = await session.get(Registration, who.id, populate_existing=True)
        if found is None or found.event_id != event.id or found.status == Status.CANCELLED:
            raise NotFound(
                "No such registration, or it was cancelled.", code="registration.not_found"
            )
        return event, found
    event_id = await session.scalar(select(Registration.event_id).where(Registration.token == who))
    if event_id is None:
        raise NotFound("No such registration, or it was cancelled.", code="registration.not_found")
    event = await lock_event(session, event_id=event_id)
    return event, await _by_token(session, who)


async def change(
    db: async_sessionmaker[AsyncSession],
    who: Locator,
    changes: Changes,
    *,
    now: dt.datetime | None = None,
    after: After | None = None,
) -> Outcome:
    """Change occurrence, mode, theme or diet; a freed place goes to the waitlist.

    Organisers (`who` is a ById) may also act after the deadline and confirm by hand.
    """
    now = now or utcnow()
    by_organiser = isinstance(who, ById)
    async with write_transaction(db) as session:
        event, registration = await _lock_registration(session, who)
        occurrence, theme = await _resolve(
            session, event, changes.occurrence, changes.theme, theme_required=False
        )
        old = await session.get_one(Occurrence, registration.occurrence_id)
        old_slot = (old.id, Attendance(registration.attendance))
        target = occurrence or old
        attendance = changes.attendance or Attendance(registration.attendance)
        promoted: list[Registration] = []
        if (target.id, attendance) != old_slot:
            promoted = await _move(
                session, event, registration, (old, target, attendance), now, by_organiser
            )
        if by_organiser and changes.confirm and registration.status == Status.WAITLISTED:
            registration.status, registration.waitlist_seq = Status.CONFIRMED, None
        if theme is not None:
            registration.theme_id = theme.id
        if changes.diet is not None:
            registration.diet = changes.diet if target.serves_food else ""
        await session.flush()
        outcome = Outcome(
            await receipt(session, registration),
            tuple([await receipt(session, r) for r in promoted]),
        )
        return await _finish(session, outcome, after)


async def _move(
    session: AsyncSession,
    event: Event,
    registration: Registration,
    way: tuple[Occurrence, Occurrence, Attendance],
    now: dt.datetime,
    by_organiser: bool,
) -> list[Registration]:
    """Move to another occurrence/mode; a confirmed place moves only into a free one."""
    old, target, attendance = way
    _check_choice(event, target, attendance, now, by_organiser)
    slot = (target.id, attendance)
    counts = await slot_counts(session, slot)
    was_confirmed = registration.status == Status.CONFIRMED
    old_attendance = Attendance(registration.attendance)
    if was_confirmed:
        rules.check_move(capacity(target, attendance), *counts)
    status = rules.place(capacity(target, attendance), *counts)
    registration.waitlist_seq = (
        await _next_seq(session, slot) if status == Status.WAITLISTED else None
    )
    registration.status = status
    registration.occurrence_id = target.id
    registration.attendance = attendance
    await session.flush()
    return await promote(session, old, old_attendance) if was_confirmed else []


async def cancel(
    db: async_sessionmaker[AsyncSession], who: Locator, *, now: dt.datetime | None = None,
    after: After | None = None,
) -> Outcome:
    """Cancel (personal link or organiser); the first on the waitlist takes the place."""
    async with write_transaction(db) as session:
        _event, registration = await _lock_registration(session, who)
        outcome = await cancel_locked(session, registration, now or utcnow())
        return await _finish(session, outcome, after)


async def cancel_locked(
    session: AsyncSession, registration: Registration, now: dt.datetime
) -> Outcome:
    """Cancel a registration whose event the caller has locked; promote into its place."""
    previous = Status(registration.status)
    registration.status = Status.CANCELLED
    registration.waitlist_seq = None
    registration.cancelled_at = now
    await session.flush()
    promoted: list[Registration] = []
    if previous == Status.CONFIRMED:
        occurrence = await session.get_one(Occurrence, registration.occurrence_id)
        promoted = await promote(session, occurrence, Attendance(registration.attendance))
    return Outcome(
        await receipt(session, registration),
        tuple([await receipt(session, r) for r in promoted]),
        previous,
    )


async def promote_event(
    db: async_sessionmaker[AsyncSession],
    event_id: int,
    after: Callable[[AsyncSession, list[Receipt]], Awaitable[None]] | None = None,
) -> list[Receipt]:
    """Fill places freed by a raised capacity, in every occurrence and mode of the event."""
    async with write_transaction(db) as session:
        event = await lock_event(session, event_id=event_id)
        moved: list[Registration] = []
        for occurrence in await occurrences_of(session, event):
            for attendance in Attendance:
                moved += await promote(session, occurrence, attendance)
        receipts = [await receipt(session, r) for r in moved]
        if after is not None:
            await after(session, receipts)
        return receipts
