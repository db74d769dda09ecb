"""Recordings of an event: from the live stream or imported from a file, with captions and slides."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from live.models.base import Base, Timestamped, utcnow


class RecordingState(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHED = "published"
    FAILED = "failed"


class Recording(Timestamped, Base):
    """One recording; files live under Settings.recordings_dir/<id>/.

    `chapters` are in output time (seconds from the first frame of the packaged files);
    `cut_start` is where the packaged files begin in the source, so source time is
    output time + cut_start, and wall-clock time is started_at + source time.
    """

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    state: Mapped[RecordingState] = mapped_column(String(20), default=RecordingState.PROCESSING)
    title: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[dt.datetime | None]
    duration: Mapped[float | None]
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="stream")
    chapters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    published_at: Mapped[dt.datetime | None]
    # The source file's name inside the recording's folder (kept for re-packaging on trim).
    source_file: Mapped[str] = mapped_column(String(200), default="")
    trim_start: Mapped[float | None]
    trim_end: Mapped[float | None]
    cut_start: Mapped[float] = mapped_column(default=0.0)

    captions: Mapped[list[RecordingCaption]] = relationship(
        cascade="all, delete-orphan", order_by="RecordingCaption.lang", lazy="selectin"
    )
    attachments: Mapped[list[RecordingAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="RecordingAttachment.id", lazy="selectin"
    )

    def offset_of(self, moment: dt.datetime | None) -> float | None:
        """Where a wall-clock moment falls in the packaged recording, or None if outside it."""
        if moment is None or self.started_at is None:
            return None
        offset = (moment - self.started_at).total_seconds() - self.cut_start
        if offset < 0 or (self.duration is not None and offset > self.duration):
            return None
        return offset


class RecordingCaption(Base):
    """One caption track (WebVTT) of a recording, stored as captions/<lang>.vtt."""

    __tablename__ = "recording_captions"
    __table_args__ = (UniqueConstraint("recording_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecordingAttachment(Base):
    """Slides or another PDF shown with a programme item, stored as attachments/<id>.pdf."""

    __tablename__ = "recording_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
