"""Tables of the live Q&A: per-event settings and version, questions, votes, the action log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, utcnow


class QaSettings(Base):
    """One row per event: Q&A settings, and the event's change version.

    Every change to an event's Q&A increments `version` inside its own transaction; the row
    update doubles as the lock that serialises concurrent moderators.
    """

    __tablename__ = "qa_settings"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    premoderation: Mapped[bool] = mapped_column(default=True)
    allow_anonymous: Mapped[bool] = mapped_column(default=True)
    max_length: Mapped[int] = mapped_column(default=500)
    open: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=0)
    # The version of the newest change viewers could see (the public channel's head).
    public_version: Mapped[int] = mapped_column(default=0)
    settings_v: Mapped[int] = mapped_column(default=0)
    panel_v: Mapped[int] = mapped_column(default=0)


class QaItemSettings(Base):
    """Q&A open or closed for one programme item."""

    __tablename__ = "qa_item_settings"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("programme_items.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    open: Mapped[bool] = mapped_column(default=True)


class Question(Base):
    """A question from a viewer or from the floor, and where it is in its life."""

    __tablename__ = "qa_questions"
    __table_args__ = (Index("ix_qa_questions_event_status", "event_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL")
    )
    participant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    original_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    floor: Mapped[bool] = mapped_column(default=False)
    votes: Mapped[int] = mapped_column(default=0)
    queue_pos: Mapped[int | None]
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("qa_questions.id"))
    v: Mapped[int] = mapped_column(default=0)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[dt.datetime | None]
    on_air_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    rejected_at: Mapped[dt.datetime | None]
    last_actor: Mapped[str | None] = mapped_column(String(200))
    last_action: Mapped[str | None] = mapped_column(String(40))


class QaVote(Base):
    """One participant's upvote; the primary key makes a second vote count once."""

    __tablename__ = "qa_votes"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("qa_questions.id", ondelete="CASCADE"), primary_key=True
    )
    participant: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QaAction(Base):
    """Who did what, and when: the moderators' log and the archive's timeline."""

    __tablename__ = "qa_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    v: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_questions.id", ondelete="CASCADE")
    )
