"""Organiser login and logout (the start page after login is `live.admin.dashboard`).

Logins are throttled per account and per client address (`live.admin.throttle`): past the
free failures each attempt waits longer, and is answered with 429 and the login form saying
how long. Logging out ends every session of the user (`auth.end_sessions`), so a copy of
the cookie opens nothing afterwards.
"""

from __future__ import annotations

import math

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth
from live.admin import dashboard, throttle
from live.errors import Unauthorized
from live.models import User
from live.state import app_state
from live.web import localiser, render


async def organiser_user(request: Request) -> User:
    """The logged-in user, or a redirect to the login page (raised as Unauthorized)."""
    async with app_state(request).db() as session:
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
    counters = throttle.keys(email, request.client.host if request.client else "")
    wait = await throttle.charge(app_state(request).db, counters)
    if wait:
        return _locked_out(request, email, wait)
    async with app_state(request).db() as session:
        user = (await session.scalars(select(User).where(User.email == email))).first()
    if user is None or not auth.verify_password(user.password_hash, password):
        message = localiser(request).gettext("Wrong e-mail address or password.")
        return render(request, "admin/login.html",
                      {"next": _next(request), "error": message, "email": email}, status_code=401)
    await throttle.succeeded(app_state(request).db, counters)
    auth.log_in(request, user)
    return RedirectResponse(_next(request, form.get("next")), status_code=303)


def _locked_out(request: Request, email: str, wait: int) -> Response:
    """429 with the login form and how long to wait, in the visitor's language."""
    l10n = localiser(request)
    if wait > 60:
        message = l10n.ngettext(
            "Too many failed log-in attempts. Wait %(num)d minute and try again.",
            "Too many failed log-in attempts. Wait %(num)d minutes and try again.",
            math.ceil(wait / 60))
    else:
        message = l10n.ngettext(
            "Too many failed log-in attempts. Wait %(num)d second and try again.",
            "Too many failed log-in attempts. Wait %(num)d seconds and try again.", wait)
    message += " " + l10n.gettext("Each try before then makes the wait longer.")
    response = render(request, "admin/login.html",
                      {"next": _next(request), "error": message, "email": email}, status_code=429)
    response.headers["Retry-After"] = str(wait)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    async with app_state(request).db() as session, session.begin():
        user = await auth.current_user(request, session)
        if user is not None:
            await auth.end_sessions(session, user.id)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def _next(request: Request, value: object = None) -> str:
    target = str(value or request.query_params.get("next") or "/admin")
    return target if target.startswith("/") and not target.startswith("//") else "/admin"


routes = [
    Route("/admin", dashboard.dashboard, name="admin"),
    Route("/admin/login", login_form, methods=["GET"], name="admin_login"),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"], name="admin_logout"),
]
