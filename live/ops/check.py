"""`salen check`: is this configuration ready to serve? Checked before start, each part named.

The checks: the database answers and is at the newest migration, the hub's Redis answers
(redis:// only), the secret key is set where several processes must share it (and is not
deploy/salen.env's placeholder), the recordings folder can be written, PyAV has the codecs and formats
recording and packaging need, and the base URL is an absolute http(s) address fit for
links in mail. Each gives one `Finding`; `salen check` prints them and exits 1 when any
failed, so a deployment can run it before it starts workers (`ExecStartPre=` in
deploy/systemd/salen@.service).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import av
import redis.asyncio as aioredis

from live.db import create_engine
from live.ops.health import TIMEOUT, check_database, check_migrated, check_recordings
from live.settings import Settings

# What stream/ and live/archive use: the ingest and import decode H.264 and Opus, the HLS
# and MP4 renditions encode AAC (and H.264 for imports that are not H.264), posters MJPEG.
DECODERS = ("h264", "opus")
ENCODERS = ("aac", "mjpeg", "libx264")
MUXERS = ("mpegts", "mp4", "hls")
# deploy/salen.env's value, which must not reach production.
PLACEHOLDER_KEY = "change-me"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One part's verdict: `problem` is None when it is usable."""

    part: str
    problem: str | None
    detail: str = ""

    def line(self) -> str:
        """`ok   part: detail` or `FAIL part: problem`."""
        if self.problem is None:
            return f"ok    {self.part}" + (f": {self.detail}" if self.detail else "")
        return f"FAIL  {self.part}: {self.problem.removeprefix(f'{self.part}: ')}"


async def run_checks(settings: Settings, environ: Mapping[str, str] | None = None
                     ) -> list[Finding]:
    """Every check of `settings` (read from `environ`, default the process's), in order."""
    return [
        *await _database(settings.database_url),
        await _hub(settings.hub_url),
        Finding("secret key", secret_key_problem(settings, os.environ if environ is None
                                                 else environ)),
        Finding("recordings folder", await check_recordings(Path(settings.recordings_dir)),
                str(settings.recordings_dir)),
        Finding("media codecs", missing_codecs(), f"PyAV {av.__version__}"),
        Finding("base URL", base_url_problem(settings), settings.base_url),
    ]


async def _database(url: str) -> list[Finding]:
    engine = create_engine(url)
    try:
        reachable = await check_database(engine)
        if reachable is not None:
            return [Finding("database", reachable)]
        return [Finding("database", await check_migrated(engine, url), "reachable, migrated")]
    finally:
        await engine.dispose()


async def _hub(url: str) -> Finding:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return Finding("hub", None, "memory:// (one process only)")
    if scheme not in {"redis", "rediss"}:
        return Finding("hub", f"{url!r} is neither memory:// nor redis://")
    client = aioredis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        await asyncio.wait_for(client.ping(), TIMEOUT)
    except Exception as exc:  # noqa: BLE001  (whatever failed, Redis is not usable)
        return Finding("hub", f"Redis at {_without_password(url)} does not answer ({exc})")
    finally:
        await client.aclose()
    return Finding("hub", None, f"Redis at {_without_password(url)} answers")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":…@")).geturl()


def missing_codecs() -> str | None:
    """None if PyAV's FFmpeg has every decoder, encoder and muxer Salen uses; else which not."""
    missing = [f"decoder {name}" for name in DECODERS if not _codec(name, "r")]
    missing += [f"encoder {name}" for name in ENCODERS if not _codec(name, "w")]
    missing += [f"muxer {name}" for name in MUXERS if not _muxer(name)]
    if not missing:
        return None
    return f"PyAV's FFmpeg lacks {', '.join(missing)}"


def _codec(name: str, mode: Literal["r", "w"]) -> bool:
    try:
        av.codec.Codec(name, mode)
    except Exception:  # noqa: BLE001  (PyAV raises several kinds for an unknown codec)
        return False
    return True


def _muxer(name: str) -> bool:
    try:
        return bool(av.format.ContainerFormat(name, "w").is_output)
    except Exception:  # noqa: BLE001
        return False


def secret_key_problem(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """None if the key is set (and not the shipped placeholder), or one process needs none."""
    given = environ.get("SALEN_SECRET_KEY", "")
    if given == PLACEHOLDER_KEY:
        return "SALEN_SECRET_KEY is still the example's; set one: openssl rand -base64 32"
    if not given and urlsplit(settings.hub_url).scheme != "memory":
        return ("SALEN_SECRET_KEY is not set: each worker would sign with a random key of its "
                "own, and none could read another's cookies")
    return None


def base_url_problem(settings: Settings) -> str | None:
    """None if the base URL is an absolute http(s) origin that fits the other settings."""
    parts = urlsplit(settings.base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"{settings.base_url!r} is not an absolute http:// or https:// URL"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"{settings.base_url!r} has a query, fragment or credentials; give only the origin"
    if parts.path not in {"", "/"}:
        return f"{settings.base_url!r} has a path; Salen is served at the root of its host"
    if settings.secure_cookies and parts.scheme != "https":
        return "SALEN_SECURE_COOKIES is on but the base URL is not https://"
    return None
