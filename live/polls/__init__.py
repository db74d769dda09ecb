"""Live polls: choices, ratings, word clouds, open text ("innspill") and rankings.

Rooms: `domain` (the rules: kinds, lifecycle, answers, tallies; pure), `words` (word cloud
normalisation and the shipped stop words), `service` (one transaction per action, then a
hub notice), `views` (what clients see), `messages` (the wire structs), `handlers` (one
handler per socket message, registered through `PollsFeature`), `runtime` (`open_polls`
for the lifespan: the service and the polls' fan-out), `pages` (the partials on the live,
moderator and display pages), `admin` (preparing polls, exports, the innspill report),
`export`. docs/polls.md describes the feature for organisers.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's HTTP routes: preparing polls, exports and the report."""
    from live.polls import admin

    return [*admin.routes]
