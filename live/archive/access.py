"""Who may see or change a recording: published ones are public, the rest is for organisers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import HTTPConnection, Request

from live.archive.service import Archive
from live.auth import check_csrf, event_roles, is_admin_token, require
from live.bounds import parse_id
from live.errors import NotFound
from live.events.visibility import may_see
from live.models import Event, Recording, RecordingState, Role
from live.state import app_state

NOT_FOUND = "No recording with that number."


@dataclass(frozen=True, slots=True)
class Access:
    """A recording, its event, and whether the caller organises that event."""

    recording: Recording
    event: Event
    organiser: bool


def recording_id(conn: HTTPConnection) -> int:
    """The recording's id from the path (routed as `{recording_id:id}`, so within bounds)."""
    found = parse_id(str(conn.path_params.get("recording_id", "")))
    if found is None:
        raise NotFound(NOT_FOUND, code="recording.not_found")
    return found


async def load_access(conn: HTTPConnection) -> Access:
    """The recording named in the path; 404 when it (or its event) is unpublished and the caller
    does not organise (or moderate) the event."""
    rid = recording_id(conn)
    async with app_state(conn).db() as session:
        row = (
            await session.execute(
                select(Recording, Event)
                .join(Event, Event.id == Recording.event_id)
                .where(Recording.id == rid)
            )
        ).first()
    if row is None:
        raise NotFound(NOT_FOUND, code="recording.not_found")
    recording, event = row
    roles = await event_roles(conn, event)
    organiser = Role.ORGANISER in roles
    if (recording.state != RecordingState.PUBLISHED and not organiser) or not may_see(event, roles):
        raise NotFound(NOT_FOUND, code="recording.not_found")
    return Access(recording, event, organiser)


async def organiser_access(conn: HTTPConnection) -> Access:
    """As `load_access`, and the caller must organise the event (401/403 otherwise)."""
    access = await load_access(conn)
    require(conn, {Role.ORGANISER} if access.organiser else set(), Role.ORGANISER)
    return access


def check_form(request: Request, token: str | None) -> None:
    """CSRF applies to cookie sessions; a bearer admin token cannot be forged by another site."""
    if not is_admin_token(request):
        check_csrf(request, token)


def archive(conn: HTTPConnection) -> Archive:
    """The app's Archive from the lifespan state."""
    found: Archive = conn.state.archive
    return found
