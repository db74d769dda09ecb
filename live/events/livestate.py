"""Where an event stands for its audience right now: the one answer every page shows.

An event's phase joins two sources: the occurrences' times (`domain.event_status`) and the
stream, when Salen carries it (the stream manager's state). The stream wins while it is
known: a stream on air is "live" whatever the timetable says, and a stream that stopped is
"ended" (recording to come) even if the timetable still says "upcoming" — the front page,
the event page's badge and the player therefore never contradict each other. Once a
recording is published the phase is "recorded" and carries its id.

Pages render the phase on the server (no JavaScript needed) and `static/js/live-state.js`
keeps it current from `GET /api/events/{slug}/now` and `GET /api/events/now` (see
`live.events.api`). Those answers are cacheable for `MAX_AGE` seconds: 10,000 viewers
polling every 10 s cost a shared cache (nginx, a CDN) ~1,000 requests a second and the
origin one request per event every few seconds, with no socket held open for pages that
only need a badge. The stream state is the process's own (a stream lives in one worker).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from live.events.domain import EventStatus

MAX_AGE = 5  # seconds a shared cache may serve an answer of the state endpoints
ON_AIR = frozenset({"live", "paused"})
STOPPED = frozenset({"finalising", "ended"})
PHASES = ("upcoming", "soon", "live", "ended", "recorded")


@dataclass(frozen=True, slots=True)
class LiveState:
    """The phase an audience sees, when the event starts, and its published recording."""

    phase: str  # one of PHASES
    starts_at: dt.datetime | None
    recording_id: int | None
    streamed: bool

    @property
    def recording_url(self) -> str | None:
        return f"/recordings/{self.recording_id}" if self.recording_id else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: phase, start (ISO), recording URL and whether Salen streams it."""
        return {
            "phase": self.phase,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "recording": self.recording_url,
            "streamed": self.streamed,
        }


def live_state(status: EventStatus, stream: str | None, recording_id: int | None,
               streamed: bool) -> LiveState:
    """The phase from the timetable's `status` and the stream's state (None: not carried)."""
    starts_at = status.starts_at
    if stream in ON_AIR:
        return LiveState("live", None, recording_id, streamed)
    if stream in STOPPED or status.state == "ended":
        phase = "recorded" if recording_id else "ended"
        return LiveState(phase, None, recording_id, streamed)
    return LiveState(status.state, starts_at, recording_id, streamed)
