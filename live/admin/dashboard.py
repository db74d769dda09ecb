"""GET /admin: the organiser's events, each with its counts and the shortcuts to its pages;
live and coming events first (the next on top), then ended ones (the newest first).

Counts per event: confirmed registrations, the waiting list, live viewers of the stream on
this process (WebRTC; live HLS viewers fetch plain files and are not counted), and the
questions asked (with those awaiting moderation). Two grouped queries cover every event on
the page, whatever their number. When `SALEN_BASE_URL` is set and the dashboard was opened
at another address, the page says so: links copied from Salen's pages and e-mails lead to
the configured address, not to this one (`live.links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live import auth
from live.events.domain import EventStatus, event_status
from live.links import foreign_origin
from live.models import Event, EventRole, Role, User, utcnow
from live.models.qa import Question
from live.models.registration import Registration, Status
from live.organisations.review import count_pending
from live.state import app_state
from live.web import render

PENDING = "pending"  # live.qa.domain.QaStatus.PENDING (features build on events alone)


@dataclass(frozen=True)
class Row:
    """One event on the dashboard."""

    event: Event
    status: EventStatus
    registered: int = 0
    waitlisted: int = 0
    viewers: int = 0
    questions: int = 0
    pending: int = 0


async def dashboard(request: Request) -> Response:
    async with app_state(request).db() as session:
        user = await auth.current_user(request, session)
        if user is None:
            return RedirectResponse("/admin/login?next=/admin", status_code=303)
        events = await _events(session, user)
        ids = [e.id for e in events]
        places = await _registrations(session, ids)
        questions = await _questions(session, ids)
        to_review = await count_pending(session) if user.is_admin else 0
    now, streams = utcnow(), request.state.streams
    rows = [Row(event, event_status(event, now),
                registered=places.get((event.id, Status.CONFIRMED), 0),
                waitlisted=places.get((event.id, Status.WAITLISTED), 0),
                viewers=streams.state(event.slug).viewers,
                questions=sum(n for (eid, _), n in questions.items() if eid == event.id),
                pending=questions.get((event.id, PENDING), 0))
            for event in events]
    rows.sort(key=_order)
    settings = app_state(request).settings
    context: dict[str, Any] = {
        "user": user, "rows": rows, "flash": request.session.pop("flash", None),
        "foreign_origin": foreign_origin(request), "base_url": settings.base_url,
        "to_review": to_review,
    }
    return render(request, "admin/dashboard.html", context)


def _order(row: Row) -> tuple[int, float]:
    """Live and coming events first, the next one on top; then ended ones, newest first."""
    starts = row.status.starts_at.timestamp() if row.status.starts_at else float("inf")
    return (1, -starts) if row.status.state == "ended" else (0, starts)


async def _events(session: AsyncSession, user: User) -> list[Event]:
    query = select(Event).options(selectinload(Event.occurrences)).order_by(Event.id)
    if not user.is_admin:
        query = query.join(EventRole, EventRole.event_id == Event.id).where(
            EventRole.user_id == user.id, EventRole.role == Role.ORGANISER)
    return list(await session.scalars(query))


async def _registrations(session: AsyncSession, ids: list[int]) -> dict[tuple[int, str], int]:
    query = (select(Registration.event_id, Registration.status, func.count())
             .where(Registration.event_id.in_(ids))
             .group_by(Registration.event_id, Registration.status))
    return {(eid, str(status)): n for eid, status, n in await session.execute(query)}


async def _questions(session: AsyncSession, ids: list[int]) -> dict[tuple[int, str], int]:
    query = (select(Question.event_id, Question.status, func.count())
             .where(Question.event_id.in_(ids))
             .group_by(Question.event_id, Question.status))
    return {(eid, str(status)): n for eid, status, n in await session.execute(query)}
