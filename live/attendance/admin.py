"""The organiser's check-in page at the door, made for a phone.

    GET  /admin/events/{slug}/checkin?q=NAME   counts, the scanner, search by name
    POST /admin/events/{slug}/checkin          check in a typed/scanned `code` or a `registration`

Without JavaScript the page is two forms: a code (typed, or from a hand-held scanner that
types) and a search whose hits each have a check-in button; the answer is the page again
with the verdict on top. With JavaScript (static/js/checkin.js) the camera scans QR codes
through jsQR and checks in through the API (`live.attendance.api`) without leaving the page.
A refused code answers 422 (no code, forged) or 409 (another event's, cancelled, waiting
list) with the reason; a second check-in is shown with the first one's time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live import auth
from live.attendance import service
from live.attendance.api import organiser_name
from live.attendance.domain import REASONS, Verdict
from live.bounds import parse_id
from live.events.admin import organiser_page, page
from live.models.attendance import CheckIn
from live.models.base import utcnow
from live.models.registration import Attendance, Registration, Status
from live.registration.web import organiser_event
from live.state import app_state
from live.web import localiser

QUERY_MAX = 100
STATUS = {
    Verdict.CHECKED_IN: 200, Verdict.ALREADY: 200, Verdict.NOT_A_CODE: 422,
    Verdict.FORGED: 422, Verdict.OTHER_EVENT: 409, Verdict.CANCELLED: 409,
    Verdict.NOT_CONFIRMED: 409,
}


async def counts(request: Request, event_id: int) -> dict[str, int]:
    """Checked in, and confirmed in the room (the number expected at the door)."""
    async with app_state(request).db() as session:
        came = await session.scalar(
            select(func.count()).select_from(CheckIn).where(CheckIn.event_id == event_id))
        expected = await session.scalar(
            select(func.count()).select_from(Registration).where(
                Registration.event_id == event_id, Registration.status == Status.CONFIRMED,
                Registration.attendance == Attendance.IN_PERSON))
    return {"checked_in": int(came or 0), "expected": int(expected or 0)}


def verdict_text(request: Request, result: service.Result) -> str:
    """The verdict as the door reads it, in the organiser's language."""
    l10n = localiser(request)
    if result.verdict == Verdict.CHECKED_IN:
        return l10n.gettext("Checked in: %(name)s.", name=result.name)
    if result.verdict == Verdict.ALREADY and result.checked_in_at is not None:
        return l10n.gettext("Already checked in at %(time)s: %(name)s.",
                            time=l10n.time(result.checked_in_at), name=result.name)
    text = l10n.gettext(REASONS[result.verdict])
    if result.other_event:
        text += " " + l10n.gettext("(%(event)s)", event=result.other_event)
    return text


async def checkin_page(
    request: Request, result: service.Result | None = None, query: str | None = None,
) -> Response:
    event = await organiser_event(request)
    q = (query if query is not None else request.query_params.get("q", ""))[:QUERY_MAX]
    people = await service.search(app_state(request).db, event.id, q)
    context: dict[str, Any] = {
        "event": event, "q": q, "people": people, "searched": bool(q.strip()),
        "counts": await counts(request, event.id), "result": result,
        "result_text": verdict_text(request, result) if result else "",
        "timezone": app_state(request).settings.timezone,
    }
    status = STATUS[result.verdict] if result else 200
    response = page(request, "attendance/checkin.html", context, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@organiser_page
async def show(request: Request) -> Response:
    """GET: the check-in page."""
    return await checkin_page(request)


@organiser_page
async def post(request: Request) -> Response:
    """POST: check in by code or by a registration picked from the search."""
    event = await organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    code = str(form.get("code", "")).strip()[:200]
    picked = parse_id(str(form.get("registration", "")))
    target: dict[str, Any] = {"code": code} if code or picked is None else {
        "registration_id": picked}
    result = await service.check_in(
        app_state(request).db, event.id, by=await organiser_name(request), now=utcnow(), **target)
    return await checkin_page(request, result, str(form.get("q", "")))


routes = [
    Route("/admin/events/{slug}/checkin", show, methods=["GET"], name="admin_checkin"),
    Route("/admin/events/{slug}/checkin", post, methods=["POST"]),
]
