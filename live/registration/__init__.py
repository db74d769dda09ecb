"""Registration (påmelding): rules, transactions, mail, calendar entries and exports.

Rooms: `rules` (pure rules, places left), `validate`, `service` (transactions), `api`
(JSON), `pages` (the form and the registrant's own page), `admin` (organiser pages),
and `mail`, `notify`, `ics`, `export`, `purge` around them.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes: public pages, API and organiser pages.

    Imported on call, so that importing `live.registration.rules` stays light.
    """
    from live.registration import admin, api, pages

    return [*pages.routes, *api.routes, *admin.routes]
