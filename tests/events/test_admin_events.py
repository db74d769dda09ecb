"""Organiser forms under /admin/events: login, create, edit parts, errors, CSRF and roles."""

from __future__ import annotations

import re

import httpx
import msgspec

from live.db import create_engine, sessionmaker
from live.events.document import dump_event
from live.events.service import load_event
from live.models import Attendance, Registration, RegistrationStatus
from live.settings import Settings
from tests.support.admin import VERKSTED, csrf_of, event_doc, login, post_form


async def test_create_event_through_the_form(client: httpx.AsyncClient,
                                             settings: Settings) -> None:
    """A site organiser creates an event with its first occurrence; it is saved and shown."""
    await login(client)
    response = await post_form(client, "/admin/events/new", {
        "title": "Dialogmøte om kyst", "summary": "Kort om møtet", "type": "meeting",
        "published": "on", "registration_open": "on", "city": "Bodø",
        "starts": "2027-03-04T10:00", "ends": "2027-03-04T15:00",
        "registration_deadline": "2027-02-25T12:00"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/events/dialogmote-om-kyst"
    editor = await client.get("/admin/events/dialogmote-om-kyst")
    assert "Saved." in editor.text and "Bodø" in editor.text
    doc = await event_doc(settings, "dialogmote-om-kyst")
    assert doc.type == "meeting" and doc.occurrences[0].slug == "bodo"
    assert doc.occurrences[0].registration_deadline.isoformat() == "2027-02-25T12:00:00"
    public = await client.get("/e/dialogmote-om-kyst")
    assert public.status_code == 200 and "Dialogmøte om kyst" in public.text


async def test_new_event_errors_name_their_fields_and_leave_the_slug_alone(
        client: httpx.AsyncClient) -> None:
    """An empty new-event form: the summary names and links each field; the optional slug is not missing."""
    await login(client)
    response = await post_form(client, "/admin/events/new", {"title": "", "slug": "", "city": ""})
    assert response.status_code == 422
    summary = response.text.split('id="error-summary-h"')[1].split("</div>")[0]
    assert '<a class="ds-link" href="#f-title">Title: Fill in this field.</a>' in summary
    assert '<a class="ds-link" href="#f-city">City: Fill in this field.</a>' in summary
    assert "#f-slug" not in summary and 'id="f-slug-error"' not in response.text


async def test_add_occurrence_with_deadline(client: httpx.AsyncClient, settings: Settings) -> None:
    """A new occurrence with a deadline and capacity is saved in Oslo time and listed."""
    await login(client)
    url = f"/admin/events/{VERKSTED}/occurrences/new"
    response = await post_form(client, url, {
        "city": "Hamar", "venue": "Scandic Hamar", "regions": "Hamarregionen\nSolør",
        "starts": "2027-01-30T09:00", "ends": "2027-01-30T15:30",
        "registration_deadline": "2027-01-20T23:59", "capacity_in_person": "40",
        "serves_food": "on"})
    assert response.status_code == 303
    doc = await event_doc(settings, VERKSTED)
    hamar = next(o for o in doc.occurrences if o.city == "Hamar")
    assert hamar.registration_deadline is not None
    assert hamar.registration_deadline.isoformat() == "2027-01-20T23:59:00"
    assert hamar.regions == ["Hamarregionen", "Solør"] and hamar.capacity_in_person == 40
    assert hamar.serves_food and not hamar.online


async def test_add_block_and_item_with_speaker(client: httpx.AsyncClient,
                                               settings: Settings) -> None:
    """A new speaker, block and item are saved; the item names the speaker on the public page."""
    await login(client)
    base = f"/admin/events/{VERKSTED}"
    assert (await post_form(client, f"{base}/speakers/new", {
        "name": "Kari Nordmann", "role": "rådgiver", "organisation": "Hamar kommune"}
    )).status_code == 303
    assert (await post_form(client, f"{base}/blocks/new", {
        "title": "Ettermiddag", "starts": "2026-12-03T15:00", "ends": "2026-12-03T16:00"}
    )).status_code == 303
    doc = await event_doc(settings, VERKSTED)
    block = next(b for b in doc.programme if b.title == "Ettermiddag")
    response = await post_form(client, f"{base}/blocks/{block.id}/items/new", {
        "title": "Erfaringer fra Hamar", "kind": "talk", "starts": "2026-12-03T15:00",
        "ends": "2026-12-03T15:30", "speakers": "kari-nordmann"})
    assert response.status_code == 303
    doc = await event_doc(settings, VERKSTED)
    item = next(b for b in doc.programme if b.title == "Ettermiddag").items[0]
    assert item.title == "Erfaringer fra Hamar" and item.speakers == ["kari-nordmann"]
    public = (await client.get(f"/e/{VERKSTED}")).text
    assert "Erfaringer fra Hamar" in public and "Kari Nordmann" in public


async def test_edit_item_keeps_its_id_and_place(client: httpx.AsyncClient,
                                                settings: Settings) -> None:
    """Editing an item keeps its id and its place (moving is the editor's up/down buttons)."""
    await login(client)
    before = await event_doc(settings, "planstrategi-4-0")
    block = before.programme[0]
    last = block.items[-1]
    url = f"/admin/events/planstrategi-4-0/blocks/{block.id}/items/{last.id}"
    page = await client.get(url)
    assert last.title in page.text
    response = await post_form(client, url, {
        "title": "Plankultur i praksis", "kind": str(last.kind), "position": "1",
        "speakers": list(last.speakers)})
    assert response.status_code == 303
    after = (await event_doc(settings, "planstrategi-4-0")).programme[0].items
    assert after[-1].title == "Plankultur i praksis" and after[-1].id == last.id
    assert 'name="position"' not in page.text
    assert len(after) == len(block.items)


async def test_themes_and_quotas(client: httpx.AsyncClient, settings: Settings) -> None:
    """Themes and quotas are added, edited and removed through their forms."""
    await login(client)
    base = f"/admin/events/{VERKSTED}"
    assert (await post_form(client, f"{base}/themes/new", {
        "title": "Tema 3: Kompetanse", "brief": "Hva mangler?"})).status_code == 303
    assert (await post_form(client, f"{base}/quotas/new", {
        "limit": "1", "organisation": "Statsforvalteren i Innlandet"})).status_code == 303
    doc = await event_doc(settings, VERKSTED)
    assert doc.themes[-1].slug == "tema-3-kompetanse"
    assert doc.quotas[-1].organisation == "Statsforvalteren i Innlandet"
    index = len(doc.quotas) - 1
    assert (await post_form(client, f"{base}/quotas/{index}", {
        "limit": "2", "organisation_kind": "ministry"})).status_code == 303
    token = csrf_of((await client.get(f"{base}/themes/tema-3-kompetanse")).text)
    removed = await client.post(f"{base}/themes/tema-3-kompetanse/delete",
                                data={"csrf_token": token, "confirm": "yes"})
    assert removed.status_code == 303
    doc = await event_doc(settings, VERKSTED)
    assert "tema-3-kompetanse" not in {t.slug for t in doc.themes}
    assert doc.quotas[index].limit == 2 and doc.quotas[index].organisation_kind == "ministry"


async def test_invalid_occurrence_shows_field_errors_and_saves_nothing(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """Bad input and broken rules re-render the form (422) with messages; nothing is saved."""
    await login(client)
    before = await event_doc(settings, VERKSTED)
    response = await post_form(client, f"/admin/events/{VERKSTED}/occurrences/new", {
        "city": "Lillehammer", "starts": "2027-01-30T15:00", "ends": "2027-01-30T09:00",
        "capacity_in_person": "many"})
    assert response.status_code == 422
    html = response.text
    assert 'value="Lillehammer"' in html
    assert 'id="f-capacity_in_person-error"' in html and "Enter a whole number." in html
    assert re.search(r'id="f-capacity_in_person"[^>]*aria-describedby="[^"]*'
                     r'f-capacity_in_person-error"', html)
    assert await event_doc(settings, VERKSTED) == before
    rules = await post_form(client, f"/admin/events/{VERKSTED}/occurrences/new", {
        "city": "Lillehammer", "starts": "2027-01-30T15:00", "ends": "2027-01-30T09:00"})
    assert rules.status_code == 422
    assert 'id="f-ends-error"' in rules.text and "The end must be after the start." in rules.text
    assert await event_doc(settings, VERKSTED) == before


async def test_yaml_view_round_trip(client: httpx.AsyncClient, settings: Settings) -> None:
    """The YAML view shows the export and saves an edited document; a broken one is refused."""
    await login(client)
    url = f"/admin/events/{VERKSTED}/yaml"
    page = await client.get(url)
    assert "slug: verksted-regional-utvikling" in page.text
    doc = await event_doc(settings, VERKSTED)
    text = dump_event(msgspec.structs.replace(doc, host="Innlandet fylkeskommune (endret)"))
    assert (await post_form(client, url, {"document": text})).status_code == 303
    assert (await event_doc(settings, VERKSTED)).host == "Innlandet fylkeskommune (endret)"
    broken = await post_form(client, url, {"document": text.replace("title:", "titel:", 1)})
    assert broken.status_code == 422 and "f-document-error" in broken.text


async def test_invalid_main_fields(client: httpx.AsyncClient,
                                                settings: Settings) -> None:
    """An empty title and a bad e-mail give 422 with messages; the title stays unchanged."""
    await login(client)
    response = await post_form(client, f"/admin/events/{VERKSTED}", {
        "title": "", "contact_email": "not-an-address", "type": "workshop"})
    assert response.status_code == 422
    assert 'id="f-title-error"' in response.text and 'id="f-contact_email-error"' in response.text
    assert 'value="not-an-address"' in response.text
    assert (await event_doc(settings, VERKSTED)).title == "Verksted for regional utvikling"



async def test_occurrence_with_registrations_is_not_removed(client: httpx.AsyncClient,
                                                           settings: Settings) -> None:
    """Removing a date people are registered for is refused (409); removing an empty one works."""
    await login(client)
    doc = await event_doc(settings, "vi-bygger-innlandet")
    taken, empty = doc.occurrences[0].slug, doc.occurrences[1].slug
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session, session.begin():
        event = await load_event(session, "vi-bygger-innlandet")
        occurrence = next(o for o in event.occurrences if o.slug == taken)
        session.add(Registration(event_id=event.id, occurrence_id=occurrence.id,
                                 attendance=Attendance.IN_PERSON,
                                 status=RegistrationStatus.CONFIRMED, name="Ola", email="ola@x.no"))
    await engine.dispose()
    base = "/admin/events/vi-bygger-innlandet/occurrences"
    token = csrf_of((await client.get(f"{base}/{taken}")).text)
    refused = await client.post(f"{base}/{taken}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 409 and "registered" in refused.text
    removed = await client.post(f"{base}/{empty}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert removed.status_code == 303
    slugs = [o.slug for o in (await event_doc(settings, "vi-bygger-innlandet")).occurrences]
    assert taken in slugs and empty not in slugs


async def test_new_item_form_starts_after_the_last_item(client: httpx.AsyncClient,
                                                        settings: Settings) -> None:
    """The form for a new item is prefilled with the end of the block's last item."""
    await login(client)
    block = (await event_doc(settings, VERKSTED)).programme[-1]
    page = await client.get(f"/admin/events/{VERKSTED}/blocks/{block.id}/items/new")
    last_end = block.items[-1].ends
    assert last_end is not None
    assert f'name="starts" type="datetime-local" value="{last_end:%Y-%m-%dT%H:%M}"' in page.text
