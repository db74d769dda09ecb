"""The attendance API for organisers: check in, and download the attendance.

    POST /api/events/{slug}/checkins          {"code": "SALEN-CI:..."} or {"registration": 12}
    GET  /api/events/{slug}/attendance.csv    the attendance export (CSV)
    GET  /api/events/{slug}/attendance.xlsx   the same as Excel
    GET  /vendor/jsQR.js                      the QR decoder the check-in page scans with

A check-in answers 200 with `verdict` "checked_in" or "already" (with the first time);
a refused code answers 422 `checkin.not_a_code` / `checkin.forged`, or 409
`checkin.other_event` / `checkin.cancelled` / `checkin.not_confirmed`. Cookie-authenticated
calls need the `X-CSRF-Token` header, like every organiser write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from live import auth
from live.attendance import export, service
from live.attendance.domain import REASONS, Verdict
from live.errors import Conflict, Invalid, NotFound, SalenError
from live.models.base import utcnow
from live.openapi import operation
from live.registration.api import json_body
from live.registration.web import localised, organiser_event
from live.state import app_state

JSQR = Path(__file__).resolve().parents[2] / "node_modules" / "jsqr" / "dist" / "jsQR.js"
REFUSED: dict[Verdict, type[SalenError]] = {
    Verdict.NOT_A_CODE: Invalid,
    Verdict.FORGED: Invalid,
    Verdict.OTHER_EVENT: Conflict,
    Verdict.CANCELLED: Conflict,
    Verdict.NOT_CONFIRMED: Conflict,
}


def refusal(result: service.Result) -> SalenError:
    """The error for a refused check-in: its status, `checkin.<verdict>` and the reason."""
    return REFUSED[result.verdict](REASONS[result.verdict], code=f"checkin.{result.verdict}")


async def organiser_name(request: Request) -> str:
    """Who checks people in, as the check-in row records it."""
    async with app_state(request).db() as session:
        user = await auth.current_user(request, session)
    return (user.name or user.email) if user is not None else "token"


def wanted(body: Any) -> dict[str, Any]:
    """The check-in's target from the body: a code or a registration id."""
    if isinstance(body, dict):
        code, registration = body.get("code"), body.get("registration")
        if isinstance(code, str) and code.strip() and len(code) < 200:
            return {"code": code}
        if isinstance(registration, int) and not isinstance(registration, bool) \
                and 0 < registration < 2**31:
            return {"registration_id": registration}
    raise Invalid('Send {"code": "..."} or {"registration": ID}.', code="checkin.invalid")


@operation("Check a participant in at the door (organisers)", tag="attendance",
           responses={"200": "checked in, or already", "409": "refused", "422": "no valid code"})
@localised
async def check_in(request: Request) -> Response:
    """POST /api/events/{slug}/checkins."""
    event = await organiser_event(request, write=True)
    target = wanted(await json_body(request))
    result = await service.check_in(
        app_state(request).db, event.id, by=await organiser_name(request), now=utcnow(), **target)
    if not result.verdict.admitted:
        raise refusal(result)
    return JSONResponse(result.as_dict())


async def download(request: Request, fmt: str) -> Response:
    event = await organiser_event(request)
    settings = app_state(request).settings
    async with app_state(request).db() as session:
        sheet = await export.attendance_sheet(session, event.id, settings.timezone)
    name = f"{event.slug}-attendance.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(export.to_csv(sheet), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(
        export.to_xlsx(sheet),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )


@operation("Attendance as CSV (organisers)", responses={"200": "text/csv"}, tag="attendance")
async def attendance_csv(request: Request) -> Response:
    """GET /api/events/{slug}/attendance.csv."""
    return await download(request, "csv")


@operation("Attendance as Excel (organisers)", responses={"200": "xlsx"}, tag="attendance")
async def attendance_xlsx(request: Request) -> Response:
    """GET /api/events/{slug}/attendance.xlsx."""
    return await download(request, "xlsx")


async def jsqr(request: Request) -> Response:
    """GET /vendor/jsQR.js: jsQR from npm (served here: the CSP allows only 'self')."""
    if not JSQR.is_file():
        raise NotFound("jsQR is not installed; run `npm ci`.", code="file.not_found")
    return FileResponse(
        JSQR, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


routes = [
    Route("/api/events/{slug}/checkins", check_in, methods=["POST"]),
    Route("/api/events/{slug}/attendance.csv", attendance_csv, methods=["GET"]),
    Route("/api/events/{slug}/attendance.xlsx", attendance_xlsx, methods=["GET"]),
    Route("/vendor/jsQR.js", jsqr, methods=["GET"], name="jsqr"),
]
