"""The stream player on event pages: an external embed, Salen's own player, or nothing.

`stream_player(request, event)` is a template global (see `install`): `_player.html` calls
it to learn what to show. The stream's state comes from the stream manager on the lifespan
state (`request.state.streams`); `stream_texts` and `status_line` give its status line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from live.events import embeds
from live.events.domain import EventStatus, event_status
from live.events.livestate import LiveState, live_state
from live.models import Event, utcnow
from live.state import app_state
from live.web import localiser

ACTIVE = frozenset({"live", "paused", "finalising"})


@dataclass(frozen=True)
class Player:
    """What `_player.html` shows for one event: an external embed or Salen's own stream."""

    slug: str
    embed: embeds.Embed | None
    state: dict[str, Any]
    starts_at: dt.datetime | None
    live: LiveState | None = None
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


def _status(event: Event) -> EventStatus:
    # The Q&A page may load the event without its occurrences; never lazy-load in a template.
    if "occurrences" in inspect(event).unloaded:
        return EventStatus("upcoming", None, None)
    return event_status(event, utcnow())


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
            embed = embeds.parse_stream_url(event.stream_url, app_state(request).settings.embed_hosts)
        except embeds.EmbedRefused:
            embed = None  # saved before the host was removed from the allowlist
    state = request.state.streams.state(event.slug).as_dict()
    status = _status(event)
    when, starts_at = status.state, status.starts_at
    if embed is None and not (event.streamed and (when != "ended" or state["state"] in ACTIVE)):
        return None
    slug = event.slug
    starts_at = starts_at if when != "live" else None
    return Player(
        slug=slug,
        embed=embed,
        state=state,
        starts_at=starts_at,
        live=live_state(status, str(state["state"]) if event.streamed else None, None,
                        event.streamed),
        force_hls=request.query_params.get("hls") == "1",
        texts=stream_texts(request, starts_at),
        urls={
            "state": f"/api/events/{slug}/now",
            "whep": f"/whep/{slug}",
            "hls": f"/live/{slug}/master.m3u8",
            "hls_script": "/vendor/hls.min.js",
            "interpreter_whep": f"/whep/{slug}/interpreter",
            "interpreter_hls": f"/live/{slug}/interpreter/index.m3u8",
        },
    )


def install(templates: Jinja2Templates) -> None:
    """Make `stream_player` available to every template (the partial calls it)."""
    templates.env.globals["stream_player"] = stream_player


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
        "ended": loc.gettext("Ended — recording to come"),
        "unmute": loc.gettext("Tap for sound"),
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
