"""Published recordings through the shipped nginx: checked by the worker, sent by nginx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live.archive.service import recording_dir
from tests.support.app import ADMIN, ADMIN_TOKEN, Templates, copy_demo_recordings, make_settings
from tests.support.deploy import Deployment, deployment


@pytest.fixture
def deployed(tmp_path: Path, sqlite_templates: Templates) -> Iterator[Deployment]:
    """nginx and one worker on a copy of the demo (its published recording included)."""
    database = tmp_path / "demo.db"
    shutil.copyfile(sqlite_templates.demo, database)
    url = f"sqlite+aiosqlite:///{database}"
    copy_demo_recordings(sqlite_templates, make_settings(url, tmp_path))
    with deployment(tmp_path, url, "memory://", workers=1, admin_token=ADMIN_TOKEN) as running:
        yield running


def test_published_recording_files_come_from_nginx(deployed: Deployment) -> None:
    """The MP4 of a published recording: nginx's bytes from the folder, cacheable for 5 min,
    with Range; withdrawn, the same URL is 404 and names no file."""
    with httpx.Client(base_url=deployed.url, timeout=30) as http:
        rid = http.get("/api/recordings").json()["recordings"][0]["id"]
        url = f"/recordings/{rid}/files/recording.mp4"
        whole = http.get(url)
        assert whole.status_code == 200
        assert whole.headers["server"].startswith("nginx") and "x-accel-redirect" not in whole.headers
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["cache-control"] == "public, max-age=300"
        on_disk = recording_dir(make_settings("", deployed.recordings.parent), rid) / "media"
        on_disk = on_disk / "recording.mp4"
        assert whole.content == on_disk.read_bytes()
        part = http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200]
        withdrawn = http.post(f"/api/recordings/{rid}/unpublish", headers=ADMIN)
        assert withdrawn.status_code == 200, withdrawn.text
        hidden = http.get(url)
        assert hidden.status_code == 404 and "x-accel-redirect" not in hidden.headers
        assert hidden.content != whole.content
