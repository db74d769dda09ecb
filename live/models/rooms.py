"""Tables of group work: a session per event, its rooms, who is in which room, and the input.

Each room row carries a version `v` that every change to the room increments in its own
transaction (the row update serialises concurrent writers, as `qa_settings.version` does for
Q&A); notes carry their own `version` for optimistic, per-item edits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.models import registration as _registration  # noqa: F401  (the FK target)
from live.models.base import Base, Timestamped, utcnow


class GroupSession(Timestamped, Base):
    """The group work of one event: placement rules, state, timer and input sections."""

    __tablename__ = "group_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), unique=True
    )
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(20), default="closed")
    placement: Mapped[str] = mapped_column(String(20), default="theme")
    room_size: Mapped[int] = mapped_column(default=8)
    # [{"key": "challenges", "title": "Challenges"}, ...]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Names of rooms or tables in the venue, handed to in-person rooms in order.
    venue_rooms: Mapped[list[str]] = mapped_column(JSON, default=list)
    ends_at: Mapped[dt.datetime | None]
    report_published: Mapped[bool] = mapped_column(default=False)
    v: Mapped[int] = mapped_column(default=0)


class BreakoutRoom(Base):
    """One group: a theme, a place in the venue (or online), and its change version."""

    __tablename__ = "breakout_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("group_sessions.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int] = mapped_column(default=8)
    closed: Mapped[bool] = mapped_column(default=False)
    help_requested_at: Mapped[dt.datetime | None]
    v: Mapped[int] = mapped_column(default=0)


class RoomMember(Base):
    """A participant placed in a room (one room per participant and session)."""

    __tablename__ = "room_members"
    __table_args__ = (UniqueConstraint("session_id", "participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("group_sessions.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[int] = mapped_column(
        ForeignKey("breakout_rooms.id", ondelete="CASCADE"), index=True
    )
    # The signed identity's id: "reg:<registration id>" for registrants.
    participant: Mapped[str] = mapped_column(String(80))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(default=True)
    placed_by: Mapped[str] = mapped_column(String(20), default="auto")


class RoomNote(Base):
    """One item of a room's input, in one section, edited with optimistic versions."""

    __tablename__ = "room_notes"
    __table_args__ = (Index("ix_room_notes_room_position", "room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("breakout_rooms.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    author: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set on the room's version `v` of the last change, so pushes can be ordered.
    room_v: Mapped[int] = mapped_column(default=0)


ROOM_TABLES = [GroupSession.__table__, BreakoutRoom.__table__, RoomMember.__table__,
               RoomNote.__table__]
