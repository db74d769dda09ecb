"""The e-mails a registrant gets: confirmation (or waitlist place), promotion, change, cancellation.

Each is written in the language the registrant used, with the personal link, and with an
.ics entry whenever they hold a place. A `Mailing` queues them in the outbox inside the
write's own transaction and sends them after commit (`live.outbox`): a failing mail server
delays a mail but never loses it, and never undoes the registration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from babel.support import NullTranslations
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.attendance.codes import set_body, wants_checkin
from live.i18n import Localiser, load_translations
from live.models.registration import Attendance, Status
from live.outbox import BadAddress, MailAddress, Outbox, Ref, outbox_for, parse_address
from live.registration.ics import calendar_entry
from live.registration.links import page_url
from live.registration.rules import N_
from live.registration.service import Outcome, Receipt, promote_event
from live.settings import Settings

log = logging.getLogger(__name__)

SUBJECTS = {
    "confirmed": N_("Registration confirmed: %(event)s"),
    "waitlisted": N_("On the waiting list: %(event)s"),
    "promoted": N_("You have a place: %(event)s"),
    "changed": N_("Registration changed: %(event)s"),
    "cancelled": N_("Registration cancelled: %(event)s"),
}

LEADS = {
    "confirmed": N_("You are registered for %(event)s."),
    "waitlisted": N_(
        "The places are taken; you are number %(position)s on the waiting list "
        "for %(event)s. We will e-mail you if a place frees up."
    ),
    "promoted": N_("A place became free and it is yours: you are now registered for %(event)s."),
    "changed": N_("Your registration for %(event)s was changed."),
    "cancelled": N_("Your registration for %(event)s is cancelled. Welcome back another time."),
}


def localiser(
    settings: Settings, locale: str, translations: Mapping[str, NullTranslations] | None = None
) -> Localiser:
    """A Localiser for one registrant's language in the configured time zone."""
    catalogues = translations if translations is not None else load_translations()
    chosen = catalogues.get(locale, NullTranslations())
    return Localiser(locale, chosen, ZoneInfo(settings.timezone))


def _body(kind: str, receipt: Receipt, l10n: Localiser, settings: Settings) -> str:
    lines = [l10n.gettext(N_("Hello %(name)s,"), name=receipt.name), ""]
    lines.append(
        l10n.gettext(
            LEADS[kind], event=receipt.event_title, position=receipt.waitlist_position or ""
        )
    )
    if kind != "cancelled":
        mode = N_("in the room") if receipt.attendance == Attendance.IN_PERSON else N_("online")
        lines += [
            "",
            l10n.gettext(
                N_("When: %(when)s"),
                when=(
                    f"{l10n.weekday_date(receipt.starts_at)} {l10n.span(receipt.starts_at, receipt.ends_at)}"
                ),
            ),
            l10n.gettext(
                N_("Where: %(where)s (%(mode)s)"),
                where=", ".join(p for p in (receipt.venue, receipt.city) if p),
                mode=l10n.gettext(mode),
            ),
        ]
        if receipt.theme_title:
            lines.append(l10n.gettext(N_("Theme: %(theme)s"), theme=receipt.theme_title))
        if receipt.diet:
            lines.append(l10n.gettext(N_("Dietary needs: %(diet)s"), diet=receipt.diet))
        lines += [
            "",
            l10n.gettext(N_("See, change or cancel your registration here:")),
            page_url(settings.mail_base_url, receipt.token),
        ]
    return "\n".join(lines) + "\n"


def compose(
    kind: str,
    receipt: Receipt,
    settings: Settings,
    translations: Mapping[str, NullTranslations] | None = None,
    to: MailAddress | None = None,
) -> EmailMessage:
    """One message of `kind` (confirmed, waitlisted, promoted, changed, cancelled)."""
    l10n = localiser(settings, receipt.locale, translations)
    to = to or parse_address(receipt.email)
    message = EmailMessage()
    message["Subject"] = l10n.gettext(SUBJECTS[kind], event=receipt.event_title)
    message["From"] = settings.mail_from
    # The envelope form: A-label domain; a non-ASCII local part needs SMTPUTF8 to travel.
    message["To"] = Address(display_name=receipt.name, username=to.local, domain=to.ascii_domain)
    domain = settings.mail_base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    message["Message-ID"] = make_msgid(domain=domain or "salen")
    message["Content-Language"] = receipt.locale
    holds_place = kind != "cancelled" and receipt.status == Status.CONFIRMED
    # In-room places carry the check-in QR code (live.attendance.codes explains the format).
    set_body(message, _body(kind, receipt, l10n, settings), receipt, l10n,
             checkin=holds_place and wants_checkin(receipt))
    if holds_place:
        message.add_attachment(
            calendar_entry(receipt, base_url=settings.mail_base_url, timezone=settings.timezone),
            maintype="text",
            subtype="calendar",
            filename="invitation.ics",
            params={"method": "PUBLISH"},
        )
    return message


def kind_for(receipt: Receipt) -> str:
    """The confirmation kind that fits a new registration's status."""
    return "waitlisted" if receipt.status == Status.WAITLISTED else "confirmed"


Mails = list[tuple[str, Receipt]]


def mails_for(kind: str, *, registrant: bool = True) -> Callable[[Outcome], Mails]:
    """Who is mailed after a write: the registrant (`kind`, or "new" for the confirmation
    that fits) unless `registrant` is False, and everybody promoted."""

    def chosen(outcome: Outcome) -> Mails:
        own = kind_for(outcome.receipt) if kind == "new" else kind
        mails = [(own, outcome.receipt)] if registrant else []
        return mails + [("promoted", r) for r in outcome.promoted]

    return chosen


CONFIRMATION = mails_for("new")


class Mailing:
    """Mails queued inside a write transaction (call it as the service's `after`), sent after."""

    def __init__(
        self,
        outbox: Outbox,
        settings: Settings,
        translations: Mapping[str, NullTranslations] | None,
        pick: Callable[[Outcome], Mails] = CONFIRMATION,
    ) -> None:
        self.outbox, self.settings, self.translations, self.pick = (
            outbox, settings, translations, pick
        )
        self.ids: list[int] = []

    async def __call__(self, session: AsyncSession, outcome: Outcome) -> None:
        """Queue the mails that `pick` chooses for `outcome`, in `session`'s transaction."""
        await self.queue(session, self.pick(outcome))

    async def queue(self, session: AsyncSession, mails: Mails) -> None:
        """Queue these mails in `session`'s transaction."""
        for kind, receipt in mails:
            try:
                to = parse_address(receipt.email)
            except BadAddress:  # stored before addresses were checked this closely
                log.warning("registration %d: no mail, the address is not usable", receipt.id)
                continue
            message = compose(kind, receipt, self.settings, self.translations, to)
            ref = Ref("registration", receipt.id)
            self.ids.append(
                await self.outbox.add(session, message, to, kind=f"registration.{kind}", ref=ref)
            )

    async def send(self) -> None:
        """After commit: try the queued mails now; what fails is retried by the outbox."""
        await self.outbox.send_now(self.ids)


async def promote_and_notify(
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    event_id: int,
    translations: Mapping[str, NullTranslations] | None = None,
) -> list[Receipt]:
    """After an organiser raised a capacity: fill the places from the waitlist and mail them."""
    mailing = Mailing(outbox_for(settings, db), settings, translations)

    async def queue(session: AsyncSession, promoted: list[Receipt]) -> None:
        await mailing.queue(session, [("promoted", r) for r in promoted])

    promoted = await promote_event(db, event_id, after=queue)
    await mailing.send()
    return promoted
