"""`salen check`: each part of a configuration, named when it is wrong, and the exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.cli import main
from live.ops import check
from live.settings import Settings
from tests.support.servers import free_port


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> pytest.MonkeyPatch:
    """A sound configuration in the environment: migrated SQLite, memory hub, a folder."""
    for name, value in {"DATABASE_URL": sqlite_url, "HUB_URL": "memory://",
                        "RECORDINGS_DIR": str(tmp_path / "rec"),
                        "BASE_URL": "https://salen.example.no"}.items():
        monkeypatch.setenv(f"SALEN_{name}", value)
    return monkeypatch


def test_a_sound_configuration_passes(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Every part usable: each printed "ok", exit 0."""
    assert main(["check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 6
    assert "ok    database: reachable, migrated" in lines


@pytest.mark.redis
def test_a_reachable_redis_passes(env: pytest.MonkeyPatch, redis_url: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A redis:// hub whose server answers is "ok"."""
    env.setenv("SALEN_HUB_URL", redis_url)
    env.setenv("SALEN_SECRET_KEY", "shared-by-the-workers")
    assert main(["check"]) == 0
    assert f"ok    hub: Redis at {redis_url} answers" in capsys.readouterr().out


def test_an_unmigrated_database_is_named(env: pytest.MonkeyPatch, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A database without the migrations fails naming `salen db upgrade`, exit 1."""
    env.setenv("SALEN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}")
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  database: at no migrations, not at " in captured.out
    assert "run `salen db upgrade`" in captured.out
    assert "error: not ready to serve: database" in captured.err


def test_an_unreachable_database_is_named(env: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A PostgreSQL URL where nothing listens fails on the database, exit 1."""
    env.setenv("SALEN_DATABASE_URL", f"postgresql+asyncpg://salen@127.0.0.1:{free_port()}/salen")
    assert main(["check"]) == 1
    assert "FAIL  database: " in capsys.readouterr().out


def test_a_redis_that_does_not_answer_is_named(env: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A redis:// hub where nothing listens fails on the hub, with the password left out."""
    env.setenv("SALEN_HUB_URL", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  hub: Redis at redis://:…@127.0.0.1:" in out
    assert "hunter2" not in out


def test_a_recordings_folder_that_cannot_be_made_is_named(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file where the recordings folder should be fails on the folder, exit 1."""
    (tmp_path / "taken").write_text("a file")
    env.setenv("SALEN_RECORDINGS_DIR", str(tmp_path / "taken"))
    assert main(["check"]) == 1
    assert "FAIL  recordings folder: " in capsys.readouterr().out


@pytest.mark.parametrize(("base_url", "secure", "why"), [
    ("salen.example.no", "", "is not an absolute http:// or https:// URL"),
    ("https://salen.example.no/salen", "", "has a path"),
    ("https://salen.example.no/?x=1", "", "has a query, fragment or credentials"),
    ("http://salen.example.no", "true", "SALEN_SECURE_COOKIES is on but the base URL is not https://"),
])
def test_a_base_url_that_does_not_fit_is_named(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], base_url: str, secure: str,
        why: str) -> None:
    """A base URL that is not an https/http origin fitting the cookie setting fails, exit 1."""
    env.setenv("SALEN_BASE_URL", base_url)
    if secure:
        env.setenv("SALEN_SECURE_COOKIES", secure)
    assert main(["check"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if "base URL" in x)
    assert line.startswith("FAIL  base URL: ") and why in line


def test_missing_codecs_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A codec or muxer PyAV's FFmpeg lacks is named (a build without it cannot be had here)."""
    monkeypatch.setattr(check, "ENCODERS", ("aac", "no-such-encoder"))
    monkeypatch.setattr(check, "MUXERS", ("mp4", "no-such-muxer"))
    assert check.missing_codecs() == (
        "PyAV's FFmpeg lacks encoder no-such-encoder, muxer no-such-muxer")


def test_the_base_url_rule_accepts_an_origin() -> None:
    """An https origin, with or without the trailing slash, is a sane base URL."""
    for url in ("https://salen.example.no", "https://salen.example.no/", "http://127.0.0.1:8000"):
        assert check.base_url_problem(Settings.from_env({}, base_url=url)) is None


@pytest.mark.parametrize(("key", "why"), [
    (None, "SALEN_SECRET_KEY is not set: each worker would sign with a random key"),
    ("change-me", "SALEN_SECRET_KEY is still the example's"),
])
def test_a_secret_key_workers_cannot_share_is_named(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str | None,
        why: str) -> None:
    """With a redis:// hub an unset key fails, and the shipped placeholder always does."""
    env.setenv("SALEN_HUB_URL", f"redis://127.0.0.1:{free_port()}/0")
    if key is None:
        env.delenv("SALEN_SECRET_KEY", raising=False)
    else:
        env.setenv("SALEN_SECRET_KEY", key)
    assert main(["check"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if "secret key" in x)
    assert line.startswith("FAIL  secret key: ") and why in line
