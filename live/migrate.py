"""Run Alembic migrations programmatically (`salen db upgrade`), from async code or not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; safe to run again."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """The same from inside an event loop (env.py runs its own loop, so use a thread)."""
    await asyncio.to_thread(upgrade, url, revision)


def autogenerate(url: str, message: str) -> None:
    """Developer helper: write a new revision from the difference between models and DB."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
