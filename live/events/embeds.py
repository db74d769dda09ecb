"""External players: an organiser's stream URL becomes a privacy-friendly embed, or is refused.

    YouTube (watch, youtu.be, live, embed, shorts) -> https://www.youtube-nocookie.com/embed/ID
    Vimeo (vimeo.com/ID, player.vimeo.com/video/ID) -> https://player.vimeo.com/video/ID
    another host in `Settings.embed_hosts`          -> its https URL as it was given
    anything else                                   -> EmbedRefused, with a message for the form

Only a URL is ever stored or rendered (as an iframe `src`), never HTML from the organiser.
The iframe hosts here match `live.app.embed_frame_hosts` (the CSP frame-src).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from live.errors import Invalid

__all__ = [
    "BUILTIN_HOSTS",
    "Embed",
    "EmbedRefused",
    "allowed_hosts",
    "parse_stream_url",
    "stream_url_problem",
]

YOUTUBE_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }
)
YOUTU_BE = frozenset({"youtu.be", "www.youtu.be"})
VIMEO_HOSTS = frozenset({"vimeo.com", "www.vimeo.com", "player.vimeo.com"})
BUILTIN_HOSTS = YOUTUBE_HOSTS | YOUTU_BE | VIMEO_HOSTS
YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
VIMEO_ID = re.compile(r"[0-9]{1,12}")
VIMEO_HASH = re.compile(r"[0-9a-f]{6,20}")
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
MAX_URL = 500


def N_(message: str) -> str:
    """Mark a message for translation; it is translated where it is shown."""
    return message


NOT_A_URL = N_("Give a web address that starts with https://.")
NOT_HTTPS = N_("The player address must start with https://.")
NOT_ALLOWED = N_(
    "Players from this host are not allowed. Use YouTube or Vimeo, "
    "or ask the administrator to allow the host."
)
NO_VIDEO = N_(
    "This address does not name a video or live stream; copy the address of the video itself."
)


class EmbedRefused(Invalid):
    """The stream URL cannot be embedded; `message` says why (an English msgid)."""

    code = "embed.refused"


@dataclass(frozen=True)
class Embed:
    """A player to frame: which provider, the video's id (if known) and the iframe URL."""

    provider: str  # "youtube" | "vimeo" | "other"
    video_id: str
    src: str
    host: str


def allowed_hosts(setting: str | Iterable[str] = "") -> frozenset[str]:
    """The extra hosts of `Settings.embed_hosts` (comma-separated), lower-cased."""
    items = setting.split(",") if isinstance(setting, str) else setting
    return frozenset(h.strip().lower() for h in items if h.strip()) - BUILTIN_HOSTS


def parse_stream_url(url: str, extra_hosts: str | Iterable[str] = "") -> Embed:
    """The embed for an organiser's stream URL; raises EmbedRefused when it has none."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise EmbedRefused(NOT_A_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EmbedRefused(NOT_A_URL) from exc
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in {"http", "https"} or not HOST_NAME.fullmatch(host):
        raise EmbedRefused(NOT_A_URL)
    if parts.username is not None or parts.password is not None:
        raise EmbedRefused(NOT_A_URL)
    if host in YOUTUBE_HOSTS or host in YOUTU_BE:
        return _youtube(host, parts.path, parts.query)
    if host in VIMEO_HOSTS:
        return _vimeo(host, parts.path)
    if host not in allowed_hosts(extra_hosts):
        raise EmbedRefused(NOT_ALLOWED)
    if parts.scheme.lower() != "https" or port not in (None, 443):
        raise EmbedRefused(NOT_HTTPS)  # the CSP frames https://host only
    return Embed("other", "", parts._replace(scheme="https", netloc=host).geturl(), host)


def stream_url_problem(url: str, extra_hosts: str | Iterable[str] = "") -> str | None:
    """Why `url` cannot be embedded (an English msgid), or None when it can."""
    try:
        parse_stream_url(url, extra_hosts)
    except EmbedRefused as exc:
        return exc.message
    return None


def _youtube(host: str, path: str, query: str) -> Embed:
    segments = [s for s in path.split("/") if s]
    candidate = ""
    if host in YOUTU_BE:
        candidate = segments[0] if segments else ""
    elif segments[:1] == ["watch"]:
        candidate = (parse_qs(query).get("v") or [""])[0]
    elif len(segments) >= 2 and segments[0] in {"live", "embed", "shorts", "v"}:
        candidate = segments[1]
    if not YOUTUBE_ID.fullmatch(candidate):
        raise EmbedRefused(NO_VIDEO)
    return Embed(
        "youtube",
        candidate,
        f"https://www.youtube-nocookie.com/embed/{candidate}",
        "www.youtube-nocookie.com",
    )


def _vimeo(host: str, path: str) -> Embed:
    segments = [s for s in path.split("/") if s]
    if host == "player.vimeo.com":
        segments = segments[1:] if segments[:1] == ["video"] else []
    elif segments[:1] == ["channels"] and len(segments) >= 3:
        segments = segments[2:]
    video_id = segments[0] if segments else ""
    if not VIMEO_ID.fullmatch(video_id):
        raise EmbedRefused(NO_VIDEO)
    src = f"https://player.vimeo.com/video/{video_id}"
    # unlisted videos carry a privacy hash in the path: vimeo.com/ID/HASH
    if len(segments) >= 2 and VIMEO_HASH.fullmatch(segments[1]):
        src += f"?h={quote(segments[1])}"
    return Embed("vimeo", video_id, src, "player.vimeo.com")
