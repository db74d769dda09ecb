"""Pages around an event's live stream: the player partial's data, the browser publishing
page for a remote speaker, and the organiser's stream page (URLs, key, OBS settings).

    GET  /e/{slug}/publish               publish camera and microphone (stream key, ?key=)
    GET  /admin/events/{slug}/stream     organisers: WHIP URL, key, OBS settings, state
    POST /admin/events/{slug}/stream     organisers: a new stream key (CSRF form)

`stream_player(request, event)` is a template global (see `install`): `_player.html` calls
it to learn whether to show an external embed, Salen's own player, or nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from live import auth, embeds
from live.admin.events import organiser_page, page
from live.events import event_status, find_event
from live.models import Event, Role, utcnow
from live.models.events import new_token
from live.streaming import stream_info
from live.web import localiser, render

ACTIVE = frozenset({"live", "paused", "finalising"})
POLL_MS = 4000
KEY_ROTATED = embeds.N_("A new stream key was made. The old key no longer works.")


@dataclass(frozen=True)
class Player:
    """What `_player.html` shows for one event: an external embed or Salen's own stream."""

    slug: str
    embed: embeds.Embed | None
    state: dict[str, Any]
    starts_at: dt.datetime | None
    force_hls: bool = False
    urls: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def line(self) -> str:
        """The status line as it stands when the page is rendered."""
        return status_line(self.texts, self.state)

    @property
    def own(self) -> bool:
        """Salen's own WHEP/HLS player (not an external embed)."""
        return self.embed is None


def _starts_at(event: Event) -> tuple[str, dt.datetime | None]:
    # The Q&A page may load the event without its occurrences; never lazy-load in a template.
    if "occurrences" in inspect(event).unloaded:
        return "upcoming", None
    status = event_status(event, utcnow())
    return status.state, status.starts_at


def player_key(request: Request, event: Event) -> tuple[object, ...]:
    """Everything `stream_player` shows that the event page's cache key does not already
    hold (the event's version, its status, the language): cheaper than the player itself."""
    hls = bool(request.scope["query_string"]) and request.query_params.get("hls") == "1"
    return (event.stream_url, event.streamed, request.state.streams.state(event.slug), hls)


def stream_player(request: Request, event: Event) -> Player | None:
    """The player for `event`'s page, or None when the event has no stream to show."""
    embed = None
    if event.stream_url:
        try:
            embed = embeds.parse_stream_url(event.stream_url, request.state.settings.embed_hosts)
        except embeds.EmbedRefused:
            embed = None  # saved before the host was removed from the allowlist
    state = request.state.streams.state(event.slug).as_dict()
    when, starts_at = _starts_at(event)
    if embed is None and not (event.streamed and (when != "ended" or state["state"] in ACTIVE)):
        return None
    slug = event.slug
    starts_at = starts_at if when != "live" else None
    return Player(
        slug=slug,
        embed=embed,
        state=state,
        starts_at=starts_at,
        force_hls=request.query_params.get("hls") == "1",
        texts=stream_texts(request, starts_at),
        urls={
            "state": f"/api/events/{slug}/stream/state",
            "whep": f"/whep/{slug}",
            "hls": f"/live/{slug}/index.m3u8",
            "hls_script": "/vendor/hls.min.js",
        },
    )


def install(templates: Jinja2Templates) -> None:
    """Make `stream_player` available to every template (the partial calls it)."""
    templates.env.globals["stream_player"] = stream_player


async def publish_page(request: Request) -> Response:
    """The remote speaker's page: stream key, camera preview, start and stop."""
    async with request.state.db() as session:
        event = await find_event(session, request.path_params["slug"])
    context = {
        "event": event,
        "stream_key": request.query_params.get("key", ""),
        "whip_url": f"/whip/{event.slug}",
        "texts": publish_texts(request),
    }
    response = render(request, "stream/publish.html", context)
    # the key may be in the address: keep the page out of caches and other sites' logs
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"
    return response


def publish_texts(request: Request) -> dict[str, str]:
    """The publishing page's status texts, keyed by WhipPublisher mode or English message."""
    loc = localiser(request)
    return {
        "preview": loc.gettext("Camera and microphone are on; nothing is sent yet."),
        "starting": loc.gettext("Connecting…"),
        "live": loc.gettext("You are live."),
        "stopped": loc.gettext("Stopped. The recording is being prepared."),
        "error": loc.gettext("Could not start:"),
        "no_key": loc.gettext("Enter the stream key first."),
        "The stream key is wrong.": loc.gettext("The stream key is wrong."),
        "There is no such event.": loc.gettext("There is no such event."),
        "Someone is already streaming to this event.": loc.gettext(
            "Someone is already streaming to this event."
        ),
        "The connection to the server failed.": loc.gettext("The connection to the server failed."),
    }


async def _organiser_event(request: Request) -> Event:
    async with request.state.db() as session:
        event = await find_event(session, request.path_params["slug"])
    auth.require(request, await auth.event_roles(request, event), Role.ORGANISER)
    return event


@organiser_page
async def admin_stream(request: Request) -> Response:
    """The organiser's stream page: where and how to publish, the key, the state."""
    event = await _organiser_event(request)
    state = request.state.streams.state(event.slug).as_dict()
    info = stream_info(request.state.settings, event, state)
    embed_problem = (
        embeds.stream_url_problem(event.stream_url, request.state.settings.embed_hosts)
        if event.stream_url
        else None
    )
    texts = stream_texts(request, None)
    context = {
        "event": event,
        "info": info,
        "state": state,
        "embed_problem": embed_problem,
        "texts": texts,
        "line": status_line(texts, state),
        "poll_ms": POLL_MS,
    }
    response = page(request, "admin/stream.html", context)
    response.headers["cache-control"] = "no-store"
    return response


@organiser_page
async def rotate_key(request: Request) -> Response:
    """A new stream key (form with CSRF token); the old one stops working for new publishers."""
    event = await _organiser_event(request)
    form = await request.form()
    auth.check_csrf(request, str(form.get("csrf_token", "")))
    async with request.state.db() as session, session.begin():
        row = await find_event(session, event.slug)
        row.stream_key = new_token()
    request.session["flash"] = KEY_ROTATED
    return RedirectResponse(f"/admin/events/{event.slug}/stream", status_code=303)


def stream_texts(request: Request, starts_at: dt.datetime | None) -> dict[str, str]:
    """The status line's texts in the request's language, for the page and its script."""
    loc = localiser(request)
    if starts_at is None:
        idle = loc.gettext("The stream has not started yet.")
    elif loc.local(starts_at).date() == loc.local(utcnow()).date():
        idle = loc.gettext("Starts at %(time)s", time=loc.time(starts_at))
    else:
        idle = loc.gettext("Starts %(when)s", when=loc.datetime(starts_at))
    return {
        "idle": idle,
        "live": loc.gettext("Live"),
        "paused": loc.gettext("Paused"),
        "finalising": loc.gettext("Ended — the recording is being prepared"),
        "ended": loc.gettext("Ended"),
        # "{n}" is filled in by the script; nb and en share the one/other plural rule
        "viewers_one": loc.ngettext("%(num)s watching", "%(num)s watching", 1, num="{n}"),
        "viewers_other": loc.ngettext("%(num)s watching", "%(num)s watching", 2, num="{n}"),
        "hls": loc.gettext("Playing the HLS version (a few seconds behind)."),
        "error": loc.gettext("The stream could not be played here. Try reloading the page."),
    }


def status_line(texts: dict[str, str], state: dict[str, Any]) -> str:
    """The line the script keeps up to date: "Live · 3 watching", "Paused", ..."""
    name = str(state["state"])
    if name != "live":
        return texts.get(name, texts["idle"])
    viewers = int(state["viewers"])
    count = texts["viewers_one" if viewers == 1 else "viewers_other"].replace("{n}", str(viewers))
    return f"{texts['live']} · {count}"


routes = [
    Route("/e/{slug}/publish", publish_page, methods=["GET"], name="stream_publish"),
    Route("/admin/events/{slug}/stream", admin_stream, methods=["GET"], name="admin_stream"),
    Route("/admin/events/{slug}/stream", rotate_key, methods=["POST"]),
]
