"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for mail tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message, its recipients and its SMTPUTF8 flag."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    smtputf8: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if envelope.smtp_utf8:  # raw UTF-8 headers: the bytes parser would escape them
            message = message_from_string(envelope.content.decode(), policy=policy.default)
        else:
            message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        self.smtputf8.append(bool(envelope.smtp_utf8))
        return "250 Message accepted for delivery"

    async def wait_for(self, n: int) -> None:
        """Until `n` messages arrived (aiosmtpd hands over before the client's QUIT)."""
        for _ in range(200):
            if len(self.messages) >= n:
                return
            await asyncio.sleep(0.01)


@contextlib.contextmanager
def smtp_server(port: int, *, smtputf8: bool = False) -> Iterator[Inbox]:
    """A server on 127.0.0.1:`port` for the duration of the block; SMTPUTF8 only when asked
    (aiosmtpd's Controller would offer it by default)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
