"""SALEN_ACCEL_REDIRECT: checked recording files are handed to nginx, not read by Python."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from live.app import create_app
from live.settings import Settings
from tests.support.app import ADMIN, copy_demo_recordings, http_client, make_settings


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path, accel_redirect="/_files")


@pytest.fixture
async def client(demo_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(demo_app) as c:
        yield c


async def _published(client: httpx.AsyncClient) -> dict[str, object]:
    listed = (await client.get("/api/recordings")).json()["recordings"]
    assert listed, "the demo has a published recording"
    return dict((await client.get(f"/api/recordings/{listed[0]['id']}")).json())


async def test_a_published_file_is_an_accel_redirect_into_the_folder(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """The MP4 is an empty 200 naming its path under /_files/, with its type and cache header."""
    recording = await _published(client)
    response = await client.get(f"/recordings/{recording['id']}/files/recording.mp4")
    assert response.status_code == 200 and response.content == b""
    target = response.headers["x-accel-redirect"]
    assert target.startswith("/_files/")
    assert (Path(settings.recordings_dir) / target.removeprefix("/_files/")).is_file()
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_the_check_still_comes_first(client: httpx.AsyncClient) -> None:
    """A name that is not served stays 404 and names no file to nginx."""
    recording = await _published(client)
    response = await client.get(f"/recordings/{recording['id']}/files/source.mp4")
    assert response.status_code == 404 and "x-accel-redirect" not in response.headers


async def test_without_the_setting_python_sends_the_file(sqlite_url: str, tmp_path: Path,
                                                         sqlite_templates: object) -> None:
    """With SALEN_ACCEL_REDIRECT empty the MP4's bytes come from Salen itself."""
    settings = make_settings(sqlite_url, tmp_path)
    app = create_app(settings)
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    Path(path).write_bytes(Path(sqlite_templates.demo).read_bytes())  # type: ignore[attr-defined]
    copy_demo_recordings(sqlite_templates, settings)  # type: ignore[arg-type]
    async with http_client(app) as client:
        recording = await _published(client)
        response = await client.get(f"/recordings/{recording['id']}/files/recording.mp4",
                                    headers=ADMIN)
    assert "x-accel-redirect" not in response.headers
    assert response.content[4:8] == b"ftyp"
