"""Registrations (påmeldinger): who comes to which occurrence, in the room or online."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from live.models.base import Base, Timestamped
from live.models.events import Event, Occurrence, Theme
from live.models.people import Organisation

NAME_MAX = 200
EMAIL_MAX = 254
JOB_TITLE_MAX = 200
DIET_MAX = 500


class Attendance(enum.StrEnum):
    """How a participant takes part."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class Status(enum.StrEnum):
    """Where a registration stands; only CONFIRMED holds a place."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


def new_manage_token() -> str:
    """A fresh secret for a registrant's personal link."""
    return secrets.token_urlsafe(32)


class Registration(Timestamped, Base):
    """One person's registration for one occurrence of an event."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One live registration per e-mail and event; cancelled ones may be repeated.
        Index(
            "uq_registrations_event_email_active",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_registrations_queue", "occurrence_id", "attendance", "status", "waitlist_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE"), index=True
    )
    attendance: Mapped[Attendance] = mapped_column(String(20))
    status: Mapped[Status] = mapped_column(String(20))
    # Waitlist order: higher is later. Set when (re)entering the waitlist.
    waitlist_seq: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str] = mapped_column(String(JOB_TITLE_MAX), default="")
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    diet: Mapped[str] = mapped_column(String(DIET_MAX), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(8), default="nb")
    # The secret of the personal link; kept in clear so promotion mails can carry it again.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_manage_token)
    cancelled_at: Mapped[dt.datetime | None]

    event: Mapped[Event] = relationship()
    occurrence: Mapped[Occurrence] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    theme: Mapped[Theme | None] = relationship()
