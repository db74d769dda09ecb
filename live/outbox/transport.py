"""Handing one mail over: SMTP when `Settings.smtp_url` is set, else .eml files in a folder.

`smtp://user:pass@host:port` sends in clear or upgrades with STARTTLS when the server offers
it; `smtps://` uses implicit TLS. The folder keeps the embedded default useful (`read_outbox`).
A mail whose recipient has a non-ASCII local part goes with SMTPUTF8, which the server must
offer (`offers_smtputf8` asks it). `Permanent` marks refusals that another attempt would not
change (5xx replies, a missing extension); every other failure is worth a retry. Queueing and
retrying are the outbox's (`live.outbox.sender`), not this module's.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from live.models.base import utcnow

TIMEOUT = 30.0


class Permanent(Exception):
    """The server refused the mail for good (a 5xx reply, or SMTPUTF8 not offered)."""


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
    timeout: float = TIMEOUT

    @property
    def envelope_sender(self) -> str:
        """The bare address of `sender` ("Salen <salen@x.no>" -> "salen@x.no")."""
        return parseaddr(self.sender)[1] or self.sender

    def _client(self) -> aiosmtplib.SMTP:
        target = parse_smtp_url(self.smtp_url)
        return aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.implicit_tls,
            timeout=self.timeout,
        )

    async def send_raw(self, recipient: str, raw: bytes, *, smtputf8: bool = False) -> None:
        """Hand over one serialised message for `recipient`; raise Permanent or another error."""
        if not self.smtp_url:
            write_outbox(self.outbox_dir, raw)
            return
        options = ["SMTPUTF8"] if smtputf8 else []
        try:
            async with self._client() as client:
                await client.sendmail(self.envelope_sender, [recipient], raw, mail_options=options)
        except aiosmtplib.SMTPNotSupported as error:
            raise Permanent(str(error)) from error
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [reply.code for reply in error.recipients]
            if codes and all(500 <= code < 600 for code in codes):
                raise Permanent(str(error)) from error
            raise
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise Permanent(f"{error.code} {error.message}") from error
            raise

    async def offers_smtputf8(self) -> bool:
        """Whether mail with a non-ASCII local part can go (always, into the folder)."""
        if not self.smtp_url:
            return True
        async with self._client() as client:
            await client.ehlo()
            return client.supports_extension("smtputf8")

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message to the addresses in its To (sets From when missing)."""
        if "From" not in message:
            message["From"] = self.sender
        for _name, address in getaddresses(message.get_all("To", [])):
            utf8 = not address.isascii()
            raw = message.as_bytes(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
            await self.send_raw(address, raw, smtputf8=utf8)


def write_outbox(directory: Path, raw: bytes) -> Path:
    """Write one .eml atomically (temp file, then rename); names sort by time."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    temporary = directory / f".{name}.tmp"
    temporary.write_bytes(raw)
    os.replace(temporary, directory / name)
    return directory / name


def read_outbox(directory: Path, limit: int = 200) -> list[tuple[str, EmailMessage]]:
    """The newest `limit` messages in the folder, newest first, as (file name, message)."""
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
