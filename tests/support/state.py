"""An `AppState` for test apps that build only part of Salen."""

from __future__ import annotations

from typing import Any

from live.i18n import load_translations
from live.lifespan import TEMPLATE_HELPERS
from live.settings import Settings
from live.state import AppState
from live.web import create_templates


def shared_state(settings: Settings, db: Any, *, engine: Any = None, hub: Any = None) -> AppState:
    """The app's shared state with what the test built (the engine or hub may be left out)."""
    return AppState(settings=settings, engine=engine, db=db, hub=hub,
                    templates=create_templates(helpers=TEMPLATE_HELPERS), translations=load_translations())
