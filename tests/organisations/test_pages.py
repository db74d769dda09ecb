"""The registration form and the organisers' review page with the registry (demo, SQLite)."""

from __future__ import annotations

import re

import httpx
import pytest

from live.settings import Settings
from tests.registration.test_registration_pages import csrf_of, text_of
from tests.support.admin import event_doc, login
from tests.support.admin import post_form as post_form_admin
from tests.support.app import ADMIN

CONFERENCE = "vi-bygger-innlandet"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Page tests are about pages: SQLite only (the service's tests cover both databases)."""
    return sqlite_url


@pytest.fixture
async def web(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.cookies.set("salen_lang", "en")
    return client


def person(n: int, **extra: str) -> dict[str, str]:
    return {"occurrence": "elverum", "attendance": "in_person", "name": f"Person {n}",
            "email": f"p{n}@example.no", "organisation": "Sel kommune", **extra}


def dates_in_order(html: str) -> list[str]:
    return re.findall(r'name="occurrence" value="([a-z]+)"', html)


def checked(html: str) -> list[str]:
    return re.findall(r'name="occurrence" value="([a-z]+)"[^>]*?checked', html, re.DOTALL)


async def post_form(web: httpx.AsyncClient, slug: str, data: dict[str, str]) -> httpx.Response:
    form = await web.get(f"/e/{slug}/register")
    return await web.post(f"/e/{slug}/register", data={"csrf_token": csrf_of(form.text), **data})


async def test_nord_gudbrandsdal_is_offered_otta_first(web: httpx.AsyncClient) -> None:
    """From Sel (Nord-Gudbrandsdal) the form puts Otta first and chosen; Gjøvik may still be chosen."""
    plain = await web.get(f"/e/{CONFERENCE}/register")
    assert dates_in_order(plain.text) == ["elverum", "otta", "gjovik"]
    assert "For the regions: Gjøvikregionen, Valdresregionen" in text_of(plain.text)
    for typed in ("Sel kommune", "vågå kommune", "Lom", "Vaga"):  # places, æøå typed as aeoa
        page = await web.get(f"/e/{CONFERENCE}/register", params={"organisation": typed})
        assert dates_in_order(page.text)[0] == "otta", typed
        assert checked(page.text) == ["otta"]
        assert "Suggested for your region" in page.text
    for unclear in ("Herøy", "Kari Nordmann AS"):  # two regions, or none: no date pushed
        page = await web.get(f"/e/{CONFERENCE}/register", params={"organisation": unclear})
        assert dates_in_order(page.text) == ["elverum", "otta", "gjovik"], unclear
    done = await post_form(web, CONFERENCE, person(1, occurrence="gjovik"))
    assert done.status_code == 303
    personal = await web.get(done.headers["location"])
    assert "Gjøvik" in text_of(personal.text)


async def test_places_api_suggests_the_date(web: httpx.AsyncClient) -> None:
    """The registry search gives each body's suggested date for an event, and never typed names."""
    found = (await web.get("/api/organisations", params={"q": "Skjåk", "event": CONFERENCE})).json()
    assert found["organisations"][0]["name"] == "Skjåk kommune"
    assert found["organisations"][0]["occurrence"] == "otta"
    assert (await post_form(web, CONFERENCE, person(2, organisation="Planlagt Tull AS",
                                                    organisation_choice="as-typed"))).status_code == 303
    assert (await web.get("/api/organisations", params={"q": "Tull"})).json() == {
        "organisations": []}
    form = await web.get(f"/e/{CONFERENCE}/register")
    assert 'value="Innlandet fylkeskommune"' in form.text and "Planlagt Tull" not in form.text


async def test_unclear_name_reshows_the_form_with_the_suggestion(web: httpx.AsyncClient) -> None:
    """"Innlandet" is answered with "Did you mean Innlandet fylkeskommune?"; picking it registers."""
    refused = await post_form(web, CONFERENCE, person(3, organisation="Innlandet"))
    assert refused.status_code == 422
    assert 'data-code="registration.organisation_unclear"' in refused.text
    assert "Did you mean Innlandet fylkeskommune?" in text_of(refused.text)
    assert 'name="organisation_choice" value="Innlandet fylkeskommune" checked' in refused.text
    done = await web.post(f"/e/{CONFERENCE}/register", data={
        "csrf_token": csrf_of(refused.text), **person(3, organisation="Innlandet"),
        "organisation_choice": "Innlandet fylkeskommune"})
    assert done.status_code == 303
    personal = await web.get(done.headers["location"])
    assert "Innlandet fylkeskommune" in personal.text


async def test_review_page_merges_and_shows_flags(web: httpx.AsyncClient) -> None:
    """An organiser merges a typed name into a county: the breach appears on the participant list."""
    slug = "byregioner-oppstart"
    first = person(4, organisation="Innlandet fylkeskommune", occurrence="oslo")
    assert (await post_form(web, slug, first)).status_code == 303
    second = person(5, organisation="Regionkontoret Hamar", occurrence="oslo",
                    organisation_choice="as-typed")
    assert (await post_form(web, slug, second)).status_code == 303
    page = await web.get("/admin/organisations", headers=ADMIN)
    assert page.status_code == 200 and "Regionkontoret Hamar" in page.text
    org_id = re.search(r'/admin/organisations/(\d+)/merge', page.text)
    assert org_id
    bad = await web.post(f"/admin/organisations/{org_id.group(1)}/merge", headers=ADMIN,
                         data={"csrf_token": csrf_of(page.text), "into": "Viken"})
    assert bad.status_code == 422 and "Unknown organisation." in bad.text
    merged = await web.post(f"/admin/organisations/{org_id.group(1)}/merge", headers=ADMIN,
                            data={"csrf_token": csrf_of(page.text), "into": "Innlandet FK"})
    assert merged.status_code == 303
    after = await web.get("/admin/organisations", headers=ADMIN)
    assert "1 registration is now beyond a quota" in after.text
    assert "Regionkontoret Hamar" not in after.text
    listing = await web.get(f"/admin/events/{slug}/registrations", headers=ADMIN)
    assert 'id="quota-flags"' in listing.text and "Person 5" in listing.text
    flags = (await web.get(f"/api/events/{slug}/quota-flags", headers=ADMIN)).json()["flags"]
    assert [(f["name"], f["used"], f["limit"]) for f in flags] == [("Person 5", 2, 1)]
    settled = await web.post(f"/admin/events/{slug}/quota-flags/{flags[0]['id']}/dismiss",
                             headers=ADMIN, data={"csrf_token": csrf_of(listing.text)})
    assert settled.status_code == 303
    assert (await web.get(f"/api/events/{slug}/quota-flags", headers=ADMIN)).json() == {
        "flags": []}
    after_list = await web.get(f"/admin/events/{slug}/registrations", headers=ADMIN)
    assert 'id="quota-flags"' not in after_list.text and "Person 5" in after_list.text


async def test_review_page_proposes_no_kind_and_the_registrys_guess(web: httpx.AsyncClient) -> None:
    """The dashboard counts what waits; no kind is chosen for the organiser; a misspelt county
    comes with the registry's guess filled in to merge."""
    typo = person(6, organisation="Innlandett fylkeskommune", organisation_choice="as-typed")
    firm = person(7, organisation="Kari Nordmann AS", organisation_choice="as-typed")
    for data in (typo, firm):
        assert (await post_form(web, CONFERENCE, data)).status_code == 303
    page = await web.get("/admin/organisations", headers=ADMIN)
    cards = dict(re.findall(r'<h2[^>]*>([^<]+)</h2>(.*?)</li>', page.text, re.DOTALL))
    typo_card, firm_card = cards["Innlandett fylkeskommune"], cards["Kari Nordmann AS"]
    assert '<option value="" selected disabled>Choose a kind</option>' in firm_card
    assert re.search(r'<option value="county"[^>]*selected', firm_card) is None
    assert "The registry suggests: Innlandet fylkeskommune" in typo_card
    assert 'value="Innlandet fylkeskommune"' in typo_card
    assert "The registry suggests" not in firm_card
    assert 'list="known-organisations" maxlength="200">' in firm_card  # empty
    org = re.search(r'/admin/organisations/(\d+)/classify', firm_card)
    assert org
    unchosen = await web.post(f"/admin/organisations/{org.group(1)}/classify", headers=ADMIN,
                              data={"csrf_token": csrf_of(page.text), "kind": ""})
    assert unchosen.status_code == 422 and "Kari Nordmann AS" in unchosen.text
    await login(web)
    dashboard = await web.get("/admin")
    assert '<span class="ds-tag" data-color="warning" data-count="to-review">2 wait</span>' in (
        dashboard.text)


async def test_review_needs_a_site_organiser(web: httpx.AsyncClient) -> None:
    """The review list and its actions answer 401 to anybody else, as JSON on the API."""
    assert (await web.get("/api/organisations/review")).status_code == 401
    refused = await web.post("/api/organisations/1/classify", json={"kind": "county"})
    assert refused.status_code == 401 and refused.json()["code"]
    listed = await web.get("/api/organisations/review", headers=ADMIN)
    assert listed.status_code == 200
    bad = await web.post("/api/organisations/999999/classify", headers=ADMIN, json={"kind": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "organisation.invalid"


async def test_holder_hands_the_place_to_a_colleague(web: httpx.AsyncClient) -> None:
    """One per county: the holder passes the place on through the link; it is never free meanwhile."""
    slug = "byregioner-oppstart"
    done = await post_form(web, slug, person(6, organisation="Innlandet fylkeskommune",
                                             occurrence="oslo"))
    link = done.headers["location"]
    page = await web.get(link)
    taken = await post_form(web, slug, person(7, organisation="innlandet fylke", occurrence="oslo"))
    assert taken.status_code == 422 and "registration.quota_exceeded" in taken.text
    assert "Person 6" not in taken.text
    other = await post_form(web, slug, person(8, organisation="Agder FK", occurrence="oslo"))
    assert other.status_code == 303
    duplicate = await web.post(f"{link}/handover", data={
        "csrf_token": csrf_of(page.text), "name": "Kari", "email": "P8@example.no"})
    assert duplicate.status_code == 409 and "Already registered." in duplicate.text
    handed = await web.post(f"{link}/handover", data={
        "csrf_token": csrf_of(page.text), "name": "Kari Kollega", "email": "kari@example.no"})
    assert handed.status_code == 200 and "Kari Kollega now has your place" in handed.text
    assert (await web.get(link)).status_code == 404
    listing = (await web.get(f"/api/events/{slug}/registrations", headers=ADMIN)).json()
    mine = [r for r in listing["registrations"] if r["organisation"] == "Innlandet fylkeskommune"]
    assert [(r["name"], r["email"], r["status"]) for r in mine] == [
        ("Kari Kollega", "kari@example.no", "confirmed")]
    outbox = await web.get("/admin/outbox", headers=ADMIN)
    assert "kari@example.no" in outbox.text


async def test_quota_refusal_in_bokmal_names_the_body_not_the_holder(
    web: httpx.AsyncClient,
) -> None:
    """The API's refusal reads "Innlandet fylkeskommune har allerede brukt sine 1 av 1 plasser.",
    with the organiser's address to coordinate through."""
    url = "/api/events/byregioner-oppstart/registrations"
    body = {"occurrence": "oslo", "attendance": "in_person", "name": "Ola Holder",
            "email": "ola@example.no", "organisation": "Innlandet fylkeskommune"}
    assert (await web.post(url, json=body)).status_code == 201
    web.cookies.set("salen_lang", "nb")
    refused = await web.post(url, json=body | {"email": "kari@example.no",
                                                "organisation": " INNLANDET  fk "})
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["code"] == "registration.quota_exceeded"
    assert answer["message"] == (
        "Innlandet fylkeskommune har allerede brukt sine 1 av 1 plasser. "
        "Ta kontakt med arrangøren på oppstartssamling@distriktssenteret.example.")
    assert "Ola" not in refused.text
    unclear = await web.post(url, json=body | {"email": "per@example.no",
                                               "organisation": "Troms og Finnmark fylkeskommune"})
    assert unclear.json()["message"] == (
        "Mente du en av disse: Finnmark fylkeskommune; Troms fylkeskommune?")


async def test_region_quota_through_the_quota_form(web: httpx.AsyncClient, settings: Settings) -> None:
    """An organiser adds a region quota with the form; the event page states it and it refuses."""
    await login(web)
    base = f"/admin/events/{CONFERENCE}"
    assert (await post_form_admin(web, f"{base}/quotas/new", {
        "limit": "1", "region": "Valdresregionen"})).status_code == 303
    doc = await event_doc(settings, CONFERENCE)
    assert doc.quotas[-1].region == "Valdresregionen"
    page = await web.get(f"/e/{CONFERENCE}")
    assert "At most 1 participant from Valdresregionen together." in text_of(page.text)
    assert (await post_form(web, CONFERENCE, person(9, organisation="Vang kommune",
                                                    occurrence="gjovik"))).status_code == 303
    refused = await post_form(web, CONFERENCE, person(10, organisation="Vang kommune",
                                                      occurrence="gjovik"))
    assert refused.status_code == 422
    assert "Valdresregionen has already used its 1 of 1 places." in text_of(refused.text)
