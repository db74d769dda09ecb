"""Organiser pages for registrations: participants, changes by hand, deadlines, and the outbox.

    GET  /admin/events/{slug}/registrations              list, counts, filters, downloads
    POST /admin/events/{slug}/registrations              add a participant by hand
    GET  /admin/events/{slug}/registrations/{id}/edit    one participant
    POST /admin/events/{slug}/registrations/{id}/edit    move (date, mode, theme, diet) or confirm
    POST /admin/events/{slug}/registrations/{id}/remove  remove (the waitlist moves up)
    POST /admin/events/{slug}/registration-settings      close early, reopen, move deadlines
    GET  /admin/outbox                                   outgoing mail: queued, sent, failed

The paths keep clear of the event editor's `/admin/events/{slug}/{part}/{key}[/delete]`
shapes, so the order of the two route lists does not matter. Downloads link to the API
(`/api/events/{slug}/registrations.csv|.xlsx`), which accepts the organiser's session.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth, confirm
from live.attendance.service import attendance_of
from live.bounds import parse_id
from live.errors import Forbidden, Invalid, NotFound, Unauthorized
from live.events.admin import organiser_page, page, posted
from live.events.domain import capacity
from live.events.forms import local_input
from live.events.service import export_event, load_event, save_event
from live.models import Event, OutboxMail, Registration
from live.models.registration import Attendance, Status
from live.organisations import review
from live.registration import export, rules, service
from live.registration.pages import SUBMITTED as PAGE_FIELDS
from live.registration.pages import form_mapping, known_organisations, localise, values_of
from live.registration.rules import N_, Refusal
from live.registration.validate import parse_changes, parse_submission
from live.registration.web import filters as list_filters
from live.registration.web import mailing, organiser_event, outbox_of, reachable
from live.state import app_state
from live.web import localiser

# What the organiser's form sends: the registrant's fields, with the extra answers.
SUBMITTED = (*PAGE_FIELDS, "answers")
MOVED = ("occurrence", "attendance", "theme", "diet")


def list_url(slug: str, anchor: str = "") -> str:
    return f"/admin/events/{slug}/registrations" + (f"#{anchor}" if anchor else "")


def slot_table(event: Event, rows: list[export.Row]) -> list[dict[str, Any]]:
    """Per occurrence: confirmed and waiting in each mode, next to the capacity."""
    result = []
    for occ in event.occurrences:
        label = export.occurrence_label(occ)
        modes = {}
        for attendance in Attendance:
            mine = [r for r in rows if r.occurrence == label and r.attendance == attendance]
            modes[str(attendance)] = {
                "confirmed": sum(r.status == Status.CONFIRMED for r in mine),
                "waitlisted": sum(r.status == Status.WAITLISTED for r in mine),
                "capacity": capacity(occ, attendance),
                "offered": rules.offered(attendance, capacity(occ, attendance), occ.online),
            }
        result.append({"occurrence": occ, "label": label, "modes": modes})
    return result


async def list_context(request: Request, event_id: int, slug: str) -> dict[str, Any]:
    """The participant list page's data, for the filters in the query string."""
    chosen = list_filters(request)
    async with app_state(request).db() as session:
        event = await load_event(session, slug)
        everyone, _ = await export.participant_rows(
            session, event_id, export.Filters(include_cancelled=True))
        rows, _ = await export.participant_rows(session, event_id, chosen)
        came = await attendance_of(session, event_id)
    return {
        "came": came,
        "event": event,
        "rows": rows,
        "slots": slot_table(event, everyone),
        "counts": export.counts(rows),
        "total": len(everyone),
        "filters": chosen,
        "query": request.url.query,
        "organisations": await known_organisations(request),
        "quota_flags": await review.flags(app_state(request).db, event_id),
        "questions": event.registration_questions or [],
        "settings": {
            "registration_open": event.registration_open,
            **{
                f"deadline.{o.slug}": local_input(
                    o.registration_deadline.astimezone(localiser(request).tz).replace(tzinfo=None)
                    if o.registration_deadline
                    else None
                )
                for o in event.occurrences
            },
        },
    }


@organiser_page
async def participants(request: Request) -> Response:
    """GET: the participant list with counts per occurrence, mode, organisation, theme, diet."""
    event = await organiser_event(request)
    context = await list_context(request, event.id, event.slug)
    return page(request, "admin/registrations.html", context)


@organiser_page
async def add(request: Request) -> Response:
    """POST: add a participant by hand (no deadline or closed check; quotas still hold)."""
    event = await organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    mail = mailing(request)
    try:
        submission = await reachable(request, parse_submission(form_mapping(form, SUBMITTED)))
        await service.register(
            app_state(request).db,
            event.slug,
            submission,
            locale=localiser(request).locale,
            by_organiser=True,
            after=mail,
        )
    except Refusal as error:
        localise(request, error)
        context = await list_context(request, event.id, event.slug)
        context |= {"errors": error.fields, "values": values_of(form), "refusal": error}
        return page(request, "admin/registrations.html", context, error.status)
    await mail.send()
    request.session["flash"] = N_("Participant added.")
    return RedirectResponse(list_url(event.slug, "participants-h"), status_code=303)


async def one_receipt(request: Request, event: Event) -> service.Receipt:
    """The live registration named in the path, on this event."""
    number = parse_id(request.path_params["id"])
    async with app_state(request).db() as session:
        found = await session.get(Registration, number) if number is not None else None
        if found is None or found.event_id != event.id or found.status == Status.CANCELLED:
            raise NotFound(
                N_("No such registration, or it was cancelled."), code="registration.not_found"
            )
        return await service.receipt(session, found)


async def edit_page(
    request: Request,
    event: Event,
    receipt: service.Receipt,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    async with app_state(request).db() as session:
        full = await load_event(session, event.slug)
    values = {
        "occurrence": receipt.occurrence_slug,
        "attendance": str(receipt.attendance),
        "theme": receipt.theme_slug or "",
        "diet": receipt.diet,
    }
    context = {"event": full, "receipt": receipt, "values": values} | (extra or {})
    return page(request, "admin/registrations_edit.html", context, status)


@organiser_page
async def edit(request: Request) -> Response:
    """GET/POST one participant: move, change theme or diet, confirm from the waitlist."""
    event = await organiser_event(request)
    receipt = await one_receipt(request, event)
    if request.method == "GET":
        return await edit_page(request, event, receipt)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    data = form_mapping(form, MOVED)
    if form.get("confirm"):
        data["status"] = "confirmed"
    mail = mailing(request, "changed")
    try:
        changes = parse_changes(data, by_organiser=True)
        await service.change(
            app_state(request).db, service.ById(event.slug, receipt.id), changes, after=mail
        )
    except Refusal as error:
        localise(request, error)
        extra = {"errors": error.fields, "values": values_of(form), "refusal": error}
        return await edit_page(request, event, receipt, extra, error.status)
    await mail.send()
    request.session["flash"] = N_("Saved.")
    return RedirectResponse(list_url(event.slug, "participants-h"), status_code=303)


REMOVE = confirm.declare(
    "registration.remove", "/admin/events/{slug}/registrations/{id}/remove",
    back="/admin/events/{slug}/registrations/{id}",
    title=N_("Remove this participant?"),
    question=N_("The registration is cancelled and the participant is told by e-mail; the "
                "first on the waiting list takes the place."),
    button=N_("Yes, remove"))


@organiser_page
async def remove(request: Request) -> Response:
    """POST: cancel a registration by hand; the first on the waitlist takes the place."""
    event = await organiser_event(request)
    form = await posted(request)
    if (asked := confirm.ask(request, form.form, REMOVE)) is not None:
        return asked
    mail = mailing(request, "cancelled")
    who = service.ById(event.slug, (await one_receipt(request, event)).id)
    await service.cancel(app_state(request).db, who, after=mail)
    await mail.send()
    request.session["flash"] = N_("Participant removed.")
    return RedirectResponse(list_url(event.slug, "participants-h"), status_code=303)


@organiser_page
async def registration_settings(request: Request) -> Response:
    """POST: open or close registration and set each occurrence's deadline (the event document)."""
    event = await organiser_event(request)
    r = await posted(request)
    try:
        async with app_state(request).db() as session, session.begin():
            current = await load_event(session, event.slug)
            doc = export_event(current)
            deadlines = {o.slug: r.when(f"deadline.{o.slug}") for o in doc.occurrences}
            if r.errors:
                raise Invalid(
                    N_("Check the marked fields."), code="form.invalid", fields=dict(r.errors)
                )
            occurrences = [
                msgspec.structs.replace(o, registration_deadline=deadlines[o.slug])
                for o in doc.occurrences
            ]
            await save_event(
                session,
                msgspec.structs.replace(
                    doc, registration_open=r.flag("registration_open"), occurrences=occurrences
                ),
                embed_hosts=app_state(request).settings.embed_hosts,
            )
    except Invalid as error:
        gettext = localiser(request).gettext
        context = await list_context(request, event.id, event.slug)
        errors = {
            key if key.startswith("deadline.") else "settings": (
                gettext(text) if key.startswith("deadline.") else f"{key}: {gettext(text)}"
            )
            for key, text in error.fields.items()
        } or {"settings": gettext(error.message)}
        context |= {"settings_errors": errors, "settings": values_of(await request.form())}
        return page(request, "admin/registrations.html", context, error.status)
    request.session["flash"] = N_("Saved.")
    return RedirectResponse(list_url(event.slug, "settings-h"), status_code=303)


def mail_summary(mail: OutboxMail) -> dict[str, Any]:
    """What the outbox page shows of one mail: its state and the message as written."""
    message = BytesParser(policy=policy.default).parsebytes(mail.message)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    attachments = [
        part.get_filename() or part.get_content_type() for part in message.iter_attachments()
    ]
    return {
        "id": mail.id,
        "state": str(mail.state),
        "attempts": mail.attempts,
        "error": mail.last_error,
        "next_attempt_at": mail.next_attempt_at,
        "created_at": mail.created_at,
        "sent_at": mail.sent_at,
        "subject": str(message["Subject"] or ""),
        "to": str(message["To"] or ""),
        "text": text,
        "attachments": attachments,
    }


@organiser_page
async def outbox(request: Request) -> Response:
    """GET /admin/outbox: site organisers see outgoing mail, queued, sent or failed."""
    if not await auth.site_organiser(request):
        if not auth.identified(request):
            raise Unauthorized(N_("Log in as an organiser to do this."))
        raise Forbidden(N_("Only site organisers may read the outbox."))
    settings = app_state(request).settings
    mails = [mail_summary(mail) for mail in await outbox_of(request).recent()]
    return page(
        request,
        "admin/outbox.html",
        {"mails": mails, "smtp": bool(settings.smtp_url), "event": None},
    )


routes = [
    Route(
        "/admin/events/{slug}/registrations",
        participants,
        methods=["GET"],
        name="admin_registrations",
    ),
    Route("/admin/events/{slug}/registrations", add, methods=["POST"]),
    Route("/admin/events/{slug}/registrations/{id}/edit", edit, methods=["GET", "POST"]),
    Route("/admin/events/{slug}/registrations/{id}/remove", remove, methods=["POST"]),
    Route("/admin/events/{slug}/registration-settings", registration_settings, methods=["POST"]),
    Route("/admin/outbox", outbox, methods=["GET"], name="admin_outbox"),
]
