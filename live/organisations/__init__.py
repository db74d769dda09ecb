"""Organisations: the registry of Norwegian public bodies, matching typed names, review.

Rooms: `domain` (name keys, the registry file, the match as pure functions), `service`
(the registry in the database: load, resolve a typed name, search), `review` (organisers
classify or merge unknown names; quotas counted again and breaches flagged), `dates`
(regions per date), `api` (JSON), `admin` (organiser pages), `cli` (`salen organisations
import FILE`). Data: `data/registry.csv` with its sources and the 2024 change set in
`data/SOURCE.md`.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes (imported on call, so that `domain` stays light)."""
    from live.organisations import admin, api

    return [*api.routes, *admin.routes]
