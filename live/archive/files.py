"""Serving a recording's files: a fixed set of names, HTTP Range, content types, caching."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from live.archive.access import NOT_FOUND, load_access
from live.archive.service import (
    ATTACHMENTS_DIR,
    CAPTIONS_DIR,
    HLS_DIR,
    MEDIA_DIR,
    MP4_NAME,
    recording_dir,
)
from live.errors import NotFound
from live.models import Recording, RecordingState
from live.ops.accel import file_response
from live.routing import id_param
from live.state import app_state
from stream.package.poster import POSTER_NAME

# Only these names are ever served: the source file, temporary outputs and anything else
# in the folder stay private, and nothing outside it can be named.
_SERVED = [
    (re.compile(rf"{re.escape(MP4_NAME)}"), "video/mp4"),
    (re.compile(re.escape(POSTER_NAME)), "image/jpeg"),
    (re.compile(rf"{HLS_DIR}/index\.m3u8"), "application/vnd.apple.mpegurl"),
    (re.compile(rf"{HLS_DIR}/seg_\d{{5,}}\.ts"), "video/mp2t"),
    (
        re.compile(rf"{CAPTIONS_DIR}/[a-z]{{2,3}}(?:-[A-Za-z0-9]{{2,8}})?\.vtt"),
        "text/vtt; charset=utf-8",
    ),
    (re.compile(rf"{ATTACHMENTS_DIR}/\d+\.pdf"), "application/pdf"),
    (re.compile(r"interpreter/interpreter\.mp4"), "video/mp4"),
]


def file_url(recording: Recording, name: str) -> str:
    """The URL path of one of the recording's files."""
    return f"/recordings/{recording.id}/files/{name}"


def content_type(name: str) -> str | None:
    """The media type for a servable name, or None when the name is not served."""
    for pattern, media_type in _SERVED:
        if pattern.fullmatch(name):
            return media_type
    return None


def disk_name(name: str) -> str:
    """Where a served name lives in the recording's folder (the renditions are under media/)."""
    if name in (MP4_NAME, POSTER_NAME) or name.startswith(f"{HLS_DIR}/"):
        return f"{MEDIA_DIR}/{name}"
    return name


def cache_control(recording: Recording, name: str) -> str:
    """Published media may be cached briefly (trimming rewrites it); the rest stays private."""
    if recording.state != RecordingState.PUBLISHED:
        return "private, no-cache"
    if name.endswith(".m3u8"):
        return "public, max-age=10"
    return "public, max-age=300"


async def serve_file(request: Request) -> Response:
    """GET /recordings/{id}/files/{name}: the file, with Range support (206) for seeking."""
    access = await load_access(request)
    name = request.path_params["name"]
    media_type = content_type(name)
    folder = recording_dir(app_state(request).settings, access.recording.id)
    path = folder / disk_name(name)
    if media_type is None or not _inside(path, folder) or not path.is_file():
        raise NotFound(NOT_FOUND if media_type else "No such file.", code="file.not_found")
    headers = {"Cache-Control": cache_control(access.recording, name)}
    return file_response(request, path, media_type, headers, attachment=name.endswith(".pdf"))


def _inside(path: Path, folder: Path) -> bool:
    # The patterns already exclude "..", but a symlink planted in the folder must not escape.
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


HLS_JS = Path(__file__).resolve().parents[2] / "node_modules" / "hls.js" / "dist" / "hls.min.js"


async def hls_js(request: Request) -> Response:
    """GET /vendor/hls.min.js: hls.js from npm (served here: the CSP allows only 'self')."""
    if not HLS_JS.is_file():
        raise NotFound("hls.js is not installed; run `npm ci`.", code="file.not_found")
    return FileResponse(
        HLS_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


routes = [
    Route(f"/recordings/{id_param('recording_id')}/files/{{name:path}}", serve_file, name="recording_file"),
    Route("/vendor/hls.min.js", hls_js, name="hls_js"),
]
