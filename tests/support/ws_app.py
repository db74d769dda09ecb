"""A minimal app serving only the live WebSocket endpoint, for the socket tests.

`create_app()` reads the environment (SALEN_DATABASE_URL, SALEN_HUB_URL, ...), so that
`uvicorn --factory tests.support.ws_app:create_app` can run it as a separate server process.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from live.db import create_engine, sessionmaker
from live.hub import Hub, open_hub
from live.qa.handlers import QaFeature
from live.qa.runtime import open_qa
from live.realtime.connection import open_live, ws_route
from live.realtime.limits import Limits
from live.settings import Settings
from tests.support.state import shared_state


def build_app(
    settings: Settings, limits: Limits | None = None, hub: Hub | None = None
) -> Starlette:
    """The endpoint with the lifespan state the real app provides (settings, db, hub, live, the Q&A).

    A test may pass its own `hub` to publish notices straight into the fan-out.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = create_engine(settings.database_url)
        db = sessionmaker(engine)
        try:
            async with contextlib.AsyncExitStack() as stack:
                shared = hub or await stack.enter_async_context(open_hub(settings.hub_url))
                qa = await stack.enter_async_context(open_qa(db, shared))
                live = await stack.enter_async_context(
                    open_live(settings, db, shared, [QaFeature(qa)], limits)
                )
                app.state.live = live  # for tests that look inside the fan-out
                yield {"app": shared_state(settings, db, engine=engine, hub=shared), "live": live}
        finally:
            await engine.dispose()

    return Starlette(routes=[ws_route()], lifespan=lifespan)


def create_app() -> Starlette:
    """The endpoint app configured from the environment."""
    return build_app(Settings.from_env())
