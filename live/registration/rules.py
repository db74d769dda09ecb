"""The registration decision as pure functions: open, deadline, mode, quota, place or waitlist.

Rules (written down here because the seeds leave them open):
- A quota counts every live registration (confirmed *and* waitlisted) of the organisation on
  the whole event, across occurrences and modes: "max four participants from each county"
  is about the event, and a waitlisted person would otherwise be promoted past the quota.
  Because waitlisted people already count, promotion never needs a quota check.
- Quota overflow refuses (`registration.quota_exceeded`); it never waitlists.
- A full occurrence/mode waitlists newcomers. Newcomers also waitlist while anybody is
  waiting there, so nobody jumps the queue when a place frees up between promotions.
- Moving a confirmed registration to a full occurrence/mode is refused (`registration.full`)
  so the registrant keeps the place they have ("as far as capacity allows").
- In-room attendance is offered unless the in-room capacity is 0; online attendance is
  offered when the occurrence is marked `online` and its online capacity is not 0.
  A capacity of None means unlimited. An occurrence's capacity and the places left in it
  are the event's (`live.events.domain.capacity`, `places_left`), one count for the event
  page, the form and the API.

Messages are English msgids with %(name)s parameters, marked with `N_` for extraction and
translated when they are shown (see `Message.render`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from live.errors import Conflict, Invalid, SalenError
from live.models.people import OrganisationKind
from live.models.registration import Attendance, Status


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it yet."""
    return message


@dataclass(frozen=True)
class Message:
    """A msgid and its parameters, translated late (in the reader's language)."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(
        self,
        gettext: Callable[[str], str] | None = None,
        date: Callable[[dt.datetime], str] | None = None,
    ) -> str:
        """The text in the language `gettext` translates into; dates through `date`."""
        text = gettext(self.msgid) if gettext else self.msgid
        values = {
            key: (date(value) if date else english_date(value))
            if isinstance(value, dt.datetime)
            else value
            for key, value in self.params.items()
        }
        return text % values if values else text


def english_date(value: dt.datetime) -> str:
    """ "13 December", in Oslo time: the untranslated form of a date in a message."""
    from zoneinfo import ZoneInfo

    local = value.astimezone(ZoneInfo("Europe/Oslo"))
    return f"{local.day} {local:%B}"


class Refusal(SalenError):
    """A rule said no: carries msgids so the message can be shown in the reader's language."""

    def __init__(
        self, code: str, text: Message, fields: Mapping[str, Message] | None = None
    ) -> None:
        self.text = text
        self.field_texts = dict(fields or {})
        super().__init__(
            text.render(), code=code, fields={k: v.render() for k, v in self.field_texts.items()}
        )

    def localise(self, render: Callable[[Message], str]) -> None:
        """Replace the English message and field messages by their translations."""
        self.message = render(self.text)
        self.fields = {key: render(value) for key, value in self.field_texts.items()}
        self.args = (self.message,)


class Refused(Refusal, Invalid):
    """422: the request is well-formed but the rules say no (or a field is bad)."""

    status = Invalid.status


class DuplicateRegistration(Refusal, Conflict):
    """409: this e-mail already has a live registration for the event."""

    status = Conflict.status

    def __init__(self) -> None:
        super().__init__(
            "registration.duplicate",
            Message(
                N_(
                    "This e-mail address is already registered for this event. "
                    "Use the link in your confirmation e-mail to change or cancel."
                )
            ),
            {"email": Message(N_("Already registered."))},
        )


def refuse(code: str, text: Message, *, fields: Mapping[str, Message] | None = None) -> Refused:
    """A 422 refusal with a code, a message and optional field messages."""
    return Refused(code, text, fields)


def check_open(registration_open: bool) -> None:
    """Refuse when the organiser has closed registration."""
    if not registration_open:
        raise refuse("registration.closed", Message(N_("Registration for this event is closed.")))


def check_deadline(deadline: dt.datetime | None, now: dt.datetime) -> None:
    """Refuse after the occurrence's deadline."""
    if deadline is not None and now > deadline:
        raise refuse(
            "registration.deadline_passed",
            Message(N_("The registration deadline passed on %(date)s."), {"date": deadline}),
        )


def offered(attendance: Attendance, capacity: int | None, online: bool) -> bool:
    """Whether the occurrence offers this way of attending at all."""
    if attendance == Attendance.ONLINE and not online:
        return False
    return capacity != 0


def check_mode(attendance: Attendance, capacity: int | None, online: bool) -> None:
    """Refuse a way of attending the occurrence does not offer."""
    if not offered(attendance, capacity, online):
        text = (
            Message(N_("This occurrence cannot be attended online."))
            if attendance == Attendance.ONLINE
            else Message(N_("This occurrence has no places in the room."))
        )
        raise refuse("registration.mode_unavailable", text, fields={"attendance": text})


@dataclass(frozen=True)
class QuotaRule:
    """A quota as the rules see it (see live.models.events.Quota)."""

    limit: int
    organisation_kind: OrganisationKind | str | None = None
    organisation_id: int | None = None


def applicable_limit(
    quotas: Iterable[QuotaRule], organisation_id: int | None, kind: str | None
) -> int | None:
    """The tightest quota that covers this organisation, or None when none does."""
    limits = [
        q.limit
        for q in quotas
        if organisation_id is not None
        and (
            q.organisation_id == organisation_id
            or (
                q.organisation_id is None
                and q.organisation_kind is not None
                and str(q.organisation_kind) == str(kind)
            )
        )
    ]
    return min(limits) if limits else None


def check_quota(limit: int | None, used: int, *, subject: str = "", contact: str = "") -> None:
    """Refuse when `subject` (an organisation or a region) already holds `limit` places.

    The message names the organisation and the count, never who holds the places, and how
    to reach the organiser (to coordinate, or to hand a place over).
    """
    if limit is None or used < limit:
        return
    params: dict[str, object] = {"used": used, "limit": limit, "subject": subject,
                                 "contact": contact}
    if subject and contact:
        msgid = N_("%(subject)s has already used its %(used)s of %(limit)s places. "
                   "Contact the organiser at %(contact)s.")
    elif subject:
        msgid = N_("%(subject)s has already used its %(used)s of %(limit)s places.")
    else:
        msgid = N_("Your organisation already has %(used)s of %(limit)s places.")
    raise refuse(
        "registration.quota_exceeded",
        Message(msgid, params),
        fields={"organisation": Message(N_("This organisation's places are taken."))},
    )


def place(capacity: int | None, confirmed: int, waiting: int) -> Status:
    """Confirmed while places are free and nobody is waiting, else waitlisted."""
    if capacity is None or (confirmed < capacity and waiting == 0):
        return Status.CONFIRMED
    return Status.WAITLISTED


def check_move(capacity: int | None, confirmed: int, waiting: int) -> None:
    """Refuse moving a confirmed registrant into an occurrence/mode without a free place."""
    if place(capacity, confirmed, waiting) != Status.CONFIRMED:
        raise refuse(
            "registration.full",
            Message(N_("There are no free places there; you keep the place you have.")),
            fields={"occurrence": Message(N_("Full."))},
        )


def promotable(capacity: int | None, confirmed: int, waiting: int) -> int:
    """How many of the waitlist can move up now."""
    if capacity is None:
        return waiting
    return max(0, min(waiting, capacity - confirmed))
