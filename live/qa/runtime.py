"""The Q&A's per-process state for the app's lifespan: the service and its database threads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.db import open_reader, open_writer
from live.hub import Hub
from live.qa.service import QaService


@contextlib.asynccontextmanager
async def open_qa(db: async_sessionmaker[AsyncSession], hub: Hub) -> AsyncIterator[QaService]:
    """`QaService` with its writer (actions) and reader (snapshots, versions) for the lifespan."""
    async with open_writer(db) as writer, open_reader(db) as reader:
        yield QaService(db, hub, writer, reader)
