"""Q&A pages for organisers: the event's Q&A settings and the export of every question.

    GET  /admin/events/{slug}/qa           settings (POST saves them); ?token=<organiser> works
    POST /admin/events/{slug}/qa action=new-moderator-link|new-display-link: a new secret
         link (asks first, `live.confirm`); the old one stops opening the page at once
    GET  /admin/events/{slug}/qa.csv|.json export with the time of each step

Settings are saved through the Q&A service (`Configure`), as a moderator's socket would, so
connected desks and viewers see the change at once. The public pages are in `live.qa.pages`.
"""

from __future__ import annotations

from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth, confirm
from live.bounds import parse_int
from live.errors import Invalid, NotFound
from live.identity import identities
from live.links import page_base
from live.models import Event, Role, User
from live.models.events import new_token
from live.models.qa import QaItemSettings, QaSettings
from live.qa import export
from live.qa.messages import Configure
from live.qa.pages import event_and_roles, programme_items, qa_service
from live.qa.service import Actor
from live.state import app_state
from live.web import login_redirect, render, token_query

MAX_LENGTH_RANGE = (10, 5000)
N_ = confirm.N_
PATH = "/admin/events/{slug}/qa"
# The form's action: the confirmation, the event's column, the message once it is made.
NEW_LINKS = {
    "new-moderator-link": (confirm.declare(
        "qa.moderator_link", PATH, fixed={"action": "new-moderator-link"},
        title=N_("Make a new moderator link?"),
        question=N_("The old moderator link stops working at once: every moderator must be "
                    "given the new one. A desk that is open now keeps working until it is "
                    "reloaded."),
        button=N_("Yes, make a new link")),
        "moderator_token", N_("A new moderator link was made. The old one no longer works.")),
    "new-display-link": (confirm.declare(
        "qa.display_link", PATH, fixed={"action": "new-display-link"},
        title=N_("Make a new big-screen link?"),
        question=N_("The old link for the big screen and the stream overlay stops working at "
                    "once: open the new one on the screen and in OBS. A screen that shows the "
                    "page now keeps working until it is reloaded."),
        button=N_("Yes, make a new link")),
        "display_token", N_("A new big-screen link was made. The old one no longer works.")),
}


async def _organiser(request: Request) -> Event:
    event, roles = await event_and_roles(request)
    auth.require(request, roles, Role.ORGANISER)
    return event


async def _settings_rows(request: Request, event: Event) -> tuple[QaSettings, set[int]]:
    async with app_state(request).db() as session:
        state = await session.get(QaSettings, event.id)
        closed = set(await session.scalars(select(QaItemSettings.item_id).where(
            QaItemSettings.event_id == event.id, QaItemSettings.open.is_(False))))
    assert state is not None
    return state, closed


@login_redirect
async def settings_page(request: Request) -> Response:
    """Pre-moderation, anonymous questions, maximum length, open or closed per item; links."""
    event = await _organiser(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth.check_csrf(request, form.get("csrf_token"))
        if form.get("action") in NEW_LINKS:
            return await _new_link(request, event, form)
        try:
            await _save_settings(request, event, form)
            request.session["flash"] = "Saved."
            return RedirectResponse(f"/admin/events/{event.slug}/qa{token_query(request)}",
                                    status_code=303)
        except Invalid as exc:
            errors = dict(exc.fields)
    state, closed = await _settings_rows(request, event)
    return render(request, "admin/qa.html", {
        "event": event, "state": state, "closed": closed, "items": programme_items(event),
        "errors": errors, "flash": request.session.pop("flash", None),
        "token_query": token_query(request), "limits": MAX_LENGTH_RANGE,
        "base_url": page_base(request),
    }, status_code=422 if errors else 200)


async def _new_link(request: Request, event: Event, form: dict[str, str]) -> Response:
    """A new moderator or big-screen token, once confirmed; the old one opens nothing."""
    confirmation, column, done = NEW_LINKS[form["action"]]
    if (asked := confirm.ask(request, form, confirmation)) is not None:
        return asked
    async with app_state(request).db() as session, session.begin():
        await session.execute(update(Event).where(Event.id == event.id)
                              .values({column: new_token()}))
    request.session["flash"] = done
    return RedirectResponse(f"/admin/events/{event.slug}/qa{token_query(request)}#links-h",
                            status_code=303)


async def _save_settings(request: Request, event: Event, form: dict[str, str]) -> None:
    low, high = MAX_LENGTH_RANGE
    max_length = parse_int(form.get("max_length", "").strip()) or -1
    if not low <= max_length <= high:
        # The same text as message and field error, so that extraction finds the field's.
        raise Invalid("Give a number from 10 to 5000.", code="invalid",
                      fields={"max_length": "Give a number from 10 to 5000."})
    actor = await _organiser_actor(request)
    qa = qa_service(request)
    await qa.configure(event.id, actor, Configure(
        id=0, premoderation="premoderation" in form, anonymous="anonymous" in form,
        max_length=max_length, open="open" in form))
    _, closed = await _settings_rows(request, event)
    for item in programme_items(event):
        wanted_open = f"item_{item.id}" in form
        if wanted_open == (item.id in closed):
            await qa.configure(event.id, actor, Configure(id=0, item=item.id, open=wanted_open))


async def _organiser_actor(request: Request) -> Actor:
    async with app_state(request).db() as session:
        user: User | None = await auth.current_user(request, session)
    label = (user.name or user.email) if user is not None else ""
    return Actor(identities(request).new(label), moderator=True, label=label)


@login_redirect
async def export_download(request: Request) -> Response:
    """Every question with the time it was asked, approved, put on air and answered."""
    event = await _organiser(request)
    fmt = request.path_params["format"]
    if fmt not in ("csv", "json"):
        raise NotFound("No such export.", code="qa.no_export")
    rows = await export.export_rows(app_state(request).db, event.id)
    filename = f"{event.slug}-questions.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(export.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers=headers)
    return Response(export.to_json(rows), media_type="application/json", headers=headers)


routes: list[BaseRoute] = [
    Route("/admin/events/{slug}/qa", settings_page, methods=["GET", "POST"], name="admin_qa"),
    Route("/admin/events/{slug}/qa.{format:str}", export_download, methods=["GET"],
          name="admin_qa_export"),
]
