"""Outgoing mail for every feature: addresses, the outbox table, its sender and transport.

Rooms: `addresses` (IDNA domains, when SMTPUTF8 is needed), `transport` (SMTP or a folder
of .eml files), `sender` (the `Outbox`: queue in the caller's transaction, send after
commit, retry through the job `outbox.send`). Features queue mail with `Outbox.add` inside
their write transaction and call `send_now` after it committed; they never talk SMTP.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.jobs import Scheduler
from live.outbox.addresses import BadAddress, MailAddress, parse_address
from live.outbox.sender import Outbox, Ref, forget
from live.outbox.transport import Mailer
from live.settings import Settings

SEND_EVERY = dt.timedelta(seconds=30)

__all__ = [
    "BadAddress",
    "MailAddress",
    "Outbox",
    "Ref",
    "forget",
    "open_outbox",
    "outbox_for",
    "parse_address",
]


def outbox_for(settings: Settings, db: async_sessionmaker[AsyncSession]) -> Outbox:
    """The outbox the settings describe (SMTP, or the outbox folder)."""
    return Outbox(Mailer(settings.smtp_url, settings.outbox_dir, settings.mail_from), db)


async def open_outbox(
    settings: Settings, db: async_sessionmaker[AsyncSession], jobs: Scheduler
) -> Outbox:
    """The app's outbox, its queue sent by the job `outbox.send` every 30 seconds."""
    outbox = outbox_for(settings, db)
    outbox.clock = lambda: jobs.clock()  # one clock for the queue and the job that sends it
    await jobs.every("outbox.send", SEND_EVERY, outbox.deliver_due)
    return outbox
