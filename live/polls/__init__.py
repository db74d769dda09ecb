"""Live polls: choices, ratings, word clouds, open text ("innspill") and rankings.

Rooms: `domain` (the rules: kinds, lifecycle, answers, tallies; pure), `words` (word cloud
normalisation and the shipped stop words), `service` (one transaction per action, then a
hub notice), `views` (what clients see), `messages` (the wire structs), `handlers` (one
handler per socket message, registered through `PollsFeature`), `runtime` (`open_polls`
for the lifespan: the service and the polls' fan-out), `pages` (the partials on the live,
moderator and display pages), `admin` (preparing polls, exports, the innspill report),
`export`, `timeline` (polls on a recording's page), `survey` (the feedback survey mailed
after the event), `answering` (an answer's writes, the hot path). docs/polls.md describes the feature for organisers.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The feature's HTTP routes: preparing polls, exports, the report, the feedback survey."""
    from live.polls import admin, survey

    return [*admin.routes, *survey.routes]
