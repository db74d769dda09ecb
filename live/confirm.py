"""Confirmation before a destructive or disruptive action, with and without JavaScript.

Each such action is a POST form drawn by the `confirm_form` macro (templates/_confirm.html).
With JavaScript (static/js/confirm.js) its button opens the form's `<dialog>`, whose "yes"
button submits the same form with `confirm=yes`. Without JavaScript the form arrives without
`confirm`, and the action answers with `ask(...)`: a 303 to the confirm page
`GET /confirm/{kind}{action path}`, which says what will happen and posts the same fields
with `confirm=yes` to the action. Nothing is changed before the second, confirmed POST.

An action declares a `Confirmation` (its texts, the route path it guards, the form fields
it posts, where "no" goes back to) once, at import. The page refuses a path its kind does
not guard and posts only the kind's own fields, so a crafted link cannot put one action's
words on another action's button; it changes nothing itself, so a GET of it is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, compile_path

from live.errors import NotFound
from live.i18n import N_

__all__ = ["N_", "Confirmation", "ask", "confirmation", "declare", "routes"]
from live.web import render, token_query

FIELD = "confirm"
_KINDS: dict[str, Confirmation] = {}
_KIND_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,60}")


@dataclass(frozen=True)
class Confirmation:
    """What one action asks before it runs; created once per action at import (`declare`)."""

    kind: str
    path: str  # the action's route path, e.g. "/admin/events/{slug}/stream"
    title: str  # msgids, translated when shown
    question: str
    button: str
    back: str = ""  # where "no" leads, a format of the path's parameters; "" = the path itself
    fixed: tuple[tuple[str, str], ...] = ()  # fields the form posts, e.g. (("action", "plan"),)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.fixed)

    def page_url(self, action: str, query: str = "") -> str:
        """The confirm page for a POST to `action` (a path; `query` as in `token_query`)."""
        return f"/confirm/{self.kind}{action}{query}"


def declare(kind: str, path: str, *, title: str, question: str, button: str, back: str = "",
            fixed: Mapping[str, str] | None = None) -> Confirmation:
    """Declare (once, at import) the confirmation of the action at route `path`."""
    if not _KIND_NAME.fullmatch(kind) or kind in _KINDS:
        raise ValueError(f"confirmation kind {kind!r} is malformed or declared twice")
    made = Confirmation(kind, path, title, question, button, back, tuple((fixed or {}).items()))
    _KINDS[kind] = made
    return made


def confirmation(kind: str) -> Confirmation:
    """The declared confirmation `kind` (templates call it to draw the action's form)."""
    return _KINDS[kind]


def confirmed(form: Mapping[str, Any]) -> bool:
    """Whether the POSTed form carries the confirmation (from the dialog or the confirm page)."""
    return bool(str(form.get(FIELD, "") or ""))


def ask(request: Request, form: Mapping[str, Any], confirmation: Confirmation) -> Response | None:
    """None when the form is confirmed; else the 303 to the confirm page (nothing changed)."""
    if confirmed(form):
        return None
    url = confirmation.page_url(request.url.path, token_query(request))
    return RedirectResponse(url, status_code=303)


async def confirm_page(request: Request) -> Response:
    """GET /confirm/{kind}/{path}: "are you sure?" and the form that does it."""
    kind = _KINDS.get(request.path_params["kind"])
    target = "/" + request.path_params["path"]
    found = kind.regex.fullmatch(target) if kind is not None else None
    if kind is None or found is None:
        raise NotFound(N_("There is nothing to confirm here."), code="confirm.unknown")
    back = kind.back.format(**found.groupdict()) if kind.back else target
    query = token_query(request)
    context = {"confirmation": kind, "action": target + query, "fields": kind.fields,
               "back": back + query}
    response = render(request, "confirm.html", context)
    response.headers["cache-control"] = "no-store"
    return response


routes: list[BaseRoute] = [
    Route("/confirm/{kind}/{path:path}", confirm_page, methods=["GET"], name="confirm"),
]
