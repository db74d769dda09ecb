"""Whether the parts a Salen process needs are usable: one coroutine per part.

Each check returns None when the part works and one line saying what is wrong otherwise;
none raises. `/readyz` (`live.ops.api`) runs the running app's checks, `salen check`
(`live.ops.check`) runs them, and more, against a configuration before start. Each check
is bounded by `TIMEOUT` seconds, so a hung database or Redis is a "timed out" line, not a
hung probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from live.hub import Hub
from live.migrate import alembic_config
from stream.recovery import check_folder

TIMEOUT = 3.0
# A channel no feature uses, for the lag probe (live.ops.probe).
PROBE_CHANNEL = "salen:probe"


async def _bounded(what: str, work: Awaitable[str | None], timeout: float) -> str | None:
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError:
        return f"{what}: no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001  (any failure is the answer: the part is unusable)
        return f"{what}: {_describe(exc)}"


def _describe(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0]}" if text_ else type(exc).__name__


async def check_database(engine: AsyncEngine, timeout: float = TIMEOUT) -> str | None:
    """None if the database answers a query."""

    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return await _bounded("database", _none(probe()), timeout)


async def check_migrated(engine: AsyncEngine, url: str, timeout: float = TIMEOUT) -> str | None:
    """None if the database is at the newest migration (`salen db upgrade` brings it there)."""

    async def probe() -> str | None:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current_heads)
        heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
        if current == heads:
            return None
        found = ", ".join(sorted(current)) or "no migrations"
        return f"database: at {found}, not at {', '.join(sorted(heads))}; run `salen db upgrade`"

    return await _bounded("database", probe(), timeout)


def _current_heads(conn: Connection) -> set[str]:
    return set(MigrationContext.configure(conn).get_current_heads())


async def check_hub(hub: Hub, timeout: float = TIMEOUT) -> str | None:
    """None if the hub answers (memory:// always does; redis:// when Redis does)."""
    return await _bounded("hub", _none(hub.ping()), timeout)


async def check_recordings(folder: Path) -> str | None:
    """None if recordings can be written in `folder` (made if missing)."""
    return await asyncio.to_thread(check_folder, folder)


async def _none(work: Awaitable[object]) -> None:
    await work
