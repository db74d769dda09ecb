"""Shared plumbing tables: scheduled jobs (`live.jobs`), the mail outbox (`live.outbox`) and
client actions done under an idempotency key (`live.idempotency`)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from live.models.base import Base, utcnow

JOB_KEY_MAX = 200
IDEMPOTENCY_KEY_MAX = 64
ADDRESS_MAX = 320


class Job(Base):
    """One job: periodic (`every_seconds` set) or once; at most one process runs it at a time."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(JOB_KEY_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(80))  # the registered handler's name
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    every_seconds: Mapped[int | None]
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    # Set by the process that runs it; another process may take over once it is stale.
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_run_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]


class MailState(enum.StrEnum):
    """Where an outgoing mail stands."""

    QUEUED = "queued"  # waiting for its first or next attempt
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts


class OutboxMail(Base):
    """One outgoing mail, written in the transaction that caused it and sent after commit."""

    __tablename__ = "outbox_mails"
    __table_args__ = (
        Index("ix_outbox_mails_due", "state", "next_attempt_at"),
        Index("ix_outbox_mails_ref", "ref_kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. registration.confirmed
    # What the mail is about (e.g. "registration", 12): re-send and deletion find it by this.
    ref_kind: Mapped[str] = mapped_column(String(40), default="")
    ref_id: Mapped[int | None]
    sender: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_MAX))  # envelope: domain as A-labels
    subject: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[bytes] = mapped_column(LargeBinary)  # as it goes over the wire
    smtputf8: Mapped[bool] = mapped_column(default=False)  # needs the SMTPUTF8 extension
    state: Mapped[MailState] = mapped_column(String(10), default=MailState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClientAction(Base):
    """A creating action a client sent with an idempotency key, and what it created.

    One row per event, participant and key: a retry of the action finds it and gets the
    first result instead of a second question, vote or note. Rows expire (`live.idempotency`).
    """

    __tablename__ = "client_actions"
    __table_args__ = (UniqueConstraint("event_id", "participant", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    participant: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    action: Mapped[str] = mapped_column(String(40))  # the message type, e.g. "qa.ask"
    result_id: Mapped[int | None]  # the question or note it created, if any
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
