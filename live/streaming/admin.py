"""The organiser's stream page: where and how to publish (URLs, key, OBS settings), the state.

    GET  /admin/events/{slug}/stream        organisers: WHIP URL, key, OBS settings, state
    POST /admin/events/{slug}/stream        organisers: a new stream key (CSRF form)
    POST /admin/events/{slug}/stream-retry  organisers: finalise a stuck recording now (CSRF)
    POST /admin/events/{slug}/interpreter-key  organisers: a new sign-language interpreter
                                            key (CSRF form, confirmed first)

When the recordings folder is full or read-only the page says so (the state's `problem`)
and offers the retry; the stream manager also retries by itself every half minute.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import auth, confirm
from live.events import embeds
from live.events.admin import organiser_page, page
from live.events.player import status_line, stream_texts
from live.links import page_base
from live.state import app_state
from live.streaming.service import (
    organiser_event,
    rotate_interpreter_key,
    rotate_stream_key,
    stream_info,
)
from live.web import localiser

POLL_MS = 4000
KEY_ROTATED = embeds.N_("A new stream key was made. The old key no longer works.")
INTERPRETER_KEY_ROTATED = embeds.N_(
    "A new interpreter key was made. The old key and link no longer work.")
ROTATE_INTERPRETER = confirm.declare(
    "interpreter.key", "/admin/events/{slug}/interpreter-key", back="/admin/events/{slug}/stream",
    title=embeds.N_("Make a new interpreter key?"),
    question=embeds.N_("The interpreter's old key and link stop working at once: give the "
                       "interpreter the new ones. An interpreter who is live now goes on."),
    button=embeds.N_("Yes, make a new key"))
RETRYING = embeds.N_("Preparing the recording again.")
NOTHING_TO_RETRY = embeds.N_("No recording of this stream is waiting to be prepared here.")
ROTATE = confirm.declare(
    "stream.key", "/admin/events/{slug}/stream",
    title=embeds.N_("Make a new stream key?"),
    question=embeds.N_("The old key and the speaker's link made with it stop working at once: "
                       "OBS and every speaker must be given the new ones. A stream that is "
                       "live now goes on."),
    button=embeds.N_("Yes, make a new key"))
# the organiser's words for a stream's `problem` codes (stream.recovery.Problem)
PROBLEMS = {
    "storage.full": embeds.N_("The disk for recordings is full: the stream is not being "
                              "recorded, and live HLS has stopped. Free some space; the "
                              "recording so far is prepared as soon as there is room."),
    "storage.read_only": embeds.N_("The recordings folder cannot be written to (read-only): "
                                   "the stream is not being recorded, and live HLS has stopped."),
    "storage.error": embeds.N_("The recordings folder cannot be written to: the stream is not "
                               "being recorded, and live HLS has stopped."),
    "recording.failed": embeds.N_("The recording could not be turned into a video file."),
}


@organiser_page
async def admin_stream(request: Request) -> Response:
    """The organiser's stream page: where and how to publish, the key, the state."""
    event = await organiser_event(request)
    state = request.state.streams.state(event.slug).as_dict()
    info = stream_info(page_base(request), event, state)
    embed_problem = (
        embeds.stream_url_problem(event.stream_url, app_state(request).settings.embed_hosts)
        if event.stream_url
        else None
    )
    texts = stream_texts(request, None) | problem_texts(request)
    context = {
        "event": event,
        "info": info,
        "state": state,
        "embed_problem": embed_problem,
        "texts": texts,
        "line": status_line(texts, state),
        "poll_ms": POLL_MS,
        "problem": _problem_text(state),
        "can_retry": state["state"] == "finalising" and state["problem"] is not None,
    }
    response = page(request, "admin/stream.html", context)
    response.headers["cache-control"] = "no-store"
    return response


async def replace_key_page(
    request: Request, confirmation: confirm.Confirmation,
    replace: Callable[[Request, str], Awaitable[object]], done: str,
) -> Response:
    """A key of the event replaced from its stream page (form with CSRF token), once the
    organiser has confirmed; back to the stream page with `done` as the flash."""
    event = await organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    if (asked := confirm.ask(request, form, confirmation)) is not None:
        return asked
    await replace(request, event.slug)
    request.session["flash"] = done
    return RedirectResponse(f"/admin/events/{event.slug}/stream", status_code=303)


@organiser_page
async def rotate_key(request: Request) -> Response:
    """A new stream key; the old one stops working for new publishers."""
    return await replace_key_page(request, ROTATE, rotate_stream_key, KEY_ROTATED)


@organiser_page
async def rotate_interpreter(request: Request) -> Response:
    """A new interpreter key; the old one stops working for new publishers."""
    return await replace_key_page(request, ROTATE_INTERPRETER, rotate_interpreter_key,
                                  INTERPRETER_KEY_ROTATED)


@organiser_page
async def retry_finalising(request: Request) -> Response:
    """Try again at once to finalise the stream's stuck recording (form with CSRF token)."""
    event = await organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    retried = request.state.streams.retry_finalising(event.slug)
    request.session["flash"] = RETRYING if retried else NOTHING_TO_RETRY
    return RedirectResponse(f"/admin/events/{event.slug}/stream", status_code=303)


def problem_texts(request: Request) -> dict[str, str]:
    """The problems' texts for the page's script, keyed `problem.<code>`."""
    gettext = localiser(request).gettext
    return {f"problem.{code}": gettext(text) for code, text in PROBLEMS.items()}


def _problem_text(state: dict[str, object]) -> str | None:
    problem = state.get("problem")
    if not isinstance(problem, dict):
        return None
    return PROBLEMS.get(str(problem.get("code")), PROBLEMS["storage.error"])


routes = [
    Route("/admin/events/{slug}/stream", admin_stream, methods=["GET"], name="admin_stream"),
    Route("/admin/events/{slug}/stream", rotate_key, methods=["POST"]),
    Route("/admin/events/{slug}/stream-retry", retry_finalising, methods=["POST"]),
    Route("/admin/events/{slug}/interpreter-key", rotate_interpreter, methods=["POST"]),
]
