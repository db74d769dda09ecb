"""Who is asking: organiser sessions, the admin token, secret moderator links, and CSRF.

An organiser's session cookie holds the user id and the user's session version at login;
a cookie whose version is no longer the user's (after a logout or a new password) is not
a login any more, so ending a session is done on the server, not by trusting the browser
to forget its cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from live.errors import Forbidden, Unauthorized
from live.models import Event, EventRole, Role, User
from live.state import app_state

__all__ = [
    "Role",
    "check_csrf",
    "csrf_token",
    "current_user",
    "end_sessions",
    "event_roles",
    "hash_password",
    "log_in",
    "require",
    "verify_password",
]

_hasher = PasswordHasher()
# The session cookie's copy of `User.session_version`.
SESSION_VERSION = "sv"
# The session cookie's captioner grants: event id -> digest of the event's captioner key.
CAPTIONS_GRANT = "captions"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two non-empty secrets."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def presented_token(conn: HTTPConnection) -> str:
    """A bearer token from the Authorization header, or else the `token` query parameter."""
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return conn.query_params.get("token", "")


def is_admin_token(conn: HTTPConnection) -> bool:
    return same_secret(presented_token(conn), app_state(conn).settings.admin_token)


def logged_in(conn: HTTPConnection) -> bool:
    """Does the session cookie name a user (who may since have been deleted)?"""
    return "session" in conn.scope and isinstance(conn.session.get("user_id"), int)


async def current_user(conn: HTTPConnection, session: AsyncSession) -> User | None:
    """The organiser logged in through the session cookie, if any and still valid."""
    if not logged_in(conn):
        return None
    user = await session.get(User, conn.session["user_id"])
    if user is None or conn.session.get(SESSION_VERSION) != user.session_version:
        return None  # logged out, or the password changed, since the cookie was issued
    return user


def log_in(conn: HTTPConnection, user: User) -> None:
    """Start a fresh session for `user`, valid until its session version changes."""
    conn.session.clear()
    conn.session["user_id"] = user.id
    conn.session[SESSION_VERSION] = user.session_version


async def end_sessions(session: AsyncSession, user_id: int) -> None:
    """Make every session cookie issued to the user so far invalid (logout, new password)."""
    await session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1))


async def event_roles(conn: HTTPConnection, event: Event) -> frozenset[Role]:
    """Every role the connection holds on this event (VIEWER always)."""
    roles = {Role.VIEWER}
    if is_admin_token(conn):
        return frozenset({Role.VIEWER, Role.MODERATOR, Role.ORGANISER})
    if same_secret(presented_token(conn), event.moderator_token):
        roles.add(Role.MODERATOR)
    if is_captioner(conn, event):
        roles.add(Role.CAPTIONER)
    if logged_in(conn):  # most viewers are not: no session to open for them
        async with app_state(conn).db() as session:
            user = await current_user(conn, session)
            if user is not None:
                if user.is_admin:
                    roles.update({Role.ORGANISER, Role.MODERATOR})
                rows = await session.scalars(
                    select(EventRole.role).where(
                        EventRole.user_id == user.id, EventRole.event_id == event.id
                    )
                )
                roles.update(Role(r) for r in rows)
    if Role.ORGANISER in roles:
        roles.add(Role.MODERATOR)
    return frozenset(roles)


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def grant_captioner(conn: HTTPConnection, event: Event) -> None:
    """Remember in the session cookie that this browser holds the event's captioner key.

    The cookie keeps a digest of the key, so a new key (a rotated link) ends the grant.
    """
    grants = conn.session.get(CAPTIONS_GRANT)
    grants = dict(grants) if isinstance(grants, dict) else {}
    grants[str(event.id)] = _key_digest(event.captions_token)
    conn.session[CAPTIONS_GRANT] = grants


def is_captioner(conn: HTTPConnection, event: Event) -> bool:
    """Did this browser exchange the event's current captioner key for its session?"""
    if "session" not in conn.scope:
        return False
    grants = conn.session.get(CAPTIONS_GRANT)
    held = grants.get(str(event.id)) if isinstance(grants, dict) else None
    return isinstance(held, str) and same_secret(held, _key_digest(event.captions_token))


def captioner_link_replaced(conn: HTTPConnection, event: Event) -> bool:
    """Did this browser hold the event's captioner link before it was replaced by a new one?"""
    if "session" not in conn.scope:
        return False
    grants = conn.session.get(CAPTIONS_GRANT)
    held = grants.get(str(event.id)) if isinstance(grants, dict) else None
    return isinstance(held, str) and not is_captioner(conn, event)


async def site_organiser(conn: HTTPConnection) -> bool:
    """May create events: the admin token or a logged-in admin user."""
    if is_admin_token(conn):
        return True
    async with app_state(conn).db() as session:
        user = await current_user(conn, session)
        return user is not None and user.is_admin


def identified(conn: HTTPConnection) -> bool:
    """Did the caller present anything: a login session or a token?"""
    return logged_in(conn) or bool(presented_token(conn))


def require(conn: HTTPConnection, roles: Iterable[Role], needed: Role) -> None:
    """Raise 401 when nobody is identified, 403 when the role is missing."""
    if needed in set(roles):
        return
    if not identified(conn):
        raise Unauthorized("Log in as an organiser to do this.")
    raise Forbidden(f"This needs the {needed.value} role.")


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, created on first use."""
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        conn.session["csrf"] = token
    return token


def check_csrf(conn: HTTPConnection, submitted: str | None) -> None:
    expected = conn.session.get("csrf") if "session" in conn.scope else None
    if not (isinstance(expected, str) and submitted and same_secret(expected, submitted)):
        raise Forbidden("The form has expired or did not come from this site; reload and retry.",
                        code="csrf")
