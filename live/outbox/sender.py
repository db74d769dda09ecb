"""The outbox: mail written in the transaction that caused it, sent after commit, retried.

`Outbox.add(session, ...)` inserts the serialised message into `outbox_mails` inside the
caller's transaction, so a mail exists exactly when the write that caused it committed and
never before. After commit the caller may `send_now(ids)` (the request's own attempt, so a
working server delivers at once); whatever is still queued is sent by the periodic job
`outbox.send` (one process at a time, see `live.jobs`), each mail no earlier than its
`next_attempt_at`, which grows with `backoff` after each failure. A mail is claimed before
each attempt, so the request and the job never send it twice. After `max_attempts`, or a
refusal another attempt would not change, a mail is `failed` and stays listed for the
organiser; the registrant's page can queue it again. Sent and failed mails are deleted
`RETENTION` after they were written: they carry personal data. Delivery is at least once:
a process that dies between the server's "250" and marking the mail sent leaves it to be
sent again once its claim is stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.jobs import Backoff, Clock, JobRun, default_backoff
from live.models.base import utcnow
from live.models.plumbing import MailState, OutboxMail
from live.outbox.addresses import MailAddress
from live.outbox.transport import Mailer, Permanent

log = logging.getLogger(__name__)

RETENTION = dt.timedelta(days=30)
CLAIM_STALE = dt.timedelta(minutes=5)  # well beyond the SMTP timeout
UTF8_ANSWER_TTL = 600.0  # seconds a server's SMTPUTF8 answer is trusted
BATCH = 100


@dataclass(frozen=True)
class Ref:
    """What a mail is about, e.g. Ref("registration", 12)."""

    kind: str = ""
    id: int | None = None


@dataclass
class Outbox:
    """Queues mail in the caller's transaction and sends it after commit; see the module."""

    mailer: Mailer
    db: async_sessionmaker[AsyncSession]
    clock: Clock = utcnow
    backoff: Backoff = default_backoff
    max_attempts: int = 12
    _utf8: tuple[bool, float] | None = field(default=None, repr=False)

    async def add(
        self,
        session: AsyncSession,
        message: EmailMessage,
        to: MailAddress,
        *,
        kind: str,
        ref: Ref = Ref(),
    ) -> int:
        """Queue `message` for `to` in `session`'s transaction; returns the mail's id."""
        if "From" not in message:
            message["From"] = self.mailer.sender
        raw = message.as_bytes(policy=policy.SMTPUTF8 if to.smtputf8 else policy.SMTP)
        now = self.clock()
        mail = OutboxMail(
            kind=kind,
            ref_kind=ref.kind,
            ref_id=ref.id,
            sender=self.mailer.envelope_sender,
            recipient=to.envelope,
            subject=str(message["Subject"] or "")[:300],
            message=raw,
            smtputf8=to.smtputf8,
            state=MailState.QUEUED,
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
        session.add(mail)
        await session.flush()
        return mail.id

    async def send_now(self, ids: Iterable[int]) -> None:
        """Try each mail once now, after the commit that queued them; failures wait in the queue."""
        for mail_id in ids:
            if not await self._attempt(mail_id, self.clock()):
                return  # the server is unreachable: the rest wait for the job too

    async def deliver_due(self, run: JobRun) -> None:
        """The `outbox.send` job: send every mail whose time has come; drop old ones."""
        async with self.db() as session:
            due = list(
                await session.scalars(
                    select(OutboxMail.id)
                    .where(OutboxMail.state == MailState.QUEUED)
                    .where(OutboxMail.next_attempt_at <= run.now)
                    .order_by(OutboxMail.id)
                    .limit(BATCH)
                )
            )
        for mail_id in due:
            if not await self._attempt(mail_id, run.now):
                break  # the server is unreachable: no use trying (and timing out on) the rest
        async with self.db() as session, session.begin():
            await session.execute(
                delete(OutboxMail).where(
                    OutboxMail.state != MailState.QUEUED,
                    OutboxMail.created_at < run.now - RETENTION,
                )
            )

    async def _claim(self, mail_id: int, now: dt.datetime) -> OutboxMail | None:
        async with self.db() as session, session.begin():
            result = await session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.state == MailState.QUEUED)
                .where(
                    or_(OutboxMail.claimed_at.is_(None), OutboxMail.claimed_at < now - CLAIM_STALE)
                )
                .values(claimed_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return await session.get(OutboxMail, mail_id)

    async def _attempt(self, mail_id: int, now: dt.datetime) -> bool:
        """One attempt at one mail; False when the server could not take it for now."""
        mail = await self._claim(mail_id, now)
        if mail is None:
            return True  # sent, failed, or in another attempt right now
        attempts = mail.attempts + 1
        values: dict[str, Any] = {"claimed_at": None, "attempts": attempts}
        try:
            await self.mailer.send_raw(mail.recipient, mail.message, smtputf8=mail.smtputf8)
        except Permanent as error:
            values |= {"state": MailState.FAILED, "last_error": str(error)[:500]}
        except Exception as error:  # noqa: BLE001  (the server is down or busy: try again later)
            log.warning(
                "mail %d to the SMTP server failed (attempt %d): %r", mail_id, attempts, error
            )
            values |= {
                "last_error": repr(error)[:500],
                "next_attempt_at": now + self.backoff(attempts),
            }
            if attempts >= self.max_attempts:
                values["state"] = MailState.FAILED
        else:
            values |= {"state": MailState.SENT, "sent_at": now, "last_error": ""}
        async with self.db() as session, session.begin():
            await session.execute(
                update(OutboxMail).where(OutboxMail.id == mail_id).values(**values)
            )
        return "next_attempt_at" not in values

    async def smtputf8(self) -> bool:
        """Whether the server offers SMTPUTF8 (asked at most every 10 minutes).

        While the server cannot be asked, the last answer holds; with none yet, mail is
        accepted and waits in the queue (it fails visibly if the server turns out not to).
        """
        known = self._utf8
        if known is not None and time.monotonic() - known[1] < UTF8_ANSWER_TTL:
            return known[0]
        try:
            offered = await self.mailer.offers_smtputf8()
        except Exception as error:  # noqa: BLE001  (unreachable now; the queue will retry)
            log.warning("could not ask the SMTP server about SMTPUTF8: %r", error)
            return known[0] if known is not None else True
        self._utf8 = (offered, time.monotonic())
        return offered

    async def recent(self, limit: int = 200) -> list[OutboxMail]:
        """The newest mails, newest first (the organiser's outgoing-mail view)."""
        async with self.db() as session:
            query = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)
            return list(await session.scalars(query))

    async def about(self, ref: Ref) -> list[OutboxMail]:
        """The mails about one thing, newest first."""
        async with self.db() as session:
            query = (
                select(OutboxMail)
                .where(OutboxMail.ref_kind == ref.kind, OutboxMail.ref_id == ref.id)
                .order_by(OutboxMail.id.desc())
            )
            return list(await session.scalars(query))


async def forget(session: AsyncSession, ref: Ref) -> None:
    """Delete every mail about `ref` (its subject asked for their data to be deleted)."""
    await session.execute(
        delete(OutboxMail).where(OutboxMail.ref_kind == ref.kind, OutboxMail.ref_id == ref.id)
    )
