"""E-mail addresses as people type them, and as they travel over SMTP.

A domain may be internationalised (`ærø.no`). It is kept in Unicode, normalised by UTS #46
so that `ÆRØ.no`, `ærø.no` and `xn--r-3fa9c.no` are one address, and sent as A-labels
(IDNA 2008, the `idna` package), which every SMTP server accepts. A local part outside
ASCII (`øla@`) can travel only with the SMTPUTF8 extension (RFC 6531), which the receiving
server must offer: `MailAddress.smtputf8` says when a mail needs it.

The syntax is the common dot-atom one (no quoted local parts, no comments, no IP literals);
anything else is refused with `BadAddress` before a caller stores it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import idna

ADDRESS_MAX = 254  # RFC 5321's limit on a forward path, counted on the wire form
# atext of RFC 5322, plus any character outside ASCII that is not a control or space.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u00a1-\U0010ffff]+"
LOCAL = re.compile(rf"^{_ATOM}(\.{_ATOM})*$")
ASCII_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class BadAddress(ValueError):
    """Not an e-mail address Salen can send to."""


@dataclass(frozen=True)
class MailAddress:
    """An address split into its parts, with the domain in Unicode and in A-labels."""

    local: str
    domain: str
    ascii_domain: str

    @property
    def text(self) -> str:
        """The address as people read it (stored, shown, compared)."""
        return f"{self.local}@{self.domain}"

    @property
    def envelope(self) -> str:
        """The address as SMTP carries it: the domain in A-labels."""
        return f"{self.local}@{self.ascii_domain}"

    @property
    def smtputf8(self) -> bool:
        """Whether delivery needs the server's SMTPUTF8 extension (a non-ASCII local part)."""
        return not self.local.isascii()


def _domain(domain: str) -> tuple[str, str]:
    """(Unicode form, A-label form) of a domain; raise BadAddress when it is not one."""
    if domain.isascii() and "xn--" not in domain.lower():
        labels = domain.lower().split(".")
        if len(labels) < 2 or not all(ASCII_LABEL.match(label) for label in labels):
            raise BadAddress(f"not a domain: {domain!r}")
        return domain.lower(), domain.lower()
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        unicode_domain = idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError) as error:
        raise BadAddress(f"not an internationalised domain: {domain!r}") from error
    if "." not in ascii_domain:
        raise BadAddress(f"not a domain: {domain!r}")
    return unicode_domain, ascii_domain


def parse_address(text: str) -> MailAddress:
    """Check and normalise an address (NFC, lower case); raise BadAddress naming the problem."""
    value = unicodedata.normalize("NFC", text.strip()).lower()
    local, at, domain = value.rpartition("@")
    if not at or not LOCAL.match(local) or len(local) > 64:
        raise BadAddress(f"not an address: {text!r}")
    unicode_domain, ascii_domain = _domain(domain)
    address = MailAddress(local, unicode_domain, ascii_domain)
    if len(address.envelope.encode()) > ADDRESS_MAX:
        raise BadAddress("address too long")
    return address
