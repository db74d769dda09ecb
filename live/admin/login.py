"""Organiser login and logout, and the admin start page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth
from live.errors import Unauthorized
from live.events.domain import event_status
from live.models import Event, EventRole, Role, User, utcnow
from live.web import localiser, render


async def organiser_user(request: Request) -> User:
    """The logged-in user, or a redirect to the login page (raised as Unauthorized)."""
    async with request.state.db() as session:
        user = await auth.current_user(request, session)
    if user is None:
        raise Unauthorized("Log in as an organiser to do this.", code="login_required")
    return user


async def login_form(request: Request) -> Response:
    return render(request, "admin/login.html", {"next": _next(request), "error": None})


async def login(request: Request) -> Response:
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    async with request.state.db() as session:
        user = (await session.scalars(select(User).where(User.email == email))).first()
    if user is None or not auth.verify_password(user.password_hash, password):
        message = localiser(request).gettext("Wrong e-mail address or password.")
        return render(request, "admin/login.html",
                      {"next": _next(request), "error": message, "email": email}, status_code=401)
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(_next(request, form.get("next")), status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def _next(request: Request, value: object = None) -> str:
    target = str(value or request.query_params.get("next") or "/admin")
    return target if target.startswith("/") and not target.startswith("//") else "/admin"


async def dashboard(request: Request) -> Response:
    async with request.state.db() as session:
        user = await auth.current_user(request, session)
        if user is None:
            return RedirectResponse("/admin/login?next=/admin", status_code=303)
        query = select(Event).options(selectinload(Event.occurrences)).order_by(Event.id)
        if not user.is_admin:
            query = query.join(EventRole, EventRole.event_id == Event.id).where(
                EventRole.user_id == user.id, EventRole.role == Role.ORGANISER)
        events = list(await session.scalars(query))
    now = utcnow()
    rows = [(event, event_status(event, now)) for event in events]
    return render(request, "admin/dashboard.html", {"user": user, "rows": rows})


routes = [
    Route("/admin", dashboard, name="admin"),
    Route("/admin/login", login_form, methods=["GET"], name="admin_login"),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"], name="admin_logout"),
]
