"""The feedback survey after the event: a rating and an open text, mailed to each participant.

    POST /admin/events/{slug}/polls  action=survey   (organisers) make and open the survey's
                                                     two polls, mail every confirmed registrant
    GET  /e/{slug}/feedback?r=<personal token>       the form; POST stores the answers

The survey is two polls marked `survey` (a 1–5 rating and an open text), kept off the live
pages and the big screen, answered through the registrant's personal link as the
participant that link names (`live.identity.registration_participant`): one answer each,
changeable while the survey is open. Each mail is queued through the outbox in the same
transaction as its `sent_reminders` record ("survey:<registration>"), so sending again
mails only those who did not get it; delivery and retries are the outbox's job
(`live.outbox`, `live.jobs`). Results are in the polls' exports and the input report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from email.headerregistry import Address
from email.message import EmailMessage

from babel.support import NullTranslations
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live import auth
from live.attendance.reminders import record
from live.errors import Invalid, NotFound, SalenError
from live.events.service import load_event
from live.i18n import N_
from live.identity import Participant, registrant
from live.models import Event
from live.models.base import utcnow
from live.models.registration import Registration, Status
from live.outbox import BadAddress, Outbox, Ref, parse_address
from live.polls.domain import Answer, PollKind, PollStatus, Spec
from live.polls.messages import PollView
from live.polls.service import PollService
from live.qa.service import Actor
from live.registration.notify import localiser
from live.settings import Settings
from live.state import app_state
from live.web import render

log = logging.getLogger(__name__)

RATING = N_("How was the event, all in all?")
TEXT = N_("What should we keep, and what should we do better next time?")


def survey_polls(polls: list[PollView]) -> tuple[PollView, PollView] | None:
    """The event's survey (its rating and its text poll), if it was made."""
    rating = next((p for p in polls if p.survey and p.kind == PollKind.RATING), None)
    text = next((p for p in polls if p.survey and p.kind == PollKind.TEXT), None)
    return None if rating is None or text is None else (rating, text)


async def open_survey(service: PollService, event: Event, actor: Actor,
                      gettext: Callable[[str], str]) -> None:
    """Make the survey's two polls (in the organiser's language) and open them."""
    polls = await service.all_polls(event.id)
    found = survey_polls(polls)
    if found is None:
        for kind, question in ((PollKind.RATING, RATING), (PollKind.TEXT, TEXT)):
            await service.create(event.id, actor, Spec(kind, gettext(question)),
                                 launch=True, survey=True)
        return
    for poll in found:
        if poll.status != PollStatus.OPEN:
            await service.step(event.id, actor, poll.id, "launch")


async def mail_survey(
    settings: Settings, db: async_sessionmaker[AsyncSession], outbox: Outbox, event: Event,
    translations: Mapping[str, NullTranslations] | None = None,
) -> int:
    """Queue the survey mail for every confirmed registrant not mailed yet; how many."""
    ids: list[int] = []
    async with db() as session, session.begin():
        for registration in await session.scalars(select(Registration).where(
                Registration.event_id == event.id, Registration.status == Status.CONFIRMED)):
            if not await record(session, f"survey:{registration.id}",
                                registration.occurrence_id, registration.id, utcnow(), 1):
                continue
            try:
                to = parse_address(registration.email)
            except BadAddress:
                log.warning("registration %d: no survey, the address is not usable",
                            registration.id)
                continue
            message = survey_mail(settings, event, registration, translations)
            message["To"] = Address(display_name=registration.name, username=to.local,
                                    domain=to.ascii_domain)
            ids.append(await outbox.add(session, message, to, kind="polls.survey",
                                        ref=Ref("registration", registration.id)))
    await outbox.send_now(ids)
    return len(ids)


def survey_mail(settings: Settings, event: Event, registration: Registration,
                translations: Mapping[str, NullTranslations] | None) -> EmailMessage:
    """The invitation to answer, with the personal link, in the registrant's language."""
    l10n = localiser(settings, registration.locale, translations)
    link = f"{settings.base_url.rstrip('/')}/e/{event.slug}/feedback?r={registration.token}"
    message = EmailMessage()
    message["Subject"] = l10n.gettext(N_("What did you think of %(event)s?"), event=event.title)
    message["Content-Language"] = registration.locale
    message.set_content("\n".join([
        l10n.gettext(N_("Hello %(name)s,"), name=registration.name), "",
        l10n.gettext(N_("Thank you for taking part in %(event)s. Two short questions help us "
                        "make the next one better:"), event=event.title),
        link, "",
    ]))
    return message


# --- the page --------------------------------------------------------------------------------


async def feedback_page(request: Request) -> Response:
    """The survey form for the registrant of the personal link; POST saves the answers."""
    async with app_state(request).db() as session:
        event = await load_event(session, request.path_params["slug"])
    person = await registrant(request, event.id)
    service: PollService = request.state.polls.service
    found = survey_polls(await service.all_polls(event.id))
    if person is None or found is None:
        raise NotFound("This feedback link is not valid.", code="poll.no_survey")
    rating, text = found
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth.check_csrf(request, form.get("csrf_token"))
        try:
            await _save(service, event.id, person, rating, text, form)
            return RedirectResponse(f"/e/{event.slug}/feedback?r={request.query_params['r']}"
                                    "&saved=1", status_code=303)
        except Invalid as exc:
            errors = {"rating": exc.message} if "rating" in exc.fields else {"text": exc.message}
        except SalenError as exc:
            errors = {"rating": exc.message}
    return render(request, "polls/feedback.html", {
        "event": event, "rating": rating, "text": text, "errors": errors,
        "saved": request.query_params.get("saved") == "1", "token": request.query_params["r"],
    }, status_code=422 if errors else 200)


async def _save(service: PollService, event_id: int, person: Participant, rating: PollView,
                text: PollView, form: dict[str, str]) -> None:
    actor = Actor(person)
    given = form.get("rating", "")
    if not given.isdigit() and not form.get("text", "").strip():
        raise Invalid("Give a rating or write a few words.", code="poll.empty",
                      fields={"rating": "empty"})
    if given.isdigit():
        await service.answer(event_id, actor, rating.id, Answer(rating=int(given)))
    if form.get("text", "").strip():
        await service.answer(event_id, actor, text.id, Answer(text=form["text"]))


routes: list[BaseRoute] = [
    Route("/e/{slug}/feedback", feedback_page, methods=["GET", "POST"], name="poll_feedback"),
]
