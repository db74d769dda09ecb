"""Alembic environment: async engines, batch mode on SQLite, URL from Salen's settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import live.models  # noqa: F401  (registers every table)
from live.db import create_engine, is_sqlite
from live.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection | None, url: str) -> None:
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    _configure(None, url)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection, url: str) -> None:
    _configure(connection, url)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync, url)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
