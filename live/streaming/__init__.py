"""Live streams of events: stream keys, the WHIP/WHEP/HLS endpoints, the stream API and pages.

The media work (ingest, relay, HLS, recording) is the `stream` library; this feature ties
it to events, one stream per event slug. Rooms: `service` (keys, settings, recordings when
a stream ends), `whip` (WHIP/WHEP and live HLS over HTTP), `api` (JSON), `pages` (the
speaker's publishing page), `admin` (the organiser's stream page). The player on event
pages is `live.events.player`.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's routes: media endpoints, API, publishing page and organiser page.

    Imported on call, so that importing `live.streaming.service` stays light.
    """
    from live.streaming import admin, api, pages, service, whip

    return [*whip.routes(service.check_stream_key, service.may_watch,
                         service.check_interpreter_key), *api.routes, *pages.routes,
            *admin.routes]
