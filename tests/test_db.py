"""How every SQLite connection Salen opens is set up: the engine's, the writer's, the reader's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from live.db import create_engine, open_reader, open_writer, sessionmaker

# PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL (SQLite's default), 3 EXTRA.
NORMAL = 1


def _pragmas(connection: Connection) -> dict[str, Any]:
    return {
        name: connection.execute(text(f"PRAGMA {name}")).scalar_one()
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }


async def test_every_sqlite_connection_is_wal_with_normal_sync(tmp_path: Path) -> None:
    """WAL with synchronous=NORMAL (no wait for the disk on each commit), foreign keys on,
    and a busy timeout, on the async engine and on the writer's and reader's threads."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}")
    db = sessionmaker(engine)
    expected = {
        "journal_mode": "wal",
        "synchronous": NORMAL,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_pragmas) == expected
        async with open_writer(db) as writer, open_reader(db) as reader:
            assert await writer.transact(_pragmas) == expected
            assert await reader.transact(_pragmas) == expected
            assert await writer.run(lambda session: _pragmas(session.connection())) == expected
    finally:
        await engine.dispose()


def _driver_connection(connection: Connection) -> int:
    return id(connection.connection.dbapi_connection)


async def test_a_thread_keeps_one_connection_for_sessions_and_transactions(
    tmp_path: Path,
) -> None:
    """On a SQLite file the writer's (and the reader's) thread opens one connection and
    runs both Core transactions and ORM sessions on it, transaction after transaction."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'salen.db'}")
    db = sessionmaker(engine)
    try:
        async with open_writer(db) as writer, open_reader(db) as reader:
            for runner in (writer, reader):
                first = await runner.transact(_driver_connection)
                assert await runner.run(lambda s: _driver_connection(s.connection())) == first
                assert await runner.transact(_driver_connection) == first
            assert await writer.transact(_driver_connection) != await reader.transact(
                _driver_connection
            )
    finally:
        await engine.dispose()
