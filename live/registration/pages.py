"""Registration pages for people: the form, the answer, and the personal page behind the link.

    GET  /e/{slug}/register       the form, with places left per occurrence and mode
    POST /e/{slug}/register       register -> 303 to the personal page, or the form again (422)
    GET  /r/{token}               the personal page: status, details, change, cancel, delete
    POST /r/{token}               change occurrence, attendance, theme or diet
    POST /r/{token}/cancel        cancel (the first on the waitlist moves up and is mailed)
    POST /r/{token}/delete        cancel and delete the registrant's data
    POST /r/{token}/resend        send the confirmation (with the personal link) again
    POST /r/{token}/handover      hand the place to a colleague (the link moves to them)
    GET  /r/{token}/calendar.ics  the calendar entry of a confirmed place

Every page works without JavaScript. Refusals from the service are translated with the
registration's own catalogue (`registration.api.render_with`), like the API's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth, confirm
from live.attendance.codes import checkin_view
from live.errors import NotFound
from live.events.service import load_event
from live.events.visibility import check_visible
from live.identity import registration_participant
from live.links import page_base
from live.models import Event
from live.models.base import utcnow
from live.models.registration import Attendance, Registration, Status
from live.organisations.dates import for_region, region_of
from live.organisations.service import search
from live.outbox import Ref, forget
from live.registration import notify, service
from live.registration.handover import Colleague, hand_over
from live.registration.ics import calendar_entry
from live.registration.places import Places, availability
from live.registration.rules import N_, Refusal
from live.registration.validate import (
    ORGANISATION_MAX,
    Submission,
    parse_changes,
    parse_colleague,
    parse_submission,
)
from live.registration.web import client_key, limiter, mailing, outbox_of, reachable, render_with
from live.state import app_state
from live.web import localiser, render

FLASH = "registration_flash"
AS_TYPED = "as-typed"  # the answer to "Did you mean ...?" that keeps the name as typed
ORGANISATIONS_MAX = 2000
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
SUBMITTED = (
    "occurrence",
    "attendance",
    "name",
    "email",
    "organisation",
    "job_title",
    "theme",
    "diet",
)
CHANGEABLE = ("occurrence", "attendance", "theme", "diet")


@dataclass(frozen=True)
class Mode:
    """One way of attending one occurrence, as the form shows it."""

    attendance: str
    offered: bool
    capacity: int | None
    places_left: int | None
    waiting: int

    @property
    def full(self) -> bool:
        """Newcomers would be waitlisted."""
        return self.places_left == 0 or self.waiting > 0


@dataclass(frozen=True)
class Choice:
    """An occurrence on the form: where, when, whether it is open, and its modes."""

    id: int
    slug: str
    city: str
    venue: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    deadline: dt.datetime | None
    open: bool
    serves_food: bool
    modes: tuple[Mode, ...]
    regions: tuple[str, ...] = ()
    suggested: bool = False

    @property
    def has_room(self) -> bool:
        """Open, with a place free in some mode offered."""
        return self.open and any(m.offered and not m.full for m in self.modes)


def choices(event: Event, places: list[Places], region: str = "") -> list[Choice]:
    """The event's occurrences joined with the places left in each mode; the one meant for
    `region` (`live.organisations.dates`) first and marked suggested."""
    meant = for_region(list(event.occurrences), region)
    by_occurrence: dict[int, list[Places]] = {}
    for p in places:
        by_occurrence.setdefault(p.occurrence_id, []).append(p)
    result = []
    for occ in event.occurrences:
        found = by_occurrence.get(occ.id, [])
        modes = tuple(
            Mode(str(p.attendance), p.offered, p.capacity, p.places_left, p.waiting) for p in found
        )
        result.append(
            Choice(
                occ.id,
                occ.slug,
                occ.city,
                occ.venue,
                occ.starts_at,
                occ.ends_at,
                occ.registration_deadline,
                any(p.open for p in found),
                occ.serves_food,
                modes,
                tuple(occ.regions or ()),
                meant is not None and occ.id == meant.id,
            )
        )
    return sorted(result, key=lambda c: not c.suggested)


def online_offered(listed: list[Choice]) -> bool:
    """Whether any occurrence can be attended online."""
    return any(m.offered and m.attendance == "online" for c in listed for m in c.modes)


async def known_organisations(request: Request) -> list[str]:
    """Names for the organisation field's list: the registry and reviewed bodies, never
    what other registrants typed (`live.organisations.service.search`)."""
    async with app_state(request).db() as session:
        return [o.name for o in await search(session, "", limit=ORGANISATIONS_MAX)]


def submitted_organisation(form: FormData, data: dict[str, Any]) -> dict[str, Any]:
    """Apply the registrant's answer to "Did you mean ...?": a suggestion, or as typed."""
    choice = str(form.get("organisation_choice", "")).strip()
    if choice == AS_TYPED:
        data["organisation_as_typed"] = True
    elif choice:
        data["organisation"] = choice
    return data


def form_mapping(form: FormData, keys: tuple[str, ...]) -> dict[str, Any]:
    """The submitted fields the validator knows, with answers gathered from `answers.KEY`."""
    data: dict[str, Any] = {key: str(form[key]) for key in keys if key in form}
    answers = {
        name.removeprefix("answers."): str(form[name])
        for name in form
        if name.startswith("answers.") and str(form[name]).strip()
    }
    if "answers" in keys or answers:
        data["answers"] = answers
    return data


def values_of(form: FormData) -> dict[str, str]:
    """Submitted values to fill the form in again."""
    return {key: str(form[key]) for key in form if key != "csrf_token"}


async def checked_form(request: Request) -> FormData:
    """The submitted form, after the CSRF check."""
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    return form


def localise(request: Request, error: Refusal) -> Refusal:
    """The refusal with its message and field messages in the reader's language."""
    error.localise(render_with(localiser(request)))
    return error


async def form_context(request: Request, slug: str, organisation: str = "") -> dict[str, Any]:
    """What the form needs: the event, the choices with places (the date meant for the
    organisation's region first), known organisations."""
    async with app_state(request).db() as session:
        event = await load_event(session, slug)
        region = await region_of(session, organisation)
    await check_visible(request, event)
    places = await availability(app_state(request).db, slug, unpublished=True)
    listed = choices(event, places, region)
    suggested = next((c for c in listed if c.suggested), None)
    return {
        "region": region,
        "suggested": suggested,
        "by_region": any(c.regions for c in listed),
        "event": event,
        "choices": listed,
        "any_open": event.registration_open and any(c.open for c in listed),
        "online_offered": online_offered(listed),
        "food_at": [c.city for c in listed if c.serves_food],
        "questions": event.registration_questions or [],
        "organisations": await known_organisations(request),
        "errors": {},
        "values": {},
        "refusal": None,
        "suggestions": (),
    }


async def register_form(request: Request) -> Response:
    """GET /e/{slug}/register[?organisation=NAME]: with a name, the date meant for its
    region comes first and is chosen (while it has room); any other may still be chosen."""
    typed = request.query_params.get("organisation", "")[:ORGANISATION_MAX].strip()
    context = await form_context(request, request.path_params["slug"], typed)
    suggested = context["suggested"]
    if typed:
        context["values"] = {"organisation": typed}
        if suggested is not None and suggested.has_room:
            context["values"]["occurrence"] = suggested.slug
    return render(request, "registration/form.html", context)


async def register(request: Request) -> Response:
    """POST /e/{slug}/register: a confirmed or waitlisted registration, or the form again."""
    slug = request.path_params["slug"]
    form = await checked_form(request)
    await limiter(request).hit(client_key(request))
    mail = mailing(request)
    try:
        data = submitted_organisation(form, form_mapping(form, SUBMITTED + ("answers",)))
        submission = parse_submission(data)
        outcome = await service.register(
            app_state(request).db,
            slug,
            await reachable(request, submission),
            locale=localiser(request).locale,
            after=mail,
        )
    except Refusal as error:
        localise(request, error)
        context = await form_context(request, slug, str(form.get("organisation", "")))
        context |= {"errors": error.fields, "values": values_of(form), "refusal": error,
                    "suggestions": getattr(error, "suggestions", ())}
        return render(request, "registration/form.html", context, status_code=error.status)
    await mail.send()
    app_state(request).metrics.registered(outcome.receipt.event_slug, str(outcome.receipt.status))
    request.session[FLASH] = "new"
    return RedirectResponse(f"/r/{outcome.receipt.token}", status_code=303)


async def personal_context(request: Request, receipt: service.Receipt) -> dict[str, Any]:
    """The personal page's data: the registration and the choices it may move to."""
    async with app_state(request).db() as session:
        event = await load_event(session, receipt.event_slug)
    listed = choices(event, await availability(app_state(request).db, receipt.event_slug))
    rooms = request.state.rooms.service
    group = await rooms.group(event.id)
    return {
        "event": event,
        "group_work": group,
        "group_room": group and await rooms.assignment(
            event.id, registration_participant(receipt.id)),
        "receipt": receipt,
        "checkin": checkin_view(receipt, localiser(request).gettext("Your check-in code")),
        "choices": listed,
        "online_offered": online_offered(listed),
        "food_at": [o.city for o in event.occurrences if o.serves_food],
        "answers": answer_labels(event.registration_questions or [], receipt.answers),
        "flash": request.session.pop(FLASH, None),
        "mail": next(iter(await outbox_of(request).about(Ref("registration", receipt.id))), None),
        "errors": {},
        "values": {},
        "refusal": None,
    }


def answer_labels(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(question label, answer) pairs in the organiser's order."""
    result = []
    for question in questions:
        key = str(question.get("key") or "")
        given = answers.get(key)
        if key and given not in (None, "", []):
            text = ", ".join(map(str, given)) if isinstance(given, list) else str(given)
            result.append((str(question.get("label") or key), text))
    return result


def personal(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    """Render the personal page; never cached, never indexed (the URL is the secret)."""
    response = render(request, "registration/personal.html", context, status_code=status)
    response.headers.update(PRIVATE)
    return response


async def personal_page(request: Request) -> Response:
    """GET /r/{token}."""
    receipt = await service.view(app_state(request).db, request.path_params["token"])
    return personal(request, await personal_context(request, receipt))


async def change(request: Request) -> Response:
    """POST /r/{token}: change occurrence, attendance, theme or diet."""
    token = request.path_params["token"]
    form = await checked_form(request)
    await limiter(request).hit(client_key(request))
    mail = mailing(request, "changed")
    try:
        changes = parse_changes(form_mapping(form, CHANGEABLE))
        await service.change(app_state(request).db, token, changes, after=mail)
    except Refusal as error:
        localise(request, error)
        context = await personal_context(request, await service.view(app_state(request).db, token))
        context |= {"errors": error.fields, "values": values_of(form), "refusal": error}
        return personal(request, context, error.status)
    await mail.send()
    request.session[FLASH] = "changed"
    return RedirectResponse(f"/r/{token}", status_code=303)


def farewell(request: Request, title: str, slug: str, token: str, deleted: bool) -> Response:
    """The page after cancelling (it offers to delete the data too) or after deleting."""
    context = {"event_title": title, "event_slug": slug, "token": token, "deleted": deleted}
    response = render(request, "registration/cancelled.html", context)
    response.headers.update(PRIVATE)
    return response


CANCEL = confirm.declare(
    "registration.cancel", "/r/{token}/cancel", back="/r/{token}",
    title=N_("Cancel your registration?"),
    question=N_("Your place goes to the next person on the waiting list, and you may not get "
                "it back if the event is full."),
    button=N_("Yes, cancel my registration"))


async def cancel(request: Request) -> Response:
    """POST /r/{token}/cancel: the place goes to the first on the waitlist (once confirmed)."""
    form = await checked_form(request)
    if (asked := confirm.ask(request, form, CANCEL)) is not None:
        return asked
    await limiter(request).hit(client_key(request))
    token = request.path_params["token"]
    mail = mailing(request, "cancelled")
    outcome = await service.cancel(app_state(request).db, token, after=mail)
    await mail.send()
    receipt = outcome.receipt
    return farewell(request, receipt.event_title, receipt.event_slug, token, deleted=False)


DELETE = confirm.declare(
    "registration.delete", "/r/{token}/delete", back="/r/{token}",
    title=N_("Delete your data?"),
    question=N_("Your registration is cancelled, and your name, e-mail address and answers are "
                "deleted from the organiser's list. This cannot be undone."),
    button=N_("Yes, delete my data"))


async def delete_data(request: Request) -> Response:
    """POST /r/{token}/delete: cancel if still live, then delete the registrant's row."""
    form = await checked_form(request)
    if (asked := confirm.ask(request, form, DELETE)) is not None:
        return asked
    await limiter(request).hit(client_key(request))
    token = request.path_params["token"]
    # No mail to the registrant: the outbox would keep the data they asked us to delete.
    mail = mailing(request, registrant=False)
    try:
        await service.cancel(app_state(request).db, token, after=mail)
    except NotFound:
        pass  # cancelled before: the data may still be there to delete
    async with app_state(request).db() as session, session.begin():
        row = await session.scalar(
            select(Registration).where(
                Registration.token == token, Registration.status == Status.CANCELLED
            )
        )
        if row is None:
            raise NotFound(
                "No such registration, or it was cancelled.", code="registration.not_found"
            )
        event = await session.get_one(Event, row.event_id)
        title, slug = event.title, event.slug
        await forget(session, Ref("registration", row.id))
        await session.delete(row)
    await mail.send()
    return farewell(request, title, slug, token, deleted=True)


async def resend(request: Request) -> Response:
    """POST /r/{token}/resend: queue the confirmation again and try it at once."""
    await checked_form(request)
    await limiter(request).hit(client_key(request))
    token = request.path_params["token"]
    receipt = await service.view(app_state(request).db, token)
    mail = mailing(request)
    async with app_state(request).db() as session, session.begin():
        await mail.queue(session, [(notify.kind_for(receipt), receipt)])
    await mail.send()
    request.session[FLASH] = "resent"
    return RedirectResponse(f"/r/{token}", status_code=303)


async def handover(request: Request) -> Response:
    """POST /r/{token}/handover: the colleague gets the place and a confirmation."""
    token = request.path_params["token"]
    form = await checked_form(request)
    await limiter(request).hit(client_key(request))
    mail = mailing(request)
    try:
        name, email = parse_colleague(form_mapping(form, ("name", "email")))
        colleague = await reachable(request, Submission("", Attendance.IN_PERSON, name, email, ""))
        outcome = await hand_over(app_state(request).db, token,
                                  Colleague(colleague.name, colleague.email), after=mail)
    except Refusal as error:
        localise(request, error)
        context = await personal_context(request, await service.view(app_state(request).db, token))
        errors = {f"handover-{k}": v for k, v in error.fields.items()}
        context |= {"errors": errors, "values": values_of(form), "refusal": error}
        return personal(request, context, error.status)
    await mail.send()
    receipt = outcome.receipt
    response = render(request, "registration/handed_over.html",
                      {"event_title": receipt.event_title, "event_slug": receipt.event_slug,
                       "colleague": receipt.name})
    response.headers.update(PRIVATE)
    return response


async def calendar(request: Request) -> Response:
    """GET /r/{token}/calendar.ics: only for a confirmed place."""
    receipt = await service.view(app_state(request).db, request.path_params["token"])
    if receipt.status != Status.CONFIRMED:
        raise NotFound(
            N_("There is no calendar entry while you are on the waiting list."),
            code="registration.not_confirmed",
        )
    settings = app_state(request).settings
    body = calendar_entry(
        receipt, base_url=page_base(request), timezone=settings.timezone, now=utcnow()
    )
    headers = PRIVATE | {"Content-Disposition": f'attachment; filename="{receipt.event_slug}.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


routes = [
    Route("/e/{slug}/register", register_form, methods=["GET"], name="register"),
    Route("/e/{slug}/register", register, methods=["POST"]),
    Route("/r/{token}", personal_page, methods=["GET"], name="registration"),
    Route("/r/{token}", change, methods=["POST"]),
    Route("/r/{token}/cancel", cancel, methods=["POST"]),
    Route("/r/{token}/delete", delete_data, methods=["POST"]),
    Route("/r/{token}/resend", resend, methods=["POST"]),
    Route("/r/{token}/handover", handover, methods=["POST"]),
    Route("/r/{token}/calendar.ics", calendar, methods=["GET"]),
]
