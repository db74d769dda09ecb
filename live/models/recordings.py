"""Recordings of an event: from the live stream or imported from a file."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, Timestamped


class RecordingState(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHED = "published"
    FAILED = "failed"


class Recording(Timestamped, Base):
    """One recording; files live under Settings.recordings_dir/<id>/."""

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
