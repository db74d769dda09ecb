"""A minimal app serving the live socket with the Q&A and the polls, for the poll socket tests.

`create_app()` reads the environment, so `uvicorn --factory tests.polls.app:create_app`
runs it as a separate server process (the two-process test through Redis).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from live.db import create_engine, sessionmaker
from live.hub import open_hub
from live.polls.handlers import PollsFeature
from live.polls.runtime import open_polls
from live.qa.handlers import QaFeature
from live.qa.runtime import open_qa
from live.realtime.connection import open_live, ws_route
from live.realtime.limits import Limits
from live.settings import Settings
from tests.support.state import shared_state


def build_app(settings: Settings, limits: Limits | None = None) -> Starlette:
    """The endpoint with the lifespan state the real app gives it, polls included."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = create_engine(settings.database_url)
        db = sessionmaker(engine)
        try:
            async with contextlib.AsyncExitStack() as stack:
                hub = await stack.enter_async_context(open_hub(settings.hub_url))
                qa = await stack.enter_async_context(open_qa(db, hub))
                polls = await stack.enter_async_context(open_polls(settings, db, hub, qa))
                live = await stack.enter_async_context(open_live(
                    settings, db, hub, [QaFeature(qa), PollsFeature(polls)], limits))
                app.state.polls = polls
                yield {"app": shared_state(settings, db, engine=engine, hub=hub), "live": live,
                       "polls": polls, "qa": qa}
        finally:
            await engine.dispose()

    return Starlette(routes=[ws_route()], lifespan=lifespan)


def create_app() -> Starlette:
    """The endpoint app configured from the environment."""
    return build_app(Settings.from_env())
