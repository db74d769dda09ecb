"""Who may see an event that is not published: its organisers and moderators, nobody else.

Every public page and API that loads an event by its slug (the event page, registration,
Q&A, group work, the publishing page, the stream state, the event's recordings) asks
`visible_roles` (or `check_visible`) before it shows anything: an unpublished event is a
404 for the public, exactly like an event that does not exist, so its slug cannot be
probed. Its organisers and moderators (`live.auth.event_roles`) see every page as the
public will, under a "Not published" banner that templates/base.html draws for any page
whose `event` is unpublished.

A published event costs nothing here: roles are only looked up (one query for a logged-in
caller) when the event is not published.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from live import auth
from live.errors import NotFound
from live.models import Event, Role

STAFF = frozenset({Role.ORGANISER, Role.MODERATOR})


def hidden() -> NotFound:
    """The answer to the public for an unpublished event: the same as for no event at all."""
    return NotFound("No event with that address.", code="event.not_found")


def may_see(event: Event, roles: frozenset[Role]) -> bool:
    """Published, or the caller organises or moderates it."""
    return event.published or bool(roles & STAFF)


async def visible_roles(conn: HTTPConnection, event: Event) -> frozenset[Role]:
    """The caller's roles on `event`; raises the 404 of `hidden` when they may not see it."""
    roles = await auth.event_roles(conn, event)
    if not may_see(event, roles):
        raise hidden()
    return roles


async def check_visible(conn: HTTPConnection, event: Event) -> None:
    """As `visible_roles`, without looking roles up for a published event."""
    if not event.published:
        await visible_roles(conn, event)
