"""Registration (påmelding): rules, transactions, mail, calendar entries and exports.

Rooms: `rules` (the pure decision), `validate` (input), `service` (the write
transactions), `places` (counts and the places-left snapshot), `quota`, `api` (JSON),
`pages` (the form and the registrant's own page), `admin` (organiser pages), `web` (HTTP
helpers the three share), and `notify` (mail through `live.outbox`), `ics`, `export`, `purge`
around them.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes: public pages, API and organiser pages.

    Imported on call, so that importing `live.registration.rules` stays light.
    """
    from live.registration import admin, api, pages

    return [*pages.routes, *api.routes, *admin.routes]
