"""Settings from the environment, in one place, each with a default and help text."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RECORDINGS = Path("recordings")
OUTBOX = Path("outbox")


def _setting(default: Any, help: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob Salen has; `Settings.from_env()` reads them from `SALEN_*` variables."""

    database_url: str = _setting(
        "sqlite+aiosqlite:///salen.db",
        "SQLAlchemy URL of the database: sqlite+aiosqlite:///FILE or postgresql+asyncpg://...",
    )
    hub_url: str = _setting(
        "memory://", "Real-time hub: memory:// (one process) or redis://HOST:PORT/DB (many)."
    )
    secret_key: str = _setting(
        "", "Key that signs session cookies and participant identities. Random per run if unset."
    )
    recordings_dir: Path = _setting(RECORDINGS, "Where recordings and live HLS are stored.")  # noqa: RUF009 (Path is immutable)
    base_url: str = _setting(
        "",
        "Public URL of this server (https://salen.example.org), used in every link and e-mail; "
        "unset: links on pages follow the address each request came to, and e-mails use the "
        "address `salen serve` listens on (set it behind a proxy). Live sockets from pages of "
        "this origin (or the request's own) keep the login's roles.",
    )
    served_url: str = _setting(
        "http://127.0.0.1:8000",
        "The address `salen serve` listens on, set by it from --host and --port: the links in "
        "e-mails while SALEN_BASE_URL is unset.",
    )
    admin_token: str = _setting(
        "", "When set, a bearer token with organiser rights on every event (automation, tests)."
    )
    default_locale: str = _setting("nb", "UI language when the visitor has not chosen: nb or en.")
    timezone: str = _setting("Europe/Oslo", "Time zone in which times are shown.")
    smtp_url: str = _setting(
        "", "smtp://user:pass@host:port for outgoing mail; empty writes mail to the outbox folder."
    )
    mail_from: str = _setting("Salen <salen@localhost>", "Sender address of outgoing mail.")
    outbox_dir: Path = _setting(OUTBOX, "Folder for mail when no SMTP server is set.")  # noqa: RUF009
    embed_hosts: str = _setting(
        "youtube.com,youtu.be,vimeo.com",
        "Comma-separated hosts whose stream URLs may be embedded on event pages.",
    )
    ice_addresses: str = _setting(
        "127.0.0.1", "Comma-separated addresses offered as ICE host candidates for WebRTC."
    )
    ice_servers: str = _setting("", "Comma-separated STUN/TURN URLs passed to WebRTC clients.")
    webrtc_viewer_limit: int = _setting(50, "WebRTC viewers per process before HLS fall-back.")
    transcribe_engine: str = _setting(
        "faster-whisper", "Speech recognition for recordings: faster-whisper or pocketsphinx.")
    transcribe_model: str = _setting(
        "", "The recognition model: a faster-whisper model folder (e.g. NB-Whisper); "
        "empty for pocketsphinx's own English model.")
    transcribe_language: str = _setting("nb", "Language spoken in recordings (ISO code).")
    tick_seconds: float = _setting(
        1.0, "Longest wait between two batches of viewer pushes (an overloaded process)."
    )
    tick_min_seconds: float = _setting(
        0.02, "Shortest wait between two batches of viewer pushes (an event with few viewers)."
    )
    live_latency_target_ms: int = _setting(
        200, "Longest a change should take to reach every viewer on a process; batches of "
        "viewer pushes are paced to it (live/realtime/tick.py)."
    )
    secure_cookies: bool = _setting(False, "Mark cookies Secure (set when served over HTTPS).")
    trusted_proxies: str = _setting(
        "",
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty: none (rate limits use the connecting address).",
    )

    metrics_token: str = _setting(
        "", "Bearer token that /metrics asks for; empty: /metrics answers only on loopback."
    )
    log_format: str = _setting("text", "Log lines as text, or json (one JSON object a line).")
    accel_redirect: str = _setting(
        "",
        "Internal nginx location that serves the recordings folder (e.g. /_files): checked "
        "recordings and live HLS files are then handed to nginx with X-Accel-Redirect.",
    )
    theme_css: str = _setting(
        "", "An organisation's own Designsystemet theme CSS file (from `designsystemet tokens "
        "build`); empty: Salen's theme."
    )
    logo: str = _setting("", "An organisation's logo file (SVG or PNG) for the page header.")
    organisation: str = _setting("", "The organisation's name, shown in the page footer.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read `SALEN_<NAME>` for each field; keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(f"SALEN_{field.name.upper()}")
            if raw is not None:
                values[field.name] = _convert(field.default, raw)
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(32))
        return settings

    @property
    def mail_base_url(self) -> str:
        """The base of links in e-mails (sent outside any request), without a trailing slash."""
        return (self.base_url or self.served_url).rstrip("/")

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for each setting, for `salen --help` and the README."""
        return [
            (f"SALEN_{f.name.upper()}", str(f.default), f.metadata["help"])
            for f in dataclasses.fields(cls)
        ]


def _convert(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw
