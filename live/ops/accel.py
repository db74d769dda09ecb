"""Files handed to nginx: `X-Accel-Redirect` instead of Python reading them out.

With `SALEN_ACCEL_REDIRECT=/_files` (an `internal` nginx location whose `alias` is the
recordings folder: deploy/nginx/salen.conf), a route that has checked who may see a file
answers with an empty body and `X-Accel-Redirect: /_files/<path in the folder>`; nginx
then sends the file itself (with Range, sendfile, and the cache headers the route set),
so a worker spends one small reply per request instead of streaming the file. Without the
setting, or for a file outside the folder, the route's usual `FileResponse` is sent.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response


def file_response(request: Request, path: Path, media_type: str, headers: dict[str, str],
                  *, attachment: bool = False) -> Response:
    """`path` as a response: through nginx when the app says so, else read by Starlette."""
    settings = getattr(getattr(request.state, "app", None), "settings", None)
    inside = None
    if settings is not None and settings.accel_redirect:
        prefix = settings.accel_redirect.rstrip("/")
        inside = _under(path, Path(settings.recordings_dir))
    if inside is None:
        return FileResponse(path, media_type=media_type, headers=headers,
                            content_disposition_type="attachment" if attachment else "inline",
                            filename=path.name if attachment else None)
    extra = {"X-Accel-Redirect": f"{prefix}/{quote(inside)}"}
    if attachment:
        extra["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return Response(media_type=media_type, headers={**headers, **extra})


def _under(path: Path, folder: Path) -> str | None:
    """`path` relative to `folder` (both resolved), or None when it is not inside."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except (OSError, ValueError):
        return None
