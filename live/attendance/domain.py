"""Pure rules of attendance: the check-in code, the check-in verdict, minutes in coarse steps.

The check-in code is `SALEN-CI:<registration id>:<20 base32 characters>`, the characters a
one-way digest of the registration's personal-link secret. So a code proves the
registration without revealing the secret that manages it (a photo of a phone at the door
cannot cancel anyone's place), it needs no column of its own, and it stays valid across
restarts and secret-key changes. All of it is in the QR alphanumeric set, which keeps the
code small. A code is refused with its reason: not a code, forged (no such registration or
a wrong digest), another event's, cancelled, or not confirmed (waiting list).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

from live.i18n import N_
from live.models.registration import Status

PREFIX = "SALEN-CI"
DIGEST_CHARS = 20
CODE = re.compile(rf"^{PREFIX}:(\d{{1,12}}):([A-Z2-7]{{{DIGEST_CHARS}}})$")
# Minutes watched are kept in steps of this many minutes (rounded down; a viewer who
# joined at all counts as joined).
STEP_MINUTES = 5


def digest(token: str) -> str:
    """The check-in digest of a registration's personal-link secret."""
    raw = hashlib.sha256(b"salen.checkin\0" + token.encode()).digest()
    return base64.b32encode(raw).decode()[:DIGEST_CHARS]


def checkin_code(registration_id: int, token: str) -> str:
    """The text of a registration's check-in QR code."""
    return f"{PREFIX}:{registration_id}:{digest(token)}"


def parse_code(text: str) -> tuple[int, str] | None:
    """(registration id, digest) of a scanned or typed code, or None when it is no code."""
    found = CODE.match(text.strip().upper())
    return None if found is None else (int(found.group(1)), found.group(2))


def matches(token: str, given: str) -> bool:
    """Does `given` (a code's digest) belong to the registration with this secret?"""
    return hmac.compare_digest(digest(token).encode(), given.encode())


class Verdict(enum.StrEnum):
    """What a check-in attempt came to; the first two let the person in."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"
    NOT_A_CODE = "not_a_code"
    FORGED = "forged"
    OTHER_EVENT = "other_event"
    CANCELLED = "cancelled"
    NOT_CONFIRMED = "not_confirmed"

    @property
    def admitted(self) -> bool:
        return self in (Verdict.CHECKED_IN, Verdict.ALREADY)


# Why a code was refused, as the door is told (the admitted ones are worded by the page).
REASONS = {
    Verdict.NOT_A_CODE: N_("This is not a Salen check-in code."),
    Verdict.FORGED: N_(
        "This check-in code is not valid: it is forged, it was replaced when the place was "
        "handed to a colleague, or its registration no longer exists."
    ),
    Verdict.OTHER_EVENT: N_("This check-in code is for another event."),
    Verdict.CANCELLED: N_("This registration was cancelled."),
    Verdict.NOT_CONFIRMED: N_("This person is on the waiting list and has no place."),
}


@dataclass(frozen=True)
class Holder:
    """What the rule needs to know of the registration a code names."""

    event_id: int
    status: Status
    token: str


def judge(event_id: int, holder: Holder | None, given: str) -> Verdict | None:
    """Why a code may not check in at this event, or None when it may."""
    if holder is None or not matches(holder.token, given):
        return Verdict.FORGED
    if holder.event_id != event_id:
        return Verdict.OTHER_EVENT
    if holder.status == Status.CANCELLED:
        return Verdict.CANCELLED
    if holder.status != Status.CONFIRMED:
        return Verdict.NOT_CONFIRMED
    return None


def coarse_minutes(seconds: float) -> int:
    """Whole minutes watched, rounded down to a step of `STEP_MINUTES`."""
    minutes = int(max(seconds, 0) // 60)
    return minutes - minutes % STEP_MINUTES


def steps_between(joined: dt.datetime, until: dt.datetime) -> int:
    """Coarse minutes of one connection from `joined` to `until`."""
    return coarse_minutes((until - joined).total_seconds())
