"""JSON API of the archive: list, one recording, publish/unpublish, chapters, trim."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.archive.access import Access, archive, load_access, organiser_access
from live.archive.chapters import is_seconds, validate_chapters
from live.archive.files import file_url
from live.archive.service import HLS_DIR, HLS_PLAYLIST, MEDIA_DIR, MP4_NAME, recording_dir
from live.auth import check_csrf, event_roles, presented_token, site_organiser
from live.errors import Invalid
from live.models import Event, Recording, RecordingState, Role
from live.openapi import operation
from live.routing import id_param
from live.state import app_state
from live.web import json_body
from stream.package.poster import POSTER_NAME

_RECORDING = "The recording (id, event, state, duration, chapters, files, captions, ...)."
_ORGANISER = {
    "200": _RECORDING,
    "401": "Not logged in",
    "403": "Not an organiser",
    "404": "No such recording (or unpublished)",
    "409": "Not ready",
    "422": "Invalid",
}


def recording_json(recording: Recording, event: Event, settings: Any) -> dict[str, Any]:
    """The API's view of a recording (the documented contract)."""
    folder = recording_dir(settings, recording.id) / MEDIA_DIR
    done = recording.state in (RecordingState.READY, RecordingState.PUBLISHED)
    has_mp4 = done and (folder / MP4_NAME).is_file()
    has_hls = done and (folder / HLS_DIR / HLS_PLAYLIST).is_file()
    has_poster = done and (folder / POSTER_NAME).is_file()
    return {
        "id": recording.id,
        "event": event.slug,
        "title": recording.title,
        "state": str(recording.state),
        "progress": recording.progress,
        "error": recording.error,
        "started_at": recording.started_at.isoformat() if recording.started_at else None,
        "published_at": recording.published_at.isoformat() if recording.published_at else None,
        "duration": recording.duration,
        "trim": {"start": recording.trim_start, "end": recording.trim_end},
        "chapters": [{"title": c["title"], "start": c["start"]} for c in recording.chapters],
        "files": {
            "mp4": file_url(recording, MP4_NAME) if has_mp4 else None,
            "hls": file_url(recording, f"{HLS_DIR}/{HLS_PLAYLIST}") if has_hls else None,
            "poster": file_url(recording, POSTER_NAME) if has_poster else None,
        },
        "captions": [
            {"lang": c.lang, "label": c.label, "url": file_url(recording, f"captions/{c.lang}.vtt")}
            for c in recording.captions
        ],
        "attachments": [
            {
                "id": a.id,
                "title": a.title,
                "item": a.item_id,
                "url": file_url(recording, f"attachments/{a.id}.pdf"),
            }
            for a in recording.attachments
        ],
        "interpreter": _interpreter(recording, settings) if done else None,
    }


def _interpreter(recording: Recording, settings: Any) -> dict[str, Any] | None:
    """The interpreter's video and where it starts in the player's time, if there is one."""
    from live.archive.interpreter import FILE, FOLDER, interpreter_info

    info = interpreter_info(recording_dir(settings, recording.id))
    if info is None:
        return None
    return {"url": file_url(recording, f"{FOLDER}/{FILE}"),
            "shift": round(recording.cut_start - info["offset"], 3)}


@operation(
    "List recordings",
    "Published ones; organisers also see the rest. Filter with ?event=SLUG.",
    tag="recordings",
)
async def list_recordings(request: Request) -> Response:
    """GET /api/recordings[?event=SLUG]: published ones; organisers also see the rest."""
    query = select(Recording, Event).join(Event, Event.id == Recording.event_id)
    slug = request.query_params.get("event")
    if slug:
        query = query.where(Event.slug == slug)
    async with app_state(request).db() as session:
        rows = (
            await session.execute(
                query.order_by(Recording.started_at.desc().nulls_last(), Recording.id.desc())
            )
        ).all()
    everything = await site_organiser(request)
    result = []
    for recording, event in rows:
        visible = (
            (recording.state == RecordingState.PUBLISHED and event.published)
            or everything
            or (Role.ORGANISER in await event_roles(request, event))
        )
        if visible:
            result.append(recording_json(recording, event, app_state(request).settings))
    return JSONResponse({"recordings": result})


@operation(
    "Get a recording",
    "Unpublished recordings are 404 for anyone but organisers.",
    responses={"200": _RECORDING, "404": "No such recording (or unpublished)"},
    tag="recordings",
)
async def get_recording(request: Request) -> Response:
    """GET /api/recordings/{id}."""
    access = await load_access(request)
    return JSONResponse(recording_json(access.recording, access.event, app_state(request).settings))


async def _after(request: Request, recording_id: int) -> Response:
    async with app_state(request).db() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        event = await session.get(Event, recording.event_id)
        assert event is not None
        return JSONResponse(recording_json(recording, event, app_state(request).settings))


async def organiser_write(request: Request) -> Access:
    """An organiser's write: cookie sessions also need the X-CSRF-Token header."""
    access = await organiser_access(request)
    if not presented_token(request):
        check_csrf(request, request.headers.get("x-csrf-token"))
    return access


@operation(
    "Publish a recording", "Only a ready recording.", responses=_ORGANISER, tag="recordings"
)
async def publish(request: Request) -> Response:
    """POST /api/recordings/{id}/publish (organisers)."""
    access = await organiser_write(request)
    await archive(request).set_published(access.recording.id, True)
    return await _after(request, access.recording.id)


@operation("Unpublish a recording", "Back to ready.", responses=_ORGANISER, tag="recordings")
async def unpublish(request: Request) -> Response:
    """POST /api/recordings/{id}/unpublish (organisers)."""
    access = await organiser_write(request)
    await archive(request).set_published(access.recording.id, False)
    return await _after(request, access.recording.id)


@operation(
    "Replace the chapters",
    "Seconds from the start of the recording as played; the MP4 is re-packaged to carry them.",
    responses=_ORGANISER,
    tag="recordings",
    body={
        "type": "array",
        "items": {
            "type": "object",
            "required": ["title", "start"],
            "properties": {"title": {"type": "string"}, "start": {"type": "number"}},
        },
    },
)
async def put_chapters(request: Request) -> Response:
    """PUT /api/recordings/{id}/chapters with [{"title", "start"}] in seconds (organisers)."""
    access = await organiser_write(request)
    body = await json_body(request)
    chapters = body.get("chapters") if isinstance(body, dict) else body
    checked = validate_chapters(chapters, access.recording.duration)
    await archive(request).set_chapters(access.recording.id, checked)
    return await _after(request, access.recording.id)


@operation(
    "Trim the recording",
    "Seconds from the start of the source; cut at keyframes, no re-encoding.",
    responses=_ORGANISER,
    tag="recordings",
    body={
        "type": "object",
        "properties": {"start": {"type": ["number", "null"]}, "end": {"type": ["number", "null"]}},
    },
)
async def put_trim(request: Request) -> Response:
    """PUT /api/recordings/{id}/trim with {"start", "end"} in source seconds or null."""
    access = await organiser_write(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Invalid(
            'Send {"start": seconds or null, "end": seconds or null}.', code="trim.invalid"
        )
    start, end = body.get("start"), body.get("end")
    for value in (start, end):
        if value is not None and not is_seconds(value):
            raise Invalid("Trim points are seconds (0 or more) or null.", code="trim.invalid")
    await archive(request).set_trim(access.recording.id, start, end)
    return await _after(request, access.recording.id)


RECORDING = f"/api/recordings/{id_param('recording_id')}"
routes = [
    Route("/api/recordings", list_recordings, name="api_recordings"),
    Route(RECORDING, get_recording, name="api_recording"),
    Route(f"{RECORDING}/publish", publish, methods=["POST"]),
    Route(f"{RECORDING}/unpublish", unpublish, methods=["POST"]),
    Route(f"{RECORDING}/chapters", put_chapters, methods=["PUT"]),
    Route(f"{RECORDING}/trim", put_trim, methods=["PUT"]),
]
