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
