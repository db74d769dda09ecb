"""Live captions: the lines a captioner (skrivetolk) committed during an event.

A line still being typed is never stored; a committed line gets the event's next `seq`
and keeps the captioner's idempotency `key`, so a line sent twice (a reconnect, a
hand-over between two captioners) is stored once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, utcnow


class CaptionLine(Base):
    """One committed caption line; `started_at` is its first keystroke, `at` its commit."""

    __tablename__ = "caption_lines"
    __table_args__ = (
        UniqueConstraint("event_id", "seq", name="uq_caption_lines_seq"),
        UniqueConstraint("event_id", "key", name="uq_caption_lines_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(500))
    by: Mapped[str] = mapped_column(String(80), default="")
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
