"""`salen event import` of a demo file makes its content as `serve --demo` does, and a
generation killed half-way is made again, whole, by the next run."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from live.archive.service import MEDIA_DIR, MP4_NAME
from live.demo import DEMO_DIR
from live.demo.captions import DEMO_CAPTIONS_EVENT
from live.demo.groupwork import FIRST_GATHERING
from live.demo.media import SCRATCH, make_demo_media
from live.demo.polls import RECORDED_POLLS
from live.demo.recording import CACHE_DIR, COMPLETE, DEMO_DEBATE, PARTS, QUESTIONS

DEBATE_FILE = DEMO_DIR / f"{DEMO_DEBATE}.yaml"


class Site:
    """A migrated SQLite file and a recordings folder, as `salen` subprocesses see them."""

    def __init__(self, url: str, recordings: Path) -> None:
        self.url, self.recordings = url, recordings
        self.path = url.removeprefix("sqlite+aiosqlite:///")

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {"SALEN_DATABASE_URL": self.url,
                             "SALEN_RECORDINGS_DIR": str(self.recordings)}

    def salen(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "live.cli", *args], env=self.env,
                              text=True, capture_output=True, timeout=300, check=False)

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "live.cli", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path, demo_media: Path) -> Site:
    """An empty site whose recordings folder holds the run's generated media (no espeak-ng
    run again: only the packaging is left to do)."""
    recordings = tmp_path / "recordings"
    shutil.copytree(demo_media, recordings / CACHE_DIR)
    return Site(sqlite_url, recordings)


def until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    """Wait for `condition` while `process` runs (no time limit: the process's end is one)."""
    while not condition():
        assert process.poll() is None, "the process ended before the condition held"
        time.sleep(0.005)  # leave the cores to the process


def assert_complete_recording(site: Site) -> None:
    [(rid, state)] = site.rows("SELECT id, state FROM recordings")
    folder = site.recordings / "archive" / str(rid)
    assert state == "published" and (folder / COMPLETE).exists()
    assert (folder / MEDIA_DIR / MP4_NAME).stat().st_size > 0
    [(questions,)] = site.rows("SELECT count(*) FROM qa_questions")
    assert questions == len(QUESTIONS)
    [(polls,)] = site.rows("SELECT count(*) FROM polls")
    assert polls == len(RECORDED_POLLS)
    assert (folder / "interpreter" / "interpreter.mp4").stat().st_size > 0


def test_event_import_of_the_debate_makes_its_recording(site: Site) -> None:
    """Importing the demo debate's file publishes its recording, with its polls and
    interpreter, and progress shown."""
    result = site.salen("event", "import", str(DEBATE_FILE))
    assert result.returncode == 0, result.stderr
    assert "demo recording: /recordings/" in result.stdout
    assert "packaging" in result.stderr
    assert_complete_recording(site)
    again = site.salen("event", "import", str(DEBATE_FILE))
    assert "demo recording: already there" in again.stdout
    assert_complete_recording(site)


def test_event_import_of_the_first_gathering_publishes_its_report(site: Site) -> None:
    """Importing the first gathering's file plays its group work through and publishes it."""
    result = site.salen("event", "import", str(DEMO_DIR / f"{FIRST_GATHERING}.yaml"))
    assert result.returncode == 0, result.stderr
    assert f"/e/{FIRST_GATHERING}/group-work/report" in result.stdout
    assert site.rows("SELECT state, report_published FROM group_sessions") == [("returned", 1)]


def test_event_import_of_the_streamed_seminar_prints_its_captioner_link(site: Site) -> None:
    """The streamed demo seminar's captioner link is printed on every import (a demo step
    that points at something and makes nothing)."""
    for _ in range(2):
        result = site.salen("event", "import", str(DEMO_DIR / f"{DEMO_CAPTIONS_EVENT}.yaml"))
        assert result.returncode == 0, result.stderr
        assert f"demo captioner link: http://127.0.0.1:8000/e/{DEMO_CAPTIONS_EVENT}/captions?key=" \
            in result.stdout


def test_a_copy_of_a_demo_file_is_a_plain_import(site: Site, tmp_path: Path) -> None:
    """The same document from elsewhere is imported as written, with no demo content."""
    copy = tmp_path / "debate.yaml"
    shutil.copyfile(DEBATE_FILE, copy)
    result = site.salen("event", "import", str(copy))
    assert result.returncode == 0 and "demo" not in result.stdout
    assert site.rows("SELECT count(*) FROM recordings") == [(0,)]


def test_an_import_killed_while_packaging_is_made_again(site: Site) -> None:
    """Killed with its recording row made but unfinished, the next import replaces it whole."""
    process = site.popen("event", "import", str(DEBATE_FILE))
    try:
        until(lambda: bool(site.rows("SELECT id FROM recordings")), process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    [(rid, state)] = site.rows("SELECT id, state FROM recordings")
    assert state != "published"
    assert not (site.recordings / "archive" / str(rid) / COMPLETE).exists()
    result = site.salen("event", "import", str(DEBATE_FILE))
    assert result.returncode == 0, result.stderr
    assert_complete_recording(site)


def test_media_killed_half_way_are_made_again(tmp_path: Path) -> None:
    """A generation killed mid-speech leaves a scratch folder; the next run removes it and
    makes the media whole."""
    cache = tmp_path / "cache"
    script = ("import sys; from pathlib import Path; from live.demo.media import make_demo_media;"
              " from live.demo.recording import PARTS; make_demo_media(Path(sys.argv[1]), PARTS)")
    process = subprocess.Popen([sys.executable, "-c", script, str(cache)])
    try:
        until(lambda: any(cache.glob(f"{SCRATCH}*/line0.wav")), process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    [scratch] = cache.glob(f"{SCRATCH}*")
    media = make_demo_media(cache, PARTS)
    assert not scratch.exists() and (media.folder / "done").exists()
    assert [p.name for p in cache.iterdir()] == [media.folder.name]


def test_processes_sharing_a_cache_make_the_media_once(tmp_path: Path) -> None:
    """Two processes started together on one cache (a run's test workers) take turns: one
    generates, the other reuses its files."""
    cache = tmp_path / "cache"
    script = ("import sys; from pathlib import Path; from live.demo.media import make_demo_media;"
              " from live.demo.recording import PARTS;"
              " print(make_demo_media(Path(sys.argv[1]), PARTS).source.stat().st_ino)")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(cache)], text=True,
                                  stdout=subprocess.PIPE) for _ in range(2)]
    inodes = {process.communicate(timeout=300)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert len(inodes) == 1 and len(list(cache.iterdir())) == 1
