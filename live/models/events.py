"""Events, their occurrences (city and date), programme, speakers, themes and quotas."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from live.models.base import Base, Timestamped
from live.models.people import Organisation, OrganisationKind


def new_token() -> str:
    return secrets.token_urlsafe(24)


# Join codes are read off a screen and typed on a phone: no 0/O, 1/I/L.
JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_LENGTH = 6


def new_join_code() -> str:
    """A short code for the event's join address (/j/ABC234): 31^6, about 900 million."""
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_LENGTH))


class EventType(enum.StrEnum):
    SEMINAR = "seminar"
    CONFERENCE = "conference"
    WORKSHOP = "workshop"
    MEETING = "meeting"
    DEBATE = "debate"


class ItemKind(enum.StrEnum):
    TALK = "talk"
    BREAK = "break"
    GROUP_WORK = "group_work"
    PANEL = "panel"
    REGISTRATION = "registration"
    OTHER = "other"


class Event(Timestamped, Base):
    """One seminar, conference or workshop, with one or more occurrences."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    target_group: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(300), default="")
    event_type: Mapped[EventType] = mapped_column(String(20), default=EventType.SEMINAR)
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    published: Mapped[bool] = mapped_column(default=True)
    streamed: Mapped[bool] = mapped_column(default=False)
    stream_url: Mapped[str] = mapped_column(String(500), default="")
    registration_open: Mapped[bool] = mapped_column(default=True)
    registration_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stream_key: Mapped[str] = mapped_column(String(64), default=new_token)
    # The sign-language interpreter's own publishing key (WHIP /whip/{slug}/interpreter).
    interpreter_key: Mapped[str] = mapped_column(String(64), default=new_token)
    moderator_token: Mapped[str] = mapped_column(String(64), default=new_token)
    display_token: Mapped[str] = mapped_column(String(64), default=new_token)
    # The captioner's secret link key (live.captions.pages).
    captions_token: Mapped[str] = mapped_column(String(64), default=new_token)
    # The short join address /j/<code>; set when the event is created (or migrated).
    join_code: Mapped[str | None] = mapped_column(
        String(12), unique=True, index=True, default=new_join_code
    )

    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Occurrence.starts_at"
    )
    blocks: Mapped[list[ProgrammeBlock]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="ProgrammeBlock.position"
    )
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Speaker.id"
    )
    themes: Mapped[list[Theme]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Theme.position"
    )
    quotas: Mapped[list[Quota]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Quota.id"
    )


class Occurrence(Base):
    """One date and place of an event, with its own deadline and capacity."""

    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("event_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    city: Mapped[str] = mapped_column(String(120))
    venue: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    registration_deadline: Mapped[dt.datetime | None]
    capacity_in_person: Mapped[int | None]
    capacity_online: Mapped[int | None]
    online: Mapped[bool] = mapped_column(default=False)
    serves_food: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="occurrences")


class ProgrammeBlock(Base):
    """A part of the programme with a time span, e.g. "Hva vet vi (10.00–11.45)"."""

    __tablename__ = "programme_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]

    event: Mapped[Event] = relationship(back_populates="blocks")
    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="block", cascade="all, delete-orphan", order_by="ProgrammeItem.position"
    )


class ProgrammeItem(Base):
    """A talk, break, panel or group-work session within a block."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int] = mapped_column(
        ForeignKey("programme_blocks.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[ItemKind] = mapped_column(String(20), default=ItemKind.TALK)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    speaker_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    block: Mapped[ProgrammeBlock] = relationship(back_populates="items")


class Speaker(Base):
    """A person (or an organisation alone) who speaks at an event."""

    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")

    event: Mapped[Event] = relationship(back_populates="speakers")


class Theme(Base):
    """A group-work theme participants choose between."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("event_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    brief: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship(back_populates="themes")


class Quota(Base):
    """At most `limit` participants from each organisation (of a kind, or one named) or region."""

    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    organisation_kind: Mapped[OrganisationKind | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    # A region quota counts everybody whose organisation lies in the region.
    region: Mapped[str | None] = mapped_column(String(120))
    limit: Mapped[int]

    event: Mapped[Event] = relationship(back_populates="quotas")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
