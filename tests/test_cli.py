"""The `salen` command: db upgrade, event import/export, user create, serve."""

from __future__ import annotations

import email.utils
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.servers import free_port

DEMO = Path(__file__).resolve().parent.parent / "live" / "demo"


def salen(*args: str, db: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SALEN_DATABASE_URL": db, "SALEN_PASSWORD": "correct horse"}
    return subprocess.run([sys.executable, "-m", "live.cli", *args], env=env, text=True,
                          capture_output=True, input=input, timeout=120, check=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert salen("db", "upgrade", db=url).returncode == 0
    return url


def test_import_then_export_round_trips(db: str, tmp_path: Path) -> None:
    """An imported seed event exports to a document that imports again to the same export."""
    result = salen("event", "import", str(DEMO / "verksted-regional-utvikling.yaml"), db=db)
    assert result.returncode == 0, result.stderr
    assert "/e/verksted-regional-utvikling" in result.stdout
    first = salen("event", "export", "verksted-regional-utvikling", db=db).stdout
    data = yaml.safe_load(first)
    assert data["quotas"] == [{"limit": 4, "organisation_kind": "county"}]
    assert len(data["themes"]) == 2
    (tmp_path / "again.yaml").write_text(first)
    assert salen("event", "import", str(tmp_path / "again.yaml"), db=db).returncode == 0
    assert salen("event", "export", "verksted-regional-utvikling", db=db).stdout == first


def test_export_as_json(db: str) -> None:
    """--format json writes JSON with the same fields."""
    salen("event", "import", str(DEMO / "planstrategi-4-0.yaml"), db=db)
    out = salen("event", "export", "planstrategi-4-0", "--format", "json", db=db).stdout
    assert '"slug": "planstrategi-4-0"' in out and '"Hva vet vi"' in out


def test_import_error_names_the_line_and_saves_nothing(db: str, tmp_path: Path) -> None:
    """A file with a wrong type is refused whole, naming the field and its line."""
    text = (DEMO / "vi-bygger-innlandet.yaml").read_text()
    broken = text.replace("capacity_in_person: 120\n    serves_food: true\n  - slug: otta",
                          "capacity_in_person: many\n    serves_food: true\n  - slug: otta")
    assert broken != text
    (tmp_path / "bad.yaml").write_text(broken)
    result = salen("event", "import", str(tmp_path / "bad.yaml"), db=db)
    assert result.returncode == 1
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "many" in row)
    assert f"occurrences[0].capacity_in_person (line {line})" in result.stderr
    assert salen("event", "export", "vi-bygger-innlandet", db=db).returncode == 1


def test_user_create_hashes_the_password(db: str, tmp_path: Path) -> None:
    """`salen user create` stores an argon2 hash, never the password."""
    result = salen("user", "create", "kari@example.no", "--admin", db=db)
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "cli.db").read_bytes()
    assert b"$argon2id$" in raw and b"correct horse" not in raw


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_then_stops_on_a_signal(db: str, tmp_path: Path, sig: signal.Signals) -> None:
    """`salen serve` runs on Salen's uvicorn server (live/server.py), whose main loop sleeps
    up to a second: a signal still stops it cleanly, and responses keep their Date header."""
    port = free_port()
    env = os.environ | {"SALEN_DATABASE_URL": db, "SALEN_SECRET_KEY": "test-secret",
                        "SALEN_RECORDINGS_DIR": str(tmp_path / "recordings")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        response = None
        for _ in range(600):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
        assert response is not None and response.status_code == 200, log.read_text()
        assert email.utils.parsedate_to_datetime(response.headers["date"]).year >= 2026
        process.send_signal(sig)
        # As with uvicorn's own server: SIGINT ends in exit code 0; SIGTERM is raised again
        # once shut down, so the process ends by it.
        assert process.wait(timeout=15) == (0 if sig == signal.SIGINT else -sig), log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Finished server process" in log.read_text()


def test_serve_access_log_keeps_tokens_out(db: str, tmp_path: Path) -> None:
    """The access log of a real `salen serve` names secret links with their tokens as "…"."""
    port = free_port()
    env = os.environ | {"SALEN_DATABASE_URL": db, "SALEN_SECRET_KEY": "test-secret",
                        "SALEN_RECORDINGS_DIR": str(tmp_path / "recordings")}
    log = tmp_path / "serve.log"
    secret_paths = ["/r/PERSONALtoken1", "/r/PERSONALtoken1/calendar.ics",
                    "/api/registrations/PERSONALtoken2", "/e/x/display?key=DISPLAYkey3&next=2",
                    "/e/x/moderate?token=MODERATORtoken4", "/e/x/live?r=PERSONALtoken5",
                    "/e/x/publish?key=STREAMkey6", "/ws/events/x?p=PARTICIPANTtoken7"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "live.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
        for path in secret_paths:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    for secret in ("PERSONALtoken", "DISPLAYkey3", "MODERATORtoken4", "STREAMkey6",
                   "PARTICIPANTtoken7"):
        assert secret not in text, text
    assert '"GET /r/… HTTP/1.1" 404' in text and "/r/…/calendar.ics" in text
    assert "/e/x/display?key=…&next=2" in text and "/api/registrations/…" in text


def test_redaction_leaves_other_paths_alone() -> None:
    """Only the secret parts go: other paths, parameters and slugs stay as they were."""
    from live.accesslog import redact

    assert redact("/e/r/live?keyword=a&lang=en") == "/e/r/live?keyword=a&lang=en"
    assert redact("/api/events/x/registrations/12") == "/api/events/x/registrations/12"
    assert redact("/e/x/moderate?lang=en&token=abc") == "/e/x/moderate?lang=en&token=…"


def test_redaction_finds_secret_links_inside_query_values() -> None:
    """The language link carries the page it came from: a personal link there goes too,
    plain or percent-encoded."""
    from live.accesslog import redact

    assert redact("/lang?to=en&next=/r/PERSONAL1") == "/lang?to=en&next=/r/…"
    assert "PERSONAL2" not in redact("/lang?to=en&next=%2Fr%2FPERSONAL2")
    assert "MODERATOR3" not in redact("/lang?to=en&next=%2Fe%2Fx%2Fmoderate%3Ftoken%3DMODERATOR3")


@pytest.mark.parametrize("kind", ["read-only", "not creatable"])
def test_serve_with_an_unusable_recordings_folder_says_so_in_one_line(
    db: str, tmp_path: Path, kind: str
) -> None:
    """`salen serve` with a read-only or uncreatable recordings folder prints one line naming
    the folder and the problem, and exits non-zero without a traceback."""
    from tests.support.streams import small_disk

    mount = tmp_path / "ro"
    with small_disk(mount, "1m", read_only=True):
        folder = mount if kind == "read-only" else mount / "recordings"
        env = os.environ | {"SALEN_DATABASE_URL": db, "SALEN_SECRET_KEY": "test-secret",
                            "SALEN_RECORDINGS_DIR": str(folder)}
        result = subprocess.run(
            [sys.executable, "-m", "live.cli", "serve", "--port", str(free_port())],
            env=env, text=True, capture_output=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(folder) in lines[0] and "read-only" in lines[0].lower()
