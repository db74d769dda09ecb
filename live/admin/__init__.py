"""Organiser pages under /admin: login, the list of events, and the event editors."""

from __future__ import annotations

from starlette.routing import BaseRoute

from live.admin import events, login

routes: list[BaseRoute] = [*login.routes, *events.routes]
