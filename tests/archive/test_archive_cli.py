"""`salen recording import`: prints the new id, shows progress on stderr, refuses bad files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from live.migrate import upgrade
from tests.support.app import make_settings
from tests.support.archive import SLUG, add_event, video


def salen(*args: str, db: str, recordings: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SALEN_DATABASE_URL": db, "SALEN_RECORDINGS_DIR": str(recordings)}
    return subprocess.run(
        [sys.executable, "-m", "live.cli", *args],
        env=env,
        text=True,
        check=False,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    asyncio.run(add_event(make_settings(url, tmp_path)))
    return url


def test_import_prints_the_id_and_packages(db: str, tmp_path: Path) -> None:
    """The command waits for packaging, draws a bar on stderr and prints only the id on stdout."""
    source = video(tmp_path, 6)
    result = salen(
        "recording",
        "import",
        str(source),
        "--event",
        SLUG,
        "--started-at",
        "2026-10-21T10:00:00+02:00",
        db=db,
        recordings=tmp_path / "rec",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    assert "100%" in result.stderr and "#" * 30 in result.stderr
    folder = tmp_path / "rec" / "archive" / "1"
    assert (folder / "media" / "recording.mp4").stat().st_size > 0
    assert (folder / "media" / "hls" / "index.m3u8").is_file()
    assert source.exists()  # the CLI copies; the original stays where it was


def test_import_refuses_a_text_file(db: str, tmp_path: Path) -> None:
    """A file that is not a video exits 1 with a message and creates no recording."""
    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video\n" * 50)
    result = salen(
        "recording", "import", str(notes), "--event", SLUG, db=db, recordings=tmp_path / "rec"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "notes.mp4" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "rec" / "archive" / "1").exists()


def test_unknown_event_is_an_error(db: str, tmp_path: Path) -> None:
    """An unknown event slug is reported, not a traceback."""
    result = salen(
        "recording",
        "import",
        str(video(tmp_path, 2)),
        "--event",
        "nope",
        db=db,
        recordings=tmp_path / "rec",
    )
    assert result.returncode == 1 and "error: No event" in result.stderr
