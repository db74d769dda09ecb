"""Outgoing mail: SMTP when `Settings.smtp_url` is set, else .eml files in the outbox folder.

`smtp://user:pass@host:port` sends in clear or upgrades with STARTTLS when the server offers
it; `smtps://` uses implicit TLS. The outbox keeps the embedded default useful: an organiser
page lists it (`read_outbox`). There is no queue or retry: a failed send raises to the caller.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from live.models.base import utcnow


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to hand over mail."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:port` or `smtps://...`; raise ValueError on anything else."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError(f"SMTP URL must be smtp://host:port or smtps://host:port, got {url!r}")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
    )


@dataclass(frozen=True)
class Mailer:
    """Sends through SMTP, or into `outbox_dir` when `smtp_url` is empty."""

    smtp_url: str
    outbox_dir: Path
    sender: str

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message (sets From when missing)."""
        if "From" not in message:
            message["From"] = self.sender
        if not self.smtp_url:
            write_outbox(self.outbox_dir, message)
            return
        target = parse_smtp_url(self.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.implicit_tls,
            timeout=30,
        )


def write_outbox(directory: Path, message: EmailMessage) -> Path:
    """Write one .eml atomically (temp file, then rename); names sort by time."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    temporary = directory / f".{name}.tmp"
    temporary.write_bytes(message.as_bytes(policy=policy.SMTP))
    os.replace(temporary, directory / name)
    return directory / name


def read_outbox(directory: Path, limit: int = 200) -> list[tuple[str, EmailMessage]]:
    """The newest `limit` messages in the outbox, newest first, as (file name, message)."""
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.glob("*.eml")), reverse=True)[:limit]
    parser = BytesParser(policy=policy.default)
    result = []
    for name in names:
        message = parser.parsebytes((directory / name).read_bytes())
        assert isinstance(message, EmailMessage)
        result.append((name, message))
    return result
