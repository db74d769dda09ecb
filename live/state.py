"""The lifespan's shared state, typed: what every feature reaches through `app_state(conn)`.

`create_app`'s lifespan builds one `AppState` per process and puts it on the lifespan state
under `"app"`; Starlette copies that onto every request's and socket's `state`. Each
feature's own runtime object (the archive, the live streams, the Q&A service...) stays
under its own key and is read into a typed local by the feature that owns it, so this
module names no feature.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from babel.support import NullTranslations
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from live.hub import Hub
from live.ops.metrics import Metrics
from live.settings import Settings


@dataclasses.dataclass(frozen=True)
class AppState:
    """The process's settings, database, hub, templates, translations and metrics."""

    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    hub: Hub
    templates: Jinja2Templates
    translations: Mapping[str, NullTranslations]
    metrics: Metrics = dataclasses.field(default_factory=Metrics)


def app_state(conn: HTTPConnection) -> AppState:
    """The `AppState` of the app serving this request or socket."""
    state: AppState = conn.state.app
    return state
