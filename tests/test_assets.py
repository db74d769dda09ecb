"""The look's files: Designsystemet, the theme, the logo and favicon, and an organisation's own."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from live.app import create_app
from tests.support.app import http_client, make_settings


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Not about the database: SQLite only."""
    return sqlite_url


def linked(html: str, name: str) -> str:
    """The versioned URL of /assets/<name> as a page links it."""
    match = re.search(rf'"(/assets/{re.escape(name)}\?v=[0-9a-f]{{12}})"', html)
    assert match, f"/assets/{name} is not linked"
    return match.group(1)


async def test_pages_link_designsystemet_and_the_theme_cached_for_a_year(
        client: httpx.AsyncClient) -> None:
    """Every page links Designsystemet's CSS and the theme by content hash; both are cached long."""
    page = (await client.get("/")).text
    for name in ("designsystemet.css", "theme.css"):
        response = await client.get(linked(page, name))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/css")
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    css = (await client.get(linked(page, "designsystemet.css"))).text
    assert ".ds-button" in css and ".ds-error-summary" in css
    theme = (await client.get(linked(page, "theme.css"))).text
    assert "--ds-color-accent-base-default: #0b5cad" in theme


async def test_favicon_and_logo_are_served(client: httpx.AsyncClient) -> None:
    """/favicon.ico no longer answers 404; the header's logo is an SVG."""
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    logo = await client.get(linked((await client.get("/")).text, "logo"))
    assert logo.status_code == 200 and logo.text.startswith("<svg")


async def test_unknown_asset_is_a_404(client: httpx.AsyncClient) -> None:
    """Only the named files are served under /assets."""
    assert (await client.get("/assets/../settings.py")).status_code == 404
    assert (await client.get("/assets/secret.css")).status_code == 404


async def test_organisation_theme_logo_and_name(database_url: str, tmp_path: Path) -> None:
    """SALEN_THEME_CSS, SALEN_LOGO and SALEN_ORGANISATION replace Salen's theme, logo and footer name."""
    theme = tmp_path / "kommune.css"
    theme.write_text(":root { --ds-color-accent-base-default: #123456; }")
    logo = tmp_path / "kommune.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\nlogo")
    settings = make_settings(database_url, tmp_path, theme_css=str(theme), logo=str(logo),
                             organisation="Innlandet fylkeskommune")
    async with http_client(create_app(settings)) as client:
        page = (await client.get("/")).text
        assert "Innlandet fylkeskommune" in page.split("<footer", 1)[1]
        served = await client.get(linked(page, "theme.css"))
        assert served.text == theme.read_text()
        image = await client.get(linked(page, "logo"))
        assert image.headers["content-type"] == "image/png" and image.content == logo.read_bytes()
