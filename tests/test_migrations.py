"""Alembic migrations create exactly the tables the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import live.models
from live.db import create_engine
from live.migrate import upgrade_async


async def test_migrations_match_the_models(empty_database_url: str) -> None:
    """After `salen db upgrade` there is no difference between the models and the schema."""
    await upgrade_async(empty_database_url)
    await upgrade_async(empty_database_url)  # running it again changes nothing
    engine = create_engine(empty_database_url)

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, live.models.Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == []
