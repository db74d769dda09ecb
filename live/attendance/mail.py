"""Attendance mail: the check-in QR code in a registrant's mail, the day-before reminder, and
the organisers' summary when a registration deadline passes.

The check-in code goes in as `live.attendance.codes` writes it (an inline PNG).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from babel.support import NullTranslations

from live.attendance.codes import set_body
from live.i18n import N_
from live.models.registration import Attendance
from live.outbox import MailAddress
from live.registration.ics import calendar_entry
from live.registration.links import page_url
from live.registration.notify import localiser
from live.registration.service import Receipt
from live.settings import Settings


def stream_url(settings: Settings, receipt: Receipt) -> str:
    """The live page through the personal link: the viewer is known by name there."""
    return f"{settings.base_url.rstrip('/')}/e/{receipt.event_slug}/live?r={receipt.token}"


def _domain(settings: Settings) -> str:
    return settings.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "salen"


def _headers(message: EmailMessage, settings: Settings, name: str, to: MailAddress) -> None:
    message["From"] = settings.mail_from
    message["To"] = Address(display_name=name, username=to.local, domain=to.ascii_domain)
    message["Message-ID"] = make_msgid(domain=_domain(settings))


def reminder(
    receipt: Receipt,
    settings: Settings,
    to: MailAddress,
    translations: Mapping[str, NullTranslations] | None = None,
) -> EmailMessage:
    """The day-before reminder: when and where, the stream link or the check-in code, .ics."""
    l10n = localiser(settings, receipt.locale, translations)
    message = EmailMessage()
    message["Subject"] = l10n.gettext(N_("Reminder: %(event)s tomorrow"), event=receipt.event_title)
    _headers(message, settings, receipt.name, to)
    message["Content-Language"] = receipt.locale
    online = receipt.attendance == Attendance.ONLINE
    lines = [
        l10n.gettext(N_("Hello %(name)s,"), name=receipt.name),
        "",
        l10n.gettext(N_("A reminder: you are registered for %(event)s."), event=receipt.event_title),
        "",
        l10n.gettext(
            N_("When: %(when)s"),
            when=f"{l10n.weekday_date(receipt.starts_at)} {l10n.span(receipt.starts_at, receipt.ends_at)}",
        ),
    ]
    if online:
        lines += [
            l10n.gettext(N_("You take part online. Watch and ask questions here:")),
            stream_url(settings, receipt),
        ]
    else:
        where = ", ".join(p for p in (receipt.venue, receipt.address, receipt.city) if p)
        lines.append(l10n.gettext(N_("Where: %(where)s"), where=where))
    lines += [
        "",
        l10n.gettext(N_("If you cannot come after all, please cancel so that somebody else gets your place:")),
        page_url(settings.base_url, receipt.token),
    ]
    set_body(message, "\n".join(lines) + "\n", receipt, l10n, checkin=not online)
    message.add_attachment(
        calendar_entry(receipt, base_url=settings.base_url, timezone=settings.timezone),
        maintype="text", subtype="calendar", filename="invitation.ics",
        params={"method": "PUBLISH"},
    )
    return message


@dataclass(frozen=True)
class Summary:
    """The numbers of one occurrence when its registration closed."""

    event_title: str
    event_slug: str
    occurrence: str
    deadline_text: str
    in_room: int
    online: int
    waiting: int
    diets: Sequence[tuple[str, int]]
    themes: Sequence[tuple[str, int]]


def summarise_diets(diets: Sequence[str]) -> list[tuple[str, int]]:
    """Dietary needs as written, grouped case- and space-insensitively, most frequent first."""
    counted: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for diet in diets:
        key = " ".join(diet.split()).casefold()
        if key:
            counted[key] += 1
            shown.setdefault(key, " ".join(diet.split()))
    return [(shown[key], n) for key, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))]


def summary(
    facts: Summary,
    settings: Settings,
    to: MailAddress,
    translations: Mapping[str, NullTranslations] | None = None,
) -> EmailMessage:
    """The organisers' summary of one occurrence after its deadline."""
    l10n = localiser(settings, settings.default_locale, translations)
    message = EmailMessage()
    message["Subject"] = l10n.gettext(
        N_("Registration closed: %(event)s, %(occurrence)s"),
        event=facts.event_title, occurrence=facts.occurrence,
    )
    _headers(message, settings, "", to)
    message["Content-Language"] = l10n.locale
    lines = [
        l10n.gettext(
            N_("Registration for %(event)s, %(occurrence)s, closed %(deadline)s."),
            event=facts.event_title, occurrence=facts.occurrence, deadline=facts.deadline_text,
        ),
        "",
        l10n.ngettext("%(num)s confirmed participant", "%(num)s confirmed participants",
                      facts.in_room + facts.online),
        l10n.gettext(N_("In the room: %(n)s"), n=facts.in_room),
        l10n.gettext(N_("Online: %(n)s"), n=facts.online),
        l10n.gettext(N_("On the waiting list: %(n)s"), n=facts.waiting),
        "",
        l10n.gettext(N_("Dietary needs (in the room):")),
    ]
    lines += [f"- {diet}: {n}" for diet, n in facts.diets] or [l10n.gettext(N_("none given"))]
    if facts.themes:
        lines += ["", l10n.gettext(N_("Themes:"))]
        lines += [f"- {theme}: {n}" for theme, n in facts.themes]
    lines += [
        "",
        l10n.gettext(N_("The participant list:")),
        f"{settings.base_url.rstrip('/')}/admin/events/{facts.event_slug}/registrations",
    ]
    message.set_content("\n".join(lines) + "\n", cte="quoted-printable")
    return message
