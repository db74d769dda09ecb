"""`salen backup` / `salen restore`: a round trip on SQLite and PostgreSQL, and refusals."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from live.cli import main
from live.db import create_engine, sessionmaker
from live.models import Event


async def _slugs(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return sorted((await session.scalars(select(Event.slug))).all())
    finally:
        await engine.dispose()


async def _add(url: str, slug: str) -> None:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session, session.begin():
            session.add(Event(slug=slug, title=slug.title(), moderator_token=f"{slug}-mod"))
    finally:
        await engine.dispose()


def slugs(url: str) -> list[str]:
    return asyncio.run(_slugs(url))


def add(url: str, slug: str) -> None:
    asyncio.run(_add(url, slug))


def test_a_backup_restores_what_was_there(database_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """What was committed before the backup comes back on restore; what came after goes."""
    monkeypatch.setenv("SALEN_DATABASE_URL", database_url)
    add(database_url, "before")
    file = tmp_path / "salen.backup"
    assert main(["backup", str(file)]) == 0
    assert capsys.readouterr().out.startswith("backed up ")
    add(database_url, "after")
    assert slugs(database_url) == ["after", "before"]
    assert main(["restore", str(file)]) == 0
    assert capsys.readouterr().out.startswith("restored ")
    assert slugs(database_url) == ["before"]
    assert not (tmp_path / "salen.backup.partial").exists()


def test_a_sqlite_backup_is_taken_while_a_writer_holds_the_database(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup taken during another writer's open transaction copies what was committed."""
    monkeypatch.setenv("SALEN_DATABASE_URL", sqlite_url)
    add(sqlite_url, "committed")
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE events SET slug = 'uncommitted'")
    file = tmp_path / "during.backup"
    try:
        assert main(["backup", str(file)]) == 0
    finally:
        writer.rollback()
        writer.close()
    restored = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    monkeypatch.setenv("SALEN_DATABASE_URL", restored)
    assert main(["restore", str(file)]) == 0
    assert slugs(restored) == ["committed"]


def test_a_backup_of_the_other_kind_is_refused(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Restoring a file that is not a SQLite backup into SQLite is refused, nothing changed."""
    monkeypatch.setenv("SALEN_DATABASE_URL", sqlite_url)
    add(sqlite_url, "kept")
    file = tmp_path / "dump"
    file.write_bytes(b"PGDMP\x01\x0e\x00 not for sqlite")
    assert main(["restore", str(file)]) == 1
    assert f"error: {file} is not a SQLite backup" in capsys.readouterr().err
    assert slugs(sqlite_url) == ["kept"]


def test_a_missing_backup_file_is_named(sqlite_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Restoring from a file that is not there says so, exit 1."""
    monkeypatch.setenv("SALEN_DATABASE_URL", sqlite_url)
    assert main(["restore", str(tmp_path / "nope")]) == 1
    assert f"error: cannot read {tmp_path / 'nope'}" in capsys.readouterr().err
