"""Poll pages for organisers: prepare polls, block words, export results, the innspill report.

    GET  /admin/events/{slug}/polls                 the event's polls; POST prepares one or
                                                    blocks words (?token=<organiser> works)
    GET  /admin/events/{slug}/polls.{csv,xlsx}       every poll's results (xlsx: and answers);
                                                    ?poll=<id> for one poll's
    POST /admin/events/{slug}/polls  action=survey  opens the feedback survey and mails it
                                                    (`live.polls.survey`)
    GET  /admin/events/{slug}/innspill               printable report: polls, open input,
                                                    group-work input and the questions asked

Polls are prepared through the poll service, as a moderator's socket would, so a connected
desk sees them at once. Running polls happens on the moderator page (`live.polls.handlers`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.bounds import parse_int
from live.errors import Invalid, NotFound, SalenError
from live.identity import identities
from live.models import Event, Role, User
from live.polls import export, survey
from live.polls.domain import PollKind, Spec
from live.polls.messages import PollView
from live.polls.runtime import Polls
from live.polls.service import PollService
from live.qa import export as qa_export
from live.qa.pages import event_and_roles, programme_items
from live.qa.service import Actor
from live.state import app_state
from live.web import localiser, login_redirect, render, token_query

KINDS = [k.value for k in PollKind]


def poll_service(request: Request) -> PollService:
    """The process's poll service (from the lifespan state)."""
    polls: Polls = request.state.polls
    return polls.service


async def _organiser(request: Request) -> Event:
    event, roles = await event_and_roles(request)
    auth.require(request, roles, Role.ORGANISER)
    await poll_service(request).ensure(event.id)
    return event


async def _actor(request: Request) -> Actor:
    async with app_state(request).db() as session:
        user: User | None = await auth.current_user(request, session)
    label = (user.name or user.email) if user is not None else "organiser"
    return Actor(identities(request).new(label), moderator=True, label=label)


def spec_from_form(form: dict[str, str]) -> tuple[Spec, int | None]:
    """A poll spec and programme item from the page's form (`poll.invalid` when unusable)."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise Invalid("Choose a kind of poll.", code="poll.invalid", fields={"kind": "invalid"})
    numbers = {name: parse_int(form.get(name, "").strip()) for name in
               ("max_choices", "scale", "duration", "item")}
    spec = Spec(
        kind=PollKind(kind), question=form.get("question", ""),
        options=tuple(form.get("options", "").splitlines()),
        max_choices=numbers["max_choices"], scale=numbers["scale"] or 5,
        anonymous="anonymous" in form, final="final" in form, moderated="moderated" in form,
        duration=numbers["duration"],
    )
    return spec, numbers["item"]


@login_redirect
async def polls_page(request: Request) -> Response:
    """The event's polls with their status and exports, and the form to prepare one."""
    event = await _organiser(request)
    service = poll_service(request)
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth.check_csrf(request, form.get("csrf_token"))
        try:
            actor = await _actor(request)
            if form.get("action") == "block":
                await service.block(event.id, actor, form.get("words", "").split(","))
            elif form.get("action") == "survey":
                await _send_survey(request, event, actor)
            else:
                spec, item = spec_from_form(form)
                await service.create(event.id, actor, spec, item=item)
            request.session["flash"] = "Saved."
            return RedirectResponse(f"/admin/events/{event.slug}/polls{token_query(request)}",
                                    status_code=303)
        except Invalid as exc:
            errors = dict(exc.fields) or {"question": exc.message}
            errors["_message"] = exc.message
    snapshot = await service.snapshot(event.id, moderator=True)
    return render(request, "polls/admin.html", {
        "event": event, "polls": snapshot.polls, "blocked": snapshot.blocked,
        "items": programme_items(event), "kinds": KINDS, "errors": errors, "form": form,
        "flash": request.session.pop("flash", None), "token_query": token_query(request),
        "survey_sent": request.session.pop("survey_sent", None),
        "survey": survey.survey_polls(snapshot.polls),
    }, status_code=422 if errors else 200)


async def _send_survey(request: Request, event: Event, actor: Actor) -> None:
    """Open the feedback survey and mail it to every confirmed registrant not mailed yet."""
    shared = app_state(request)
    await survey.open_survey(poll_service(request), event, actor, localiser(request).gettext)
    sent = await survey.mail_survey(shared.settings, shared.db, request.state.outbox, event,
                                    shared.translations)
    request.session["survey_sent"] = sent


async def _export(request: Request, polls: list[PollView], name: str) -> Response:
    fmt = request.path_params["format"]
    if fmt not in ("csv", "xlsx"):
        raise NotFound("No such export.", code="poll.no_export")
    rows = export.result_rows(polls)
    headers = {"content-disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(export.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers=headers)

    def read(session: Session) -> list[tuple[Any, ...]]:
        return export.answer_rows(session, [p.id for p in polls])

    async with app_state(request).db() as session:
        answers = await session.run_sync(read)
    return Response(
        export.to_xlsx(rows, answers), headers=headers,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_redirect
async def export_results(request: Request) -> Response:
    """Every poll's results (or one poll's, `?poll=ID`) as CSV, or as a workbook with the
    answers too."""
    event = await _organiser(request)
    polls = await poll_service(request).all_polls(event.id)
    wanted = parse_int(request.query_params.get("poll"))
    if wanted is None:
        return await _export(request, polls, f"{event.slug}-polls")
    polls = [p for p in polls if p.id == wanted]
    if not polls:
        raise NotFound(f"No poll {wanted} here.", code="poll.not_found")
    return await _export(request, polls, f"{event.slug}-poll-{wanted}")


@login_redirect
async def innspill_report(request: Request) -> Response:
    """One printable page of what the event gathered: polls, input, group work, questions."""
    from live.rooms import report as rooms_report

    event = await _organiser(request)
    db = app_state(request).db
    polls = await poll_service(request).all_polls(event.id)
    try:
        groups = await rooms_report.build(db, event.id)
    except SalenError:
        groups = []  # the event had no group work
    questions = [q for q in await qa_export.export_rows(db, event.id)
                 if q["status"] not in ("rejected", "merged")]
    return render(request, "polls/report.html", {
        "event": event, "polls": polls, "groups": groups, "questions": questions,
        "token_query": token_query(request),
    })


routes: list[BaseRoute] = [
    Route("/admin/events/{slug}/polls", polls_page, methods=["GET", "POST"], name="admin_polls"),
    Route("/admin/events/{slug}/polls.{format:str}", export_results, methods=["GET"],
          name="admin_polls_export"),
    Route("/admin/events/{slug}/innspill", innspill_report, methods=["GET"],
          name="admin_innspill"),
]
