"""Organiser pages: a recording's management page, uploads (import, captions, slides)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import confirm
from live.archive.access import archive, check_form, organiser_access
from live.archive.api import recording_json
from live.archive.chapters import format_timestamp, parse_chapter_lines, parse_timestamp
from live.archive.service import ATTACHMENTS_DIR, CAPTIONS_DIR, recording_dir, recordings_for_event
from live.archive.transcripts import start_transcription, transcript_status
from live.archive.upload import Upload, cleaned, receive_upload
from live.auth import event_roles, require
from live.bounds import parse_id
from live.errors import Invalid, NotFound, SalenError
from live.events.service import find_event, load_event
from live.i18n import N_
from live.models import Recording, Role
from live.models.base import utcnow
from live.models.recordings import RecordingAttachment, RecordingCaption
from live.routing import id_param, segment
from live.state import app_state
from live.web import localiser, render
from stream.package.captions import MAX_CAPTION_BYTES, normalise_captions
from stream.package.probe import RecordingError

MAX_VIDEO_BYTES = 50 * 1024**3
MAX_PDF_BYTES = 50 * 1024**2
_LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")


def uploads_dir(request: Request) -> Path:
    return Path(app_state(request).settings.recordings_dir) / "archive" / "uploads"


async def event_recordings(request: Request) -> Response:
    """GET /admin/events/{slug}/recordings: the event's recordings and the import form."""
    return await _event_page(request)


async def _event_page(request: Request, error: str = "", status: int = 200) -> Response:
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    require(request, await event_roles(request, event), Role.ORGANISER)
    async with app_state(request).db() as session:
        recordings = await recordings_for_event(session, event.slug)
    context = {"event": event, "recordings": recordings, "error": error}
    return render(request, "admin/recordings.html", context, status_code=status)


async def import_upload(request: Request) -> Response:
    """POST /admin/events/{slug}/recordings: a video file streamed to disk, then imported."""
    async with app_state(request).db() as session:
        event = await find_event(session, request.path_params["slug"])
    require(request, await event_roles(request, event), Role.ORGANISER)
    upload = await receive_upload(request, uploads_dir(request), MAX_VIDEO_BYTES)
    with cleaned(upload):
        check_form(request, upload.fields.get("csrf_token"))
        path = upload.files.get("file")
        if path is None:
            message = localiser(request).gettext("Choose a video file.")
            return await _event_page(request, message, 422)
        try:
            started = _started_at(upload.fields.get("started_at", ""))
            rid = await archive(request).import_file(
                event.slug,
                path,
                started_at=started,
                title=upload.fields.get("title", "").strip(),
                move=True,
            )
        except Invalid as exc:
            message = upload_message(request, exc, upload.filenames.get("file", ""))
            return await _event_page(request, message, 422)
    return RedirectResponse(f"/admin/recordings/{rid}", status_code=303)


# What an organiser is told about a refused video, by error code: in their language and
# naming the file they chose, never the temporary file it was streamed into.
_REFUSALS = {
    "recording.not_video": N_("%(name)s is not a video file. Choose a video such as MP4 or MOV."),
    "recording.broken": N_("%(name)s looks like a video but is damaged or cut short."),
    "recording.unsupported_codec": N_(
        "%(name)s is %(codec)s video, which Salen cannot publish; export it as MP4 (H.264)."),
}


def upload_message(request: Request, exc: Invalid, filename: str) -> str:
    """The refusal of an uploaded video, localised, with the name the organiser chose."""
    loc = localiser(request)
    if isinstance(exc, RecordingError):
        if exc.fields.get("file") == "empty":
            return loc.gettext("%(name)s is empty.", name=filename or "?")
        refusal = _REFUSALS.get(exc.code, N_("%(name)s could not be read as a video."))
        return loc.gettext(refusal, name=filename or "?", codec=exc.fields.get("codec", "?"))
    return loc.gettext(exc.message)


def _started_at(text: str) -> Any:
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            "Give the start time as 2026-10-21T10:00.", code="started_at.invalid"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Europe/Oslo"))


def _t(request: Request, message: str) -> str:
    return localiser(request).gettext(message)


async def manage(request: Request, error: str = "", status: int = 200) -> Response:
    """GET /admin/recordings/{id}: state and progress, publish, trim, chapters, uploads."""
    access = await organiser_access(request)
    async with app_state(request).db() as session:
        event = await load_event(session, access.event.slug)
    chapters_text = "\n".join(
        f"{format_timestamp(c['start'])} {c['title']}" for c in access.recording.chapters
    )
    context = {
        "recording": access.recording,
        "event": event,
        "error": error,
        "data": recording_json(access.recording, event, app_state(request).settings),
        "chapters_text": chapters_text,
        "fmt_time": format_timestamp,
        "items": [i for b in event.blocks for i in b.items],
        "transcript": transcript_status(archive(request), access.recording.id),
    }
    return render(request, "admin/recording.html", context, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    check_form(request, str(form.get("csrf_token", "")))
    return {k: str(v) for k, v in form.items()}


def _back(rid: int) -> Response:
    return RedirectResponse(f"/admin/recordings/{rid}", status_code=303)


async def action(request: Request) -> Response:
    """POST /admin/recordings/{id}/{publish|unpublish|trim|chapters|reset-chapters|delete};
    unpublish, reset-chapters and delete ask first (`live.confirm`)."""
    access = await organiser_access(request)
    rid, what = access.recording.id, request.path_params["action"]
    form = await _form(request)
    if what in ASK and (asked := confirm.ask(request, form, ASK[what])) is not None:
        return asked
    service = archive(request)
    try:
        if what in ("publish", "unpublish"):
            await service.set_published(rid, what == "publish")
        elif what == "trim":
            await service.set_trim(
                rid, _seconds(form.get("start", "")), _seconds(form.get("end", ""))
            )
        elif what == "chapters":
            chapters = parse_chapter_lines(form.get("chapters", ""))
            await service.set_chapters(rid, _check_duration(chapters, access.recording))
        elif what == "reset-chapters":
            await service.reset_chapters(rid)
        elif what == "transcribe":
            await start_transcription(service, rid)
        elif what == "delete":
            await service.delete(rid)
            return RedirectResponse(
                f"/admin/events/{access.event.slug}/recordings", status_code=303
            )
        else:
            raise NotFound("Page not found.")
    except SalenError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await manage(request, _t(request, exc.message), exc.status)
    return _back(rid)


def _seconds(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise Invalid("Write times as 00:01:30 or as seconds.", code="trim.invalid") from None


def _check_duration(chapters: list[dict[str, Any]], recording: Recording) -> list[dict[str, Any]]:
    from live.archive.chapters import validate_chapters

    return validate_chapters(chapters, recording.duration)


async def upload_captions(request: Request) -> Response:
    """POST /admin/recordings/{id}/captions: WebVTT or SRT, stored as WebVTT per language."""
    access = await organiser_access(request)
    upload = await receive_upload(request, uploads_dir(request), MAX_CAPTION_BYTES)
    with cleaned(upload):
        check_form(request, upload.fields.get("csrf_token"))
        lang = upload.fields.get("lang", "").strip()
        label = upload.fields.get("label", "").strip()[:100] or lang
        path = upload.files.get("file")
        try:
            if not _LANG.fullmatch(lang):
                raise Invalid("Give the language as a code such as nb or en.", code="lang.invalid")
            if path is None:
                raise Invalid("Choose a caption file (WebVTT or SRT).", code="captions.missing")
            text = normalise_captions(await asyncio.to_thread(path.read_bytes))
        except Invalid as exc:
            return await manage(request, _caption_error(request, exc), 422)
    await _store_caption(request, access.recording.id, lang, label, text)
    return _back(access.recording.id)


def _caption_error(request: Request, exc: Invalid) -> str:
    loc = localiser(request)
    if exc.fields.get("line"):  # the message itself names the line: "line 6: ..."
        return loc.gettext("The captions could not be read: %(problem)s", problem=exc.message)
    return loc.gettext(exc.message)


async def _store_caption(request: Request, rid: int, lang: str, label: str, text: str) -> None:
    folder = recording_dir(app_state(request).settings, rid) / CAPTIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{lang}.vtt").write_text(text, encoding="utf-8")
    async with app_state(request).db() as session, session.begin():
        recording = await session.get(Recording, rid)
        assert recording is not None
        existing = next((c for c in recording.captions if c.lang == lang), None)
        if existing is None:
            recording.captions.append(RecordingCaption(lang=lang, label=label))
        else:
            existing.label = label
        recording.updated_at = utcnow()  # the archive's search covers captions


async def upload_attachment(request: Request) -> Response:
    """POST /admin/recordings/{id}/attachments: a PDF (slides) for a programme item."""
    access = await organiser_access(request)
    upload = await receive_upload(request, uploads_dir(request), MAX_PDF_BYTES)
    with cleaned(upload):
        check_form(request, upload.fields.get("csrf_token"))
        try:
            item_id = _item_id(upload.fields.get("item", ""))
            path = _pdf(upload)
        except Invalid as exc:
            return await manage(request, _t(request, exc.message), 422)
        title = upload.fields.get("title", "").strip()[:300] or upload.filenames["file"]
        async with app_state(request).db() as session, session.begin():
            attachment = RecordingAttachment(
                recording_id=access.recording.id,
                item_id=item_id,
                title=title,
                filename=upload.filenames["file"][:300],
                size=path.stat().st_size,
            )
            session.add(attachment)
            await session.flush()
            folder = recording_dir(app_state(request).settings, access.recording.id) / ATTACHMENTS_DIR
            folder.mkdir(parents=True, exist_ok=True)
            path.replace(folder / f"{attachment.id}.pdf")
    return _back(access.recording.id)


def _item_id(text: str) -> int | None:
    return parse_id(text.strip())


def _pdf(upload: Upload) -> Path:
    path = upload.files.get("file")
    if path is None:
        raise Invalid("Choose a PDF file.", code="attachment.missing")
    with path.open("rb") as f:
        if f.read(5) != b"%PDF-":
            raise Invalid("Only PDF files can be attached.", code="attachment.not_pdf")
    return path


async def delete_attachment(request: Request) -> Response:
    """POST /admin/recordings/{id}/attachments/{attachment_id}/delete; asks first."""
    access = await organiser_access(request)
    form = await _form(request)
    if (asked := confirm.ask(request, form, REMOVE_ATTACHMENT)) is not None:
        return asked
    aid = int(request.path_params["attachment_id"])
    async with app_state(request).db() as session, session.begin():
        attachment = await session.get(RecordingAttachment, aid)
        if attachment is not None and attachment.recording_id == access.recording.id:
            await session.delete(attachment)
    folder = recording_dir(app_state(request).settings, access.recording.id) / ATTACHMENTS_DIR
    (folder / f"{aid}.pdf").unlink(missing_ok=True)
    return _back(access.recording.id)


# An action is any segment but the literal routes beside it (`action` refuses unknown ones).
segment("recording_action", besides=["captions", "attachments"])
RECORDING = f"/admin/recordings/{id_param('recording_id')}"
N_ = confirm.N_
ASK = {
    "delete": confirm.declare(
        "recording.delete", f"{RECORDING}/delete", back="/admin/recordings/{recording_id}",
        title=N_("Delete this recording?"),
        question=N_("The recording, its captions and its attachments are deleted from the "
                    "archive and from the disk. This cannot be undone."),
        button=N_("Yes, delete the recording")),
    "unpublish": confirm.declare(
        "recording.unpublish", f"{RECORDING}/unpublish",
        back="/admin/recordings/{recording_id}",
        title=N_("Unpublish this recording?"),
        question=N_("The recording disappears from the archive and the event page; links to "
                    "it stop working until it is published again."),
        button=N_("Yes, unpublish")),
    "reset-chapters": confirm.declare(
        "recording.reset-chapters", f"{RECORDING}/reset-chapters",
        back="/admin/recordings/{recording_id}",
        title=N_("Derive the chapters again?"),
        question=N_("The chapters are made again from the programme; chapters written or "
                    "changed by hand are lost."),
        button=N_("Yes, derive them again")),
}
REMOVE_ATTACHMENT = confirm.declare(
    "recording.attachment-remove", f"{RECORDING}/attachments/{id_param('attachment_id')}/delete",
    back="/admin/recordings/{recording_id}",
    title=N_("Remove this attachment?"),
    question=N_("The file is removed from the recording page and deleted from the disk."),
    button=N_("Yes, remove it"))

routes = [
    Route("/admin/events/{slug}/recordings", event_recordings, name="admin_event_recordings"),
    Route("/admin/events/{slug}/recordings", import_upload, methods=["POST"]),
    Route(RECORDING, manage, name="admin_recording"),
    Route(f"{RECORDING}/captions", upload_captions, methods=["POST"]),
    Route(f"{RECORDING}/attachments", upload_attachment, methods=["POST"]),
    Route(
        f"{RECORDING}/attachments/{id_param('attachment_id')}/delete",
        delete_attachment,
        methods=["POST"],
    ),
    Route(f"{RECORDING}/{{action:recording_action}}", action, methods=["POST"]),
]
