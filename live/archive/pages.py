"""Public archive pages: the list of published recordings, and one recording's page."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.archive.access import load_access
from live.archive.api import recording_json
from live.archive.chapters import format_timestamp, is_seconds
from live.archive.files import file_url
from live.archive.service import CAPTIONS_DIR, MEDIA_DIR, recording_dir
from live.archive.transcript import plain_text, read_lines, search, transcript_lang
from live.bounds import parse_id
from live.events.facts import archive_version
from live.events.page_cache import PageCache, cached_page, remembered
from live.events.service import load_event
from live.models import Event, EventType, ProgrammeBlock, Recording, RecordingState
from live.polls.timeline import poll_timeline
from live.routing import id_param
from live.settings import Settings
from live.state import app_state
from live.web import localiser, render
from stream.package.chapters import parse_offset
from stream.package.poster import POSTER_NAME

MAX_QUERY = 200
PAGE_SIZE = 20  # recordings per archive page
COUNT = ("%(num)d line holds “%(query)s”.", "%(num)d lines hold “%(query)s”.")
EVENT_TYPES = frozenset(t.value for t in EventType)
_SHOWN_QUESTIONS = ("approved", "on_air", "answered")


@dataclass(frozen=True, slots=True)
class Listed:
    """A published recording as the archive lists it."""

    recording: Recording
    event: Event
    speakers: list[str]
    text: str  # everything the search looks through, lower-case
    poster: str | None = None  # the poster frame's URL, when packaging made one


def _search_text(recording: Recording, event: Event) -> tuple[list[str], str]:
    speakers = [s.name for s in event.speakers if s.name]
    parts = [recording.title, event.title, event.summary, event.description, event.host]
    parts += [f"{s.name} {s.organisation} {s.role}" for s in event.speakers]
    for block in event.blocks:
        parts.append(block.title)
        parts += [f"{i.title} {i.description}" for i in block.items]
    return speakers, " ".join(parts).lower()


def matches(listed: Listed, words: list[str], year: int | None, kind: str) -> bool:
    """All search words occur; the year and event type match when given."""
    when = listed.recording.started_at or listed.recording.published_at
    if year is not None and (when is None or when.year != year):
        return False
    if kind and listed.event.event_type != kind:
        return False
    return all(word in listed.text for word in words)


def _poster(settings: Settings, recording: Recording) -> str | None:
    exists = (recording_dir(settings, recording.id) / MEDIA_DIR / POSTER_NAME).is_file()
    return file_url(recording, POSTER_NAME) if exists else None


async def published(session: AsyncSession, settings: Settings) -> list[Listed]:
    """Every published recording of a published event, with the event and its poster
    frame, newest first; the search text takes in each recording's transcript."""
    rows = (
        await session.execute(
            select(Recording, Event)
            .join(Event, Event.id == Recording.event_id)
            .where(Recording.state == RecordingState.PUBLISHED, Event.published.is_(True))
            .options(
                raiseload(Recording.captions),  # the list shows neither
                raiseload(Recording.attachments),
                selectinload(Event.speakers),
                selectinload(Event.blocks).joinedload(ProgrammeBlock.items),
            )
        )
    ).all()
    far = dt.datetime.min.replace(tzinfo=dt.UTC)
    transcripts = await _transcripts([r.id for r, _ in rows], settings)
    listed = []
    for r, e in rows:
        speakers, text = _search_text(r, e)
        listed.append(Listed(r, e, speakers, f"{text} {transcripts.get(r.id, '')}",
                             poster=_poster(settings, r)))
    listed.sort(
        key=lambda x: x.recording.started_at or x.recording.published_at or far, reverse=True
    )
    return listed


async def _transcripts(ids: list[int], settings: Settings | None) -> dict[int, str]:
    """Each recording's transcript text (`live.archive.transcript`), for the search. The
    caption files on disk are read (no query: the archive list costs the same queries)."""
    if not ids or settings is None:
        return {}

    def read() -> dict[int, str]:
        found = {}
        for rid in ids:
            folder = recording_dir(settings, rid)
            langs = sorted(p.stem for p in (folder / CAPTIONS_DIR).glob("*.vtt"))
            if langs:
                found[rid] = plain_text(folder, langs)
        return found

    return await asyncio.to_thread(read)


async def archive_page(request: Request) -> Response:
    """GET /archive?q=&year=&type=&page=: published recordings, newest first, `PAGE_SIZE` a page.

    At most one query per view (`archive_version`, reused on SQLite until the database
    changes) while nothing in the archive changes.
    """
    params = request.query_params if request.scope["query_string"] else {}
    query = params.get("q", "")[:MAX_QUERY].strip()
    year_text = params.get("year", "")
    year = parse_id(year_text)
    kind = params.get("type", "")
    kind = kind if kind in EVENT_TYPES else ""
    page = parse_id(params.get("page", "")) or 1
    cache: PageCache = request.state.page_cache
    version = await remembered(request, "archive", archive_version)
    everything = cache.get(("archive", version))
    if everything is None:
        async with app_state(request).db() as session:
            everything = cache.put(("archive", version),
                                   await published(session, app_state(request).settings))
    key = ("archive", version, query, year, kind, page)
    return cached_page(request, key, "archive.html",
                       lambda: _archive_context(everything, query, year, kind, page))


def _page_count(count: int) -> int:
    """Pages of `PAGE_SIZE` that `count` recordings fill (one when there are none)."""
    return max(1, -(-count // PAGE_SIZE))


def pages_of(count: int, page: int, link: dict[str, str]) -> list[tuple[int, str]]:
    """The pagination's pages around `page` (first, last, and two either side; 0 marks a
    gap), each with its address: the search's query string (`link`) plus `page`."""
    last = _page_count(count)
    wanted = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    found: list[tuple[int, str]] = []
    for n in wanted:
        if found and n - found[-1][0] > 1:
            found.append((0, ""))
        query = urlencode({**{k: v for k, v in link.items() if v}, "page": str(n)})
        found.append((n, f"/archive?{query}"))
    return found


def _archive_context(everything: list[Listed], query: str, year: int | None,
                     kind: str, page: int) -> dict[str, Any]:
    found = [x for x in everything if matches(x, query.lower().split(), year, kind)]
    page = min(page, _page_count(len(found)))
    shown = found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    link = {"q": query, "year": str(year or ""), "type": kind}
    years = sorted(
        {
            (x.recording.started_at or x.recording.published_at).year  # type: ignore[union-attr]
            for x in everything
            if x.recording.started_at or x.recording.published_at
        },
        reverse=True,
    )
    return {
        "listed": shown,
        "found": len(found),
        "page": page,
        "pages": pages_of(len(found), page, link) if len(found) > PAGE_SIZE else [],
        "q": query,
        "year": year,
        "kind": kind,
        "years": years,
        "kinds": list(EventType),
        "total": len(everything),
        "fmt_time": format_timestamp,
    }


async def recording_page(request: Request) -> Response:
    """GET /recordings/{id}[?t=SECONDS|HH:MM:SS]: the player, chapters, slides and questions."""
    access = await load_access(request)
    recording = access.recording
    async with app_state(request).db() as session:
        event = await load_event(session, access.event.slug)
    data = recording_json(recording, event, app_state(request).settings)
    items = {i.id: i for b in event.blocks for i in b.items}
    attachments: dict[int | None, list[dict[str, Any]]] = {}
    for attachment in data["attachments"]:
        attachments.setdefault(attachment["item"], []).append(attachment)
    context = {
        "recording": recording,
        "event": event,
        "data": data,
        "organiser": access.organiser,
        "start": _start_param(request),
        "items": items,
        "attachments": attachments,
        "speakers": {s.id: s for s in event.speakers},
        "questions": await question_timeline(request, recording),
        "polls": await poll_timeline(app_state(request).db, recording),
        "fmt_time": format_timestamp,
        **await _transcript_context(request, recording),
    }
    return render(request, "recording.html", context)


async def _transcript_context(request: Request, recording: Recording) -> dict[str, Any]:
    """Every line of the transcript with whether it matches `?tq=` (all do without it), and
    the count line's texts for transcript.js (which filters as one types)."""
    query = request.query_params.get("tq", "")[:MAX_QUERY].strip()
    lang = transcript_lang(list(recording.captions))
    lines = []
    if lang is not None:
        folder = recording_dir(app_state(request).settings, recording.id)
        lines = await asyncio.to_thread(read_lines, folder, lang)
    hits = set(map(id, search(lines, query)))
    raw = localiser(request).translations.ngettext
    return {
        "transcript": [(line, id(line) in hits) for line in lines],
        "transcript_hits": len(hits),
        "transcript_query": query,
        "transcript_total": len(lines),
        "transcript_texts": {"one": raw(*COUNT, 1), "other": raw(*COUNT, 2)},
    }


def _start_param(request: Request) -> float:
    try:
        start = parse_offset(request.query_params.get("t", "0") or "0")
    except ValueError:
        return 0.0
    return start if is_seconds(start) else 0.0


async def question_timeline(request: Request, recording: Recording) -> list[dict[str, Any]]:
    """Approved and answered questions with their moments in the recording."""
    from live.models.qa import Question

    try:
        async with app_state(request).db() as session:
            rows = list(
                await session.scalars(
                    select(Question)
                    .where(
                        Question.event_id == recording.event_id,
                        Question.status.in_(_SHOWN_QUESTIONS),
                    )
                    .order_by(Question.asked_at)
                )
            )
    except DBAPIError:  # the Q&A tables are not in this database's migrations yet
        return []
    return [
        {
            "text": q.text,
            "name": q.name,
            "organisation": q.organisation,
            "asked": recording.offset_of(q.asked_at),
            "answered": recording.offset_of(q.answered_at),
            "status": q.status,
        }
        for q in rows
    ]


routes = [
    Route("/archive", archive_page, name="archive"),
    Route(f"/recordings/{id_param('recording_id')}", recording_page, name="recording"),
]
