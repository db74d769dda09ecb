"""The caption editor on a recording's admin page: correct a track, then publish.

    GET  /admin/recordings/{id}/captions/{lang}/edit   organisers: the editor
    POST /admin/recordings/{id}/captions/{lang}/edit   organisers: save (CSRF form)

The form holds the whole track as WebVTT text: without JavaScript the organiser edits that
text; with it (static/js/caption-editor.js) the page shows the cues with their times, plays
the recording from a cue, and edits, splits, merges and shifts cues from the keyboard,
writing the WebVTT back into the form before it is sent. Saving parses the text
(`stream.package.captions`): broken cues are a 422 with the errors' line numbers and the
text as sent, and the stored track is left as it was; a valid text replaces the file
atomically (written clean, as an upload is).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from live.archive.access import check_form, organiser_access
from live.archive.api import recording_json
from live.archive.service import CAPTIONS_DIR, recording_dir
from live.errors import NotFound
from live.models import Recording
from live.routing import id_param
from live.state import app_state
from live.web import localiser, render
from stream.package.captions import CaptionsInvalid, parse_webvtt, to_webvtt

_LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")
EDIT = f"/admin/recordings/{id_param('recording_id')}/captions/{{lang}}/edit"


def _track(request: Request, recording: Recording) -> tuple[str, Path]:
    """The path's language and its file, for a track the recording has (404 otherwise)."""
    lang = request.path_params["lang"]
    if not _LANG.fullmatch(lang) or not any(c.lang == lang for c in recording.captions):
        raise NotFound("No caption track in that language.", code="captions.no_track")
    folder = recording_dir(app_state(request).settings, recording.id) / CAPTIONS_DIR
    return lang, folder / f"{lang}.vtt"


async def edit_page(request: Request) -> Response:
    """The editor, with the stored track."""
    access = await organiser_access(request)
    lang, path = _track(request, access.recording)
    text = await asyncio.to_thread(path.read_text, encoding="utf-8") if path.is_file() else "WEBVTT\n"
    return _render(request, access.recording, access.event, lang, text, None)


def _render(request: Request, recording: Recording, event: object, lang: str, text: str,
            error: CaptionsInvalid | None) -> Response:
    data = recording_json(recording, event, app_state(request).settings)  # type: ignore[arg-type]
    label = next((c.label for c in recording.captions if c.lang == lang), lang)
    message = None
    if error is not None:
        message = localiser(request).gettext("Line %(line)s: %(problem)s", line=error.line,
                                             problem=error.message.partition(": ")[2])
    return render(request, "captions/editor.html", {
        "recording": recording, "track_lang": lang, "label": label, "text": text, "error": message,
        "error_line": error.line if error else None, "video": data["files"]["mp4"],
    }, status_code=422 if error else 200)


async def save(request: Request) -> Response:
    """Validate the sent WebVTT; store it, or show the errors and keep the stored track."""
    access = await organiser_access(request)
    lang, path = _track(request, access.recording)
    form = await request.form()
    check_form(request, str(form.get("csrf_token", "")))
    sent = form.get("vtt")
    text = sent if isinstance(sent, str) else ""
    try:
        clean = to_webvtt(parse_webvtt(text))
    except CaptionsInvalid as exc:
        return _render(request, access.recording, access.event, lang, text, exc)
    await asyncio.to_thread(_replace, path, clean)
    return RedirectResponse(f"/admin/recordings/{access.recording.id}", status_code=303)


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


routes: list[BaseRoute] = [
    Route(EDIT, edit_page, methods=["GET"], name="captions_edit"),
    Route(EDIT, save, methods=["POST"], name="captions_save"),
]
