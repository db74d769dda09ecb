"""Reminders through the outbox, run by one periodic job: each sent exactly once.

The job `attendance.reminders` (every `SCAN_EVERY`, one process at a time, `live.jobs`)
looks for what is due and has not been sent:

- the day before: every confirmed registrant of an occurrence that starts within `LEAD`
  (24 hours) and has not started, registered before that mark (later ones just had their
  confirmation); online attendees get the stream link, the others their check-in code;
- the deadline: the organisers (the event's contact address and its organisers' accounts)
  get a summary of an occurrence whose registration deadline passed while it has not ended.

Each mail is queued in the same transaction as its `sent_reminders` row, whose unique key
("day_before:<occurrence>:<registration>", "deadline:<occurrence>") is inserted with ON
CONFLICT DO NOTHING first: a mail exists exactly when its record does, and a second scan
(another process after a lease ran out, a restart) finds the record and sends nothing.
Delivery is the outbox's (at least once, retried while the SMTP server is away). Nothing here
needs Redis. What is due is derived from the data each time, so moving an event's date
or deadline needs no rescheduling; a deadline moved after its summary went is not summarised again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel.support import NullTranslations
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.attendance import mail
from live.jobs import JobRun, Scheduler
from live.models import Event, EventRole, Occurrence, Role, Theme, User
from live.models.attendance import SentReminder
from live.models.registration import Attendance, Registration, Status
from live.outbox import BadAddress, MailAddress, Outbox, Ref, parse_address
from live.registration.export import occurrence_label
from live.registration.notify import localiser
from live.registration.service import receipt
from live.settings import Settings

log = logging.getLogger(__name__)

SCAN_EVERY = dt.timedelta(minutes=5)
LEAD = dt.timedelta(hours=24)
CHUNK = 100  # registrants per transaction


def _insert(session: AsyncSession) -> object:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SentReminder)


async def record(
    session: AsyncSession, key: str, occurrence_id: int, registration_id: int | None,
    now: dt.datetime, recipients: int,
) -> bool:
    """Insert the reminder's record; False when it was there already (sent before)."""
    statement = _insert(session).values(  # type: ignore[attr-defined]
        key=key, occurrence_id=occurrence_id, registration_id=registration_id,
        recipients=recipients, sent_at=now,
    ).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass
class Reminders:
    """The reminder job's handler and what it needs; see the module."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    outbox: Outbox
    translations: Mapping[str, NullTranslations] | None = None

    async def scan(self, run: JobRun) -> None:
        """The job: queue what is due, then try to send it at once."""
        ids = await self.day_before(run.now) + await self.deadlines(run.now)
        await self.outbox.send_now(ids)

    # --- the day before --------------------------------------------------------------------

    async def day_before(self, now: dt.datetime) -> list[int]:
        """Queue the reminders of occurrences starting within `LEAD`; returns the mail ids."""
        async with self.db() as session:
            soon = list(await session.scalars(
                select(Occurrence.id).where(Occurrence.starts_at > now,
                                            Occurrence.starts_at <= now + LEAD)))
        ids: list[int] = []
        for occurrence_id in soon:
            ids += await self._remind_occurrence(occurrence_id, now)
        return ids

    async def _remind_occurrence(self, occurrence_id: int, now: dt.datetime) -> list[int]:
        async with self.db() as session:
            occurrence = await session.get_one(Occurrence, occurrence_id)
            mark = occurrence.starts_at - LEAD
            sent = set(await session.scalars(
                select(SentReminder.registration_id).where(
                    SentReminder.occurrence_id == occurrence_id,
                    SentReminder.key.startswith("day_before:"))))
            due = [r for r in await session.scalars(
                select(Registration.id).where(
                    Registration.occurrence_id == occurrence_id,
                    Registration.status == Status.CONFIRMED,
                    Registration.created_at < mark,
                ).order_by(Registration.id)) if r not in sent]
        ids: list[int] = []
        for start in range(0, len(due), CHUNK):
            ids += await self._remind(occurrence_id, due[start:start + CHUNK], now)
        return ids

    async def _remind(self, occurrence_id: int, chunk: Sequence[int], now: dt.datetime) -> list[int]:
        ids = []
        async with self.db() as session, session.begin():
            for registration in await session.scalars(
                    select(Registration).where(Registration.id.in_(chunk),
                                               Registration.status == Status.CONFIRMED,
                                               Registration.occurrence_id == occurrence_id)):
                key = f"day_before:{occurrence_id}:{registration.id}"
                if not await record(session, key, occurrence_id, registration.id, now, 1):
                    continue  # sent by an earlier scan
                try:
                    to = parse_address(registration.email)
                except BadAddress:
                    log.warning("registration %d: no reminder, the address is not usable",
                                registration.id)
                    continue
                found = await receipt(session, registration)
                message = mail.reminder(found, self.settings, to, self.translations)
                ids.append(await self.outbox.add(
                    session, message, to, kind="attendance.reminder",
                    ref=Ref("registration", registration.id)))
        return ids

    # --- the deadline ----------------------------------------------------------------------

    async def deadlines(self, now: dt.datetime) -> list[int]:
        """Queue the organisers' summary of each occurrence whose deadline passed."""
        async with self.db() as session:
            closed = list(await session.scalars(
                select(Occurrence.id).where(
                    Occurrence.registration_deadline.is_not(None),
                    Occurrence.registration_deadline <= now,
                    Occurrence.ends_at > now,
                ).where(~select(SentReminder.id).where(
                    SentReminder.key == "deadline:" + Occurrence.id.cast(SentReminder.key.type),
                ).exists())))
        ids: list[int] = []
        for occurrence_id in closed:
            ids += await self._summarise(occurrence_id, now)
        return ids

    async def _summarise(self, occurrence_id: int, now: dt.datetime) -> list[int]:
        async with self.db() as session, session.begin():
            occurrence = await session.get_one(Occurrence, occurrence_id)
            event = await session.get_one(Event, occurrence.event_id)
            recipients = await organiser_addresses(session, event)
            if not await record(session, f"deadline:{occurrence_id}", occurrence_id, None, now,
                                len(recipients)):
                return []
            facts = await summary_facts(session, event, occurrence, self.settings,
                                        self.translations)
            ids = []
            for to in recipients:
                message = mail.summary(facts, self.settings, to, self.translations)
                ids.append(await self.outbox.add(
                    session, message, to, kind="attendance.deadline",
                    ref=Ref("occurrence", occurrence_id)))
            return ids


async def organiser_addresses(session: AsyncSession, event: Event) -> list[MailAddress]:
    """The event's contact address and its organisers' account addresses, each once."""
    emails = [event.contact_email, *await session.scalars(
        select(User.email).join(EventRole, EventRole.user_id == User.id).where(
            EventRole.event_id == event.id, EventRole.role == Role.ORGANISER))]
    found: dict[str, MailAddress] = {}
    for email in emails:
        try:
            address = parse_address(email) if email else None
        except BadAddress:
            log.warning("event %s: organiser address %r is not usable", event.slug, email)
            continue
        if address is not None:
            found.setdefault(address.envelope, address)
    return list(found.values())


async def summary_facts(
    session: AsyncSession, event: Event, occurrence: Occurrence, settings: Settings,
    translations: Mapping[str, NullTranslations] | None,
) -> mail.Summary:
    """Counts, diets and themes of one occurrence's registrations."""
    rows = list(await session.scalars(
        select(Registration).where(Registration.occurrence_id == occurrence.id,
                                   Registration.status != Status.CANCELLED)))
    confirmed = [r for r in rows if r.status == Status.CONFIRMED]
    themes = {t.id: t.title for t in await session.scalars(
        select(Theme).where(Theme.event_id == event.id))}
    theme_counts = Counter(themes[r.theme_id] for r in confirmed if r.theme_id in themes)
    l10n = localiser(settings, settings.default_locale, translations)
    deadline = occurrence.registration_deadline
    return mail.Summary(
        event_title=event.title,
        event_slug=event.slug,
        occurrence=occurrence_label(occurrence),
        deadline_text=l10n.datetime(deadline) if deadline else "",
        in_room=sum(r.attendance == Attendance.IN_PERSON for r in confirmed),
        online=sum(r.attendance == Attendance.ONLINE for r in confirmed),
        waiting=sum(r.status == Status.WAITLISTED for r in rows),
        diets=mail.summarise_diets(
            [r.diet for r in confirmed if r.attendance == Attendance.IN_PERSON]),
        themes=sorted(theme_counts.items()),
    )


async def open_reminders(
    settings: Settings, db: async_sessionmaker[AsyncSession], jobs: Scheduler, outbox: Outbox,
    translations: Mapping[str, NullTranslations] | None = None,
) -> Reminders:
    """Register the reminder job on the app's scheduler."""
    reminders = Reminders(settings, db, outbox, translations)
    await jobs.every("attendance.reminders", SCAN_EVERY, reminders.scan)
    return reminders
