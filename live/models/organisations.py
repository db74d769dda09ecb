"""Quota flags: registrations that broke a quota only after an organiser's review.

A registration from an unknown organisation is accepted as the rules stood then. When an
organiser later classifies the organisation or merges it into a known body, the quotas are
counted again; a registration past a limit is flagged here for the organiser to settle by
hand. It is never cancelled by the system.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, utcnow


class QuotaFlag(Base):
    """One registration beyond a quota after a review, until the organiser resolves it."""

    __tablename__ = "quota_flags"
    __table_args__ = (UniqueConstraint("registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    # The organisation or region whose quota is exceeded, and the count: shown as is.
    subject: Mapped[str] = mapped_column(String(200))
    used: Mapped[int]
    limit: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
