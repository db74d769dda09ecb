"""The look: Designsystemet's CSS, the theme, the logo and the favicon, served as files.

Designsystemet (`@digdir/designsystemet-css`, from npm) is served straight from
node_modules: no build step. The theme is Salen's (static/theme/salen.css, made with
Designsystemet's own `tokens create`/`tokens build`) unless `SALEN_THEME_CSS` names an
organisation's own theme file; `SALEN_LOGO` likewise replaces Salen's logo mark. Each URL
carries a hash of the file's content, so the files are cached for a year and a new
file is a new URL. The files are read once, at start-up: a changed file needs a restart.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.errors import NotFound
from live.settings import Settings
from live.state import app_state

ROOT = Path(__file__).resolve().parent.parent
DESIGNSYSTEMET_CSS = ROOT / "node_modules/@digdir/designsystemet-css/dist/src/index.css"
SALEN_THEME = ROOT / "static/theme/salen.css"
SALEN_LOGO = ROOT / "static/logo.svg"
FAVICON = ROOT / "static/favicon.svg"
FOREVER = "public, max-age=31536000, immutable"
_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


@dataclasses.dataclass(frozen=True)
class Asset:
    """One served file: where it is on disk and a short hash of what it holds."""

    path: Path
    content: bytes | None

    @classmethod
    def of(cls, path: Path) -> Asset:
        """The file at `path` (a missing file has no content and answers 404)."""
        try:
            return cls(path, path.read_bytes())
        except OSError:
            return cls(path, None)

    @property
    def version(self) -> str:
        if self.content is None:
            return "missing"
        return hashlib.sha256(self.content).hexdigest()[:12]

    @property
    def media_type(self) -> str:
        return _TYPES.get(self.path.suffix.lower(), "application/octet-stream")


@functools.lru_cache(maxsize=8)
def assets_for(settings: Settings) -> dict[str, Asset]:
    """The served files by name, the organisation's own where the settings name them."""
    return {
        "designsystemet.css": Asset.of(DESIGNSYSTEMET_CSS),
        "theme.css": Asset.of(Path(settings.theme_css) if settings.theme_css else SALEN_THEME),
        "logo": Asset.of(Path(settings.logo) if settings.logo else SALEN_LOGO),
        "favicon.svg": Asset.of(FAVICON),
    }


def install_assets(env: Environment, settings: Settings) -> None:
    """Template globals: `asset_url(name)` and `organisation` (the footer's name)."""
    versions = {name: asset.version for name, asset in assets_for(settings).items()}
    env.globals["asset_url"] = lambda name: f"/assets/{name}?v={versions[name]}"
    env.globals["organisation"] = settings.organisation
    env.globals["custom_logo"] = bool(settings.logo)


async def serve_asset(request: Request) -> Response:
    """GET /assets/{name}: one of the look's files, cached for a year (the URL is versioned)."""
    assets = assets_for(app_state(request).settings)
    asset = assets.get(request.path_params["name"])
    if asset is None or asset.content is None:
        raise NotFound("No such file.", code="file.not_found")
    return Response(asset.content, media_type=asset.media_type,
                    headers={"Cache-Control": FOREVER})


async def favicon(request: Request) -> Response:
    """GET /favicon.ico: the logo mark (an SVG; browsers take it whatever the name says)."""
    return Response(FAVICON.read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


routes = [
    Route("/assets/{name}", serve_asset, name="asset"),
    Route("/favicon.ico", favicon, name="favicon"),
]
