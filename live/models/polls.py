"""Tables of live polls: per-event state and version, polls, answers and running counts.

Each answer is one row per participant per poll (a unique constraint), holding every
choice, word or rank of that answer. `poll_counts` holds the tallies the results show;
they change in the same transaction as the answers they count (`live.polls.service`), so
the counts always equal what the answers hold (`live.polls.service.recount` checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, utcnow


class PollState(Base):
    """One row per event: its polls' version and the organiser's blocked words.

    Every poll change on the event increments `version` in its own transaction; the row
    update doubles as the lock that serialises answers and moderators.
    """

    __tablename__ = "poll_state"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=0)
    blocked_words: Mapped[list[str]] = mapped_column(JSON, default=list)


class Poll(Base):
    """One poll, prepared or live, and its settings."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Multiple choice: most choices allowed (None: any); rating: the scale's top (5 or 10).
    max_choices: Mapped[int | None]
    scale: Mapped[int] = mapped_column(default=5)
    anonymous: Mapped[bool] = mapped_column(default=True)
    final: Mapped[bool] = mapped_column(default=False)
    moderated: Mapped[bool] = mapped_column(default=False)
    # The feedback survey mailed after the event: answered through personal links only.
    survey: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    revealed: Mapped[bool] = mapped_column(default=False)
    # Seconds it stays open once launched (None: until closed by hand).
    duration: Mapped[int | None]
    answers: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    v: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[dt.datetime | None]
    closes_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    revealed_at: Mapped[dt.datetime | None]


class PollAnswer(Base):
    """One participant's answer to one poll (choices, words, a rating, a text or a ranking)."""

    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("poll_id", "participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    participant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[Any] = mapped_column(JSON)
    # The client's idempotency key of the message that stored this value.
    key: Mapped[str] = mapped_column(String(64), default="")
    # pending / approved / hidden (open text and moderated word clouds); starred by moderators.
    status: Mapped[str] = mapped_column(String(20), default="approved")
    starred: Mapped[bool] = mapped_column(default=False)
    v: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PollCount(Base):
    """A running tally of one poll: per option (or word, or rating value) its count or rank sum."""

    __tablename__ = "poll_counts"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
