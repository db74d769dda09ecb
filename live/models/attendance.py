"""Attendance: who came to the door, who watched online, and which reminders went out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base

REMINDER_KEY_MAX = 120


class CheckIn(Base):
    """A registrant checked in at the door (at most once: the row is the fact)."""

    __tablename__ = "checkins"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    checked_in_at: Mapped[dt.datetime]
    checked_in_by: Mapped[str] = mapped_column(String(200), default="")


class OnlineAttendance(Base):
    """A registrant who watched the live page: first join, last seen, minutes (coarse)."""

    __tablename__ = "online_attendance"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    minutes: Mapped[int] = mapped_column(default=0)


class OnlineAudience(Base):
    """Anonymous viewers of an event's live page, counted but not named."""

    __tablename__ = "online_audience"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    joins: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)


class SentReminder(Base):
    """A reminder queued in the outbox, recorded in the same transaction so it goes once.

    `key` names it: "day_before:<registration id>" or "deadline:<occurrence id>".
    """

    __tablename__ = "sent_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(REMINDER_KEY_MAX), unique=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    recipients: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime]
