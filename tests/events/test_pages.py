"""Public pages: the event list, event pages, language, 404."""

from __future__ import annotations

import re

import httpx
from babel.dates import format_date

from tests.support.app import ADMIN, ADMIN_TOKEN, demo_time

PLANSTRATEGI_ITEMS = [
    "Forventningene til distriktskommunene",
    "Småkommuner og bærekraft i kommunal planlegging",
    "Arealstrategi-piloten: erfaringer fra Nord Norge og Trøndelag",
    "Strategisk planlegging – et oxymoron",
    "Distriktskommune 0 – tett på distriktskommunene",
    "Plankultur",
    "Pause",
    "Fokus på Planstrategi 4.0",
    "Vi lager web-veileder",
    "Nettverkene – You&#39;ll never walk alone",
    "Hva trenger vi – innspill og erfaringer",
    "Hva gjør vi for å hjelpe – eksempler",
]
PLANSTRATEGI_SPEAKERS = [
    "Sigrun Wiggen Prestbakmo", "Aase Kristine Lundberg", "Nils Aarsæther", "Torill Ringholm",
    "RURALIS og Nordlandsforskning", "Holtålen kommune", "Karoline Kvalvik",
    "Hildegunn Nordtug", "Aksel Hagen", "Gunn Åmdal Mongstad", "Marit Meløy",
    "Frida Farstad Brevik", "Anne Caroline Haugan",
]


async def test_index_lists_the_seed_events(client: httpx.AsyncClient) -> None:
    """The front page lists the three seed events as upcoming and the debate as past."""
    html = (await client.get("/")).text
    upcoming, _, past = html.partition('id="past-h"')
    for title in ["Planstrategi 4.0 – småkommuner og de gode hjelperne", "Vi bygger Innlandet",
                  "Verksted for regional utvikling"]:
        assert title in upcoming
    assert "Fylkestinget – internasjonal mål- og handlingsplan" in past


async def test_planstrategi_page_has_the_whole_programme(client: httpx.AsyncClient) -> None:
    """Every programme item of seed 001 is on the page, in order, with block times and speakers."""
    response = await client.get("/e/planstrategi-4-0")
    assert response.status_code == 200
    html = response.text
    positions = [html.index(title) for title in PLANSTRATEGI_ITEMS]
    assert positions == sorted(positions)
    for name in PLANSTRATEGI_SPEAKERS:
        assert name in html
    assert "Hva vet vi" in html and "10:00–11:45" in html
    assert "Hva kan gjøres" in html and "12:00–13:15" in html
    assert "Akersgata 64" in html and "De mindre distriktskommunene" in html


async def test_three_occurrences_with_regions_and_deadlines(client: httpx.AsyncClient) -> None:
    """Vi bygger Innlandet shows Elverum, Otta and Gjøvik with their regions and deadlines."""
    html = (await client.get("/e/vi-bygger-innlandet", params={"lang": "nb"})).text
    for city in ["Elverum", "Otta", "Gjøvik"]:
        assert f"occ-{city.lower().replace('ø', 'o')}" in html
    assert "Sør-Østerdalsregionen" in html and "Hamarregionen" in html
    first, last = (format_date(demo_time(t), "long", locale="nb")
                   for t in ("2026-12-13T23:59", "2027-01-03T23:59"))
    assert html.count(first) == 2 and last in html


async def test_workshop_shows_themes_quota_and_times(client: httpx.AsyncClient) -> None:
    """The workshop lists both themes, the quota of four per county and its timed items."""
    html = (await client.get("/e/verksted-regional-utvikling?lang=en")).text
    assert "Tema 1: Bærekraftmålene og regional utvikling" in html
    assert "Tema 2: Distriktsutvikling og kompetanse" in html
    assert "At most 4 participants from each county." in html
    assert "15:15–16:00" in html and "Panelsamtale om dagens tema" in html
    assert 'href="/e/verksted-regional-utvikling/live"' in html  # questions from the floor


async def test_unknown_event_is_a_404_page(client: httpx.AsyncClient) -> None:
    """An unknown slug gives a proper 404 page, and JSON under /api/."""
    page = await client.get("/e/does-not-exist")
    assert page.status_code == 404 and "<h1 " in page.text
    api = await client.get("/api/events/does-not-exist")
    assert api.status_code == 404 and api.json()["code"] == "event.not_found"


async def test_language_switch_sets_a_cookie(client: httpx.AsyncClient) -> None:
    """Choosing English is remembered and the page is shown in English."""
    response = await client.get("/lang", params={"to": "en", "next": "/e/planstrategi-4-0"})
    assert response.status_code == 303 and response.headers["location"] == "/e/planstrategi-4-0"
    html = (await client.get("/e/planstrategi-4-0")).text
    assert '<html lang="en">' in html and "Programme" in html


async def test_pages_send_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    """Every page carries a CSP without inline scripts."""
    csp = (await client.get("/")).headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


async def test_csp_lets_the_players_worker_run(client: httpx.AsyncClient) -> None:
    """hls.js builds its transmuxing worker from a blob: the CSP allows workers from there."""
    csp = (await client.get("/archive")).headers["content-security-policy"]
    assert "worker-src 'self' blob:" in csp.split("; ")


async def test_user_text_is_isolated_for_right_to_left(client: httpx.AsyncClient) -> None:
    """A title with a right-to-left override is shown in its own bidi context (dir=auto)."""
    title = "\u202eLive: \u05e9\u05dc\u05d5\u05dd"
    response = await client.patch("/api/events/planstrategi-4-0", headers=ADMIN,
                                  json={"title": title})
    assert response.status_code == 200, response.text
    html = (await client.get("/e/planstrategi-4-0")).text
    assert re.search(rf'<h1 [^>]*dir="auto">{title}</h1>', html)
    assert re.search(rf'<h3 [^>]*dir="auto"><a [^>]*href="[^"]+">{title}</a></h3>',
                     (await client.get("/")).text)


async def test_places_left_count_down_with_registrations(client: httpx.AsyncClient) -> None:
    """A confirmed registration takes one of the 80 places in the room on the event page."""
    before = (await client.get("/e/planstrategi-4-0")).text
    assert '<dd class="places">80</dd>' in before
    response = await client.post("/api/events/planstrategi-4-0/registrations", json={
        "occurrence": "oslo", "attendance": "in_person", "name": "Kari Nordmann",
        "email": "kari@example.no", "organisation": "Solund kommune"})
    assert response.status_code == 201, response.text
    after = (await client.get("/e/planstrategi-4-0")).text
    assert '<dd class="places">79</dd>' in after


async def test_demo_workshop_has_its_group_work_set_up(client: httpx.AsyncClient) -> None:
    """The demo workshop comes with group work by theme, its sections and venue rooms."""
    page = await client.get("/admin/group-work/verksted-regional-utvikling",
                            params={"token": ADMIN_TOKEN, "lang": "nb"})
    assert page.status_code == 200
    assert "Forslag til tiltak" in page.text and "Grupperom 2" in page.text
    assert re.search(r'selected>Oppstart av arbeid i grupper for begge tema</option>', page.text)


def test_a_status_holds_until_the_moment_status_until_names() -> None:
    """The event page keeps a status until the next edge `status_until` gives: minute by
    minute over two occurrences (and at the edges themselves) that is what `event_status`
    says too, and after the last one nothing changes again."""
    import datetime as dt

    from live.events.domain import event_status, status_until
    from live.models import Event, Occurrence

    day = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    event = Event(slug="x", title="X", occurrences=[
        Occurrence(starts_at=day, ends_at=day + dt.timedelta(hours=3)),
        Occurrence(starts_at=day + dt.timedelta(days=1), ends_at=day + dt.timedelta(days=1, hours=2)),
    ])
    edges = [e for o in event.occurrences for e in (o.starts_at - dt.timedelta(hours=1),
                                                    o.starts_at, o.ends_at)]
    times = [day - dt.timedelta(hours=2) + dt.timedelta(minutes=m) for m in range(0, 60 * 30, 7)]
    times += [e + dt.timedelta(microseconds=d) for e in edges for d in (-1, 0, 1)]
    seen = set()
    for t in sorted(times):
        status, until = status_until(event, t)
        seen.add(status.state)
        assert status == event_status(event, t)
        if until is None:
            assert status.state == "ended" and t > edges[-1]
        else:
            assert until > t
            assert event_status(event, until - dt.timedelta(microseconds=1)) == status
    assert seen == {"upcoming", "soon", "live", "ended"}
