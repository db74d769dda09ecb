"""The events API: listing, reading, creating and changing events, and who may do it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from live.settings import Settings
from tests.support.app import ADMIN, demo_time, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The API's settings allow one extra embed host, a county's own web-TV."""
    return make_settings(database_url, tmp_path,
                         embed_hosts="youtube.com,youtu.be,vimeo.com,tv.innlandet.no")

NEW_EVENT = {
    "slug": "nytt-seminar",
    "title": "Nytt seminar",
    "occurrences": [{"slug": "hamar", "city": "Hamar", "starts": "2027-05-04T09:00",
                     "ends": "2027-05-04T12:00", "registration_deadline": "2027-04-27T23:59",
                     "capacity_in_person": 40}],
    "speakers": [{"key": "ola", "name": "Ola Nordmann", "organisation": "Hamar kommune"}],
    "programme": [{"title": "Del 1", "starts": "2027-05-04T09:00", "ends": "2027-05-04T10:00",
                   "items": [{"title": "Innledning", "speakers": ["ola"]}]}],
}


async def test_list_events(client: httpx.AsyncClient) -> None:
    """GET /api/events lists the published demo events with their status."""
    events = (await client.get("/api/events")).json()["events"]
    by_slug = {e["slug"]: e for e in events}
    assert by_slug["planstrategi-4-0"]["status"] == "upcoming"
    assert by_slug["fylkestinget-internasjonal-plan"]["status"] == "ended"


async def test_event_document_round_trip(client: httpx.AsyncClient) -> None:
    """GET /api/events/{slug} gives the document, with local times and speaker keys."""
    doc = (await client.get("/api/events/verksted-regional-utvikling")).json()
    assert doc["occurrences"][0]["starts"] == demo_time("2027-03-10T08:30").isoformat()
    assert [t["slug"] for t in doc["themes"]] == ["baerekraft", "kompetanse"]
    assert doc["quotas"] == [{"limit": 4, "organisation_kind": "county"}]
    panel = doc["programme"][3]["items"][0]
    assert panel["kind"] == "panel" and panel["speakers"] == ["hansen", "woien"]


async def test_create_needs_an_organiser(client: httpx.AsyncClient) -> None:
    """Creating without credentials is 401, with a wrong token 403, with the admin token 201."""
    assert (await client.post("/api/events", json=NEW_EVENT)).status_code == 401
    wrong = await client.post("/api/events", json=NEW_EVENT, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 403
    created = await client.post("/api/events", json=NEW_EVENT, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["programme"][0]["items"][0]["speakers"] == ["ola"]
    page = await client.get("/e/nytt-seminar")
    assert "Ola Nordmann" in page.text and "Hamar kommune" in page.text


async def test_create_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    """A second event with the same slug is refused with 409 event.exists."""
    await client.post("/api/events", json=NEW_EVENT, headers=ADMIN)
    again = await client.post("/api/events", json=NEW_EVENT, headers=ADMIN)
    assert again.status_code == 409 and again.json()["code"] == "event.exists"


async def test_invalid_document_names_the_field_and_saves_nothing(
    client: httpx.AsyncClient,
) -> None:
    """A bad field gives 422 with the field's path; an unknown speaker key too; nothing is saved."""
    bad = NEW_EVENT | {"occurrences": [NEW_EVENT["occurrences"][0] | {"capacity_in_person": -3}]}
    response = await client.post("/api/events", json=bad, headers=ADMIN)
    assert response.status_code == 422
    assert "occurrences[0].capacity_in_person" in response.json()["fields"]
    dangling = NEW_EVENT | {"programme": [{"title": "X", "items": [{"title": "Y",
                                                                      "speakers": ["kari"]}]}]}
    response = await client.post("/api/events", json=dangling, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["fields"] == {"programme[0].items[0].speakers":
                                         "Unknown speaker key 'kari'."}
    assert (await client.get("/api/events/nytt-seminar")).status_code == 404


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    """A body that is not JSON gets 422 invalid_json."""
    response = await client.post("/api/events", content=b"{nope", headers=ADMIN)
    assert response.status_code == 422 and response.json()["code"] == "invalid_json"


async def test_patch_changes_fields_and_keeps_programme_ids(client: httpx.AsyncClient) -> None:
    """PATCH changes the title; programme items keep their ids (Q&A and chapters refer to them)."""
    before = (await client.get("/api/events/planstrategi-4-0")).json()
    ids = [i["id"] for b in before["programme"] for i in b["items"]]
    response = await client.patch("/api/events/planstrategi-4-0",
                                  json={"title": "Planstrategi 4.0 (ny tittel)"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["title"] == "Planstrategi 4.0 (ny tittel)"
    assert [i["id"] for b in after["programme"] for i in b["items"]] == ids


async def test_patch_needs_the_organiser_role(client: httpx.AsyncClient) -> None:
    """PATCH without credentials is 401 and changes nothing."""
    response = await client.patch("/api/events/planstrategi-4-0", json={"title": "Hacked"})
    assert response.status_code == 401
    title = (await client.get("/api/events/planstrategi-4-0")).json()["title"]
    assert title.startswith("Planstrategi 4.0")


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    """/api/openapi.json lists the event paths and the event document schema."""
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert {"get", "post"} <= set(spec["paths"]["/api/events"])
    assert "EventDoc" in spec["components"]["schemas"]
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "/api/events/{slug}" in docs.text


async def test_removing_a_date_with_registrations_is_refused(client: httpx.AsyncClient) -> None:
    """PATCH that drops an occurrence people registered for is 409, and nobody is deleted."""
    registered = await client.post("/api/events/vi-bygger-innlandet/registrations", json={
        "occurrence": "otta", "attendance": "in_person", "name": "Per Hansen",
        "email": "per@example.no", "organisation": "Sel kommune"})
    assert registered.status_code == 201, registered.text
    doc = (await client.get("/api/events/vi-bygger-innlandet")).json()
    without_otta = [o for o in doc["occurrences"] if o["slug"] != "otta"]
    response = await client.patch("/api/events/vi-bygger-innlandet",
                                  json={"occurrences": without_otta}, headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["code"] == "occurrence.has_registrations"
    listing = await client.get("/api/events/vi-bygger-innlandet/registrations", headers=ADMIN)
    assert [r["name"] for r in listing.json()["registrations"]] == ["Per Hansen"]


async def test_reserved_slug_is_refused(client: httpx.AsyncClient) -> None:
    """'new' cannot be an event's address (the admin uses /admin/events/new)."""
    response = await client.post("/api/events", json=NEW_EVENT | {"slug": "new"}, headers=ADMIN)
    assert response.status_code == 422 and "slug" in response.json()["fields"]


async def test_registration_questions_survive_a_patch(client: httpx.AsyncClient) -> None:
    """Extra registration questions are part of the document and kept by unrelated changes."""
    questions = [{"key": "allergier", "label": "Allergier", "required": True}]
    first = await client.patch("/api/events/planstrategi-4-0", json={"questions": questions},
                               headers=ADMIN)
    assert first.status_code == 200 and first.json()["questions"] == questions
    second = await client.patch("/api/events/planstrategi-4-0", json={"summary": "Ny"},
                                headers=ADMIN)
    assert second.json()["questions"] == questions


async def test_stream_url_is_checked_against_the_allowed_hosts(client: httpx.AsyncClient) -> None:
    """A configured web-TV host is accepted through the API; any other host is refused."""
    ok = await client.patch("/api/events/planstrategi-4-0", headers=ADMIN,
                            json={"stream_url": "https://tv.innlandet.no/live/fylkestinget"})
    assert ok.status_code == 200, ok.text
    bad = await client.patch("/api/events/planstrategi-4-0", headers=ADMIN,
                             json={"stream_url": "https://evil.example/player"})
    assert bad.status_code == 422 and "stream_url" in bad.json()["fields"]
