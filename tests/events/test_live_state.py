"""The live state: the phase every page shows, joined from the timetable and the stream, and
the cacheable endpoints the pages poll."""

from __future__ import annotations

import datetime as dt

import httpx

from live.events.domain import EventStatus
from live.events.livestate import live_state

START = dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC)
UPCOMING = EventStatus("upcoming", START, START + dt.timedelta(hours=2))
ENDED = EventStatus("ended", START, START + dt.timedelta(hours=2))


def test_a_stream_on_air_is_live_whatever_the_timetable_says() -> None:
    """A live or paused stream makes an upcoming event live, with no countdown."""
    for stream in ("live", "paused"):
        state = live_state(UPCOMING, stream, None, True)
        assert (state.phase, state.starts_at) == ("live", None)


def test_a_stopped_stream_ends_the_event_until_the_recording_is_published() -> None:
    """After the stream stops the phase is ended (never upcoming), then recorded."""
    assert live_state(UPCOMING, "finalising", None, True).phase == "ended"
    assert live_state(UPCOMING, "ended", None, True).phase == "ended"
    recorded = live_state(UPCOMING, "ended", 7, True)
    assert (recorded.phase, recorded.recording_url) == ("recorded", "/recordings/7")


def test_without_a_stream_the_timetable_decides() -> None:
    """An idle or external stream leaves the timetable's phase and start time."""
    assert live_state(UPCOMING, "idle", None, True).as_dict() == {
        "phase": "upcoming", "starts_at": START.isoformat(), "recording": None, "streamed": True,
    }
    assert live_state(EventStatus("soon", START, None), None, None, False).phase == "soon"
    assert live_state(ENDED, None, None, False).phase == "ended"
    assert live_state(ENDED, None, 3, False).phase == "recorded"


async def test_state_endpoints_are_cacheable_and_name_the_recording(
    client: httpx.AsyncClient,
) -> None:
    """/api/now and /api/events/{slug}/now answer with a short public cache lifetime; the
    past debate with a published recording is "recorded" with its link."""
    every = await client.get("/api/now")
    assert every.status_code == 200
    assert every.headers["cache-control"] == "public, max-age=5"
    events = every.json()["events"]
    assert events["planstrategi-4-0"]["phase"] in ("upcoming", "soon")
    recorded = [slug for slug, state in events.items() if state["phase"] == "recorded"]
    assert recorded
    one = await client.get(f"/api/events/{recorded[0]}/now")
    assert one.headers["cache-control"] == "public, max-age=5"
    body = one.json()
    assert body["phase"] == "recorded" and body["recording"].startswith("/recordings/")
    assert body["state"] == "idle" and body["viewers"] == 0
    page = (await client.get(f"/e/{recorded[0]}")).text
    assert f'href="{body["recording"]}" data-live-recording' in page
    missing = await client.get("/api/events/no-such-event/now")
    assert missing.status_code == 404 and missing.json()["code"] == "event.not_found"
