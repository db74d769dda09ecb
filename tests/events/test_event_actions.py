"""Whole-event actions in the editor (live/events/manage.py) and the generic confirm page
(live/confirm.py), over HTTP as a browser without JavaScript sends them."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from live.db import create_engine, sessionmaker
from live.models import Event, Registration
from live.settings import Settings
from tests.support.admin import VERKSTED, csrf_of, event_doc, login

EDITOR = f"/admin/events/{VERKSTED}"


async def token(client: httpx.AsyncClient) -> str:
    await login(client)
    return csrf_of((await client.get(EDITOR)).text)


async def test_new_events_start_unpublished(client: httpx.AsyncClient, settings: Settings) -> None:
    """The new-event form leaves "Published" unticked; the editor has buttons instead."""
    await login(client)
    form = (await client.get("/admin/events/new")).text
    assert 'name="published"' in form and 'name="published" type="checkbox" value="on"' in form
    assert 'name="published" type="checkbox" value="on" checked' not in form
    editor = (await client.get(EDITOR)).text
    assert 'name="published"' not in editor and 'data-published="yes"' in editor


async def test_saving_details_keeps_the_event_published(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """The details form has no "published" box, so saving it does not unpublish."""
    csrf = await token(client)
    saved = await client.post(EDITOR, data={
        "csrf_token": csrf, "title": "Verksted", "type": "workshop"})
    assert saved.status_code == 303
    doc = await event_doc(settings, VERKSTED)
    assert doc.title == "Verksted" and doc.published


async def test_unpublish_asks_first_and_publish_does_not(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """Unpublishing without `confirm` leads to the confirm page; confirmed, it unpublishes;
    publishing again needs no confirmation."""
    csrf = await token(client)
    asked = await client.post(f"{EDITOR}/unpublish", data={"csrf_token": csrf})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/confirm/event.unpublish{EDITOR}/unpublish"
    assert (await event_doc(settings, VERKSTED)).published
    page = await client.get(asked.headers["location"])
    assert page.status_code == 200 and "Unpublish this event?" in page.text
    assert f'action="{EDITOR}/unpublish"' in page.text and f'href="{EDITOR}"' in page.text
    done = await client.post(f"{EDITOR}/unpublish", data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 303 and not (await event_doc(settings, VERKSTED)).published
    assert (await client.post(f"{EDITOR}/publish", data={"csrf_token": csrf})).status_code == 303
    assert (await event_doc(settings, VERKSTED)).published


async def test_delete_event_asks_first_then_deletes_everything(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """Deleting asks first; confirmed, the event and its registrations are gone."""
    csrf = await token(client)
    assert 'data-confirm-form="event.delete"' in (await client.get(EDITOR)).text
    asked = await client.post(f"{EDITOR}/delete", data={"csrf_token": csrf})
    assert asked.headers["location"] == f"/confirm/event.delete{EDITOR}/delete"
    assert (await client.get(EDITOR)).status_code == 200
    done = await client.post(f"{EDITOR}/delete", data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/admin"
    assert "The event was deleted." in (await client.get("/admin")).text
    assert (await client.get(EDITOR)).status_code == 404
    engine = create_engine(settings.database_url)
    async with sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Event).where(
            Event.slug == VERKSTED)) == 0
        assert await session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id.not_in(select(Event.id)))) == 0
    await engine.dispose()


async def test_confirm_page_refuses_a_path_its_kind_does_not_guard(
        client: httpx.AsyncClient) -> None:
    """An unknown kind, or a kind with another action's path, is a 404: no page puts one
    action's words on another's button."""
    await login(client)
    assert (await client.get(f"/confirm/event.delete{EDITOR}/delete")).status_code == 200
    assert (await client.get(f"/confirm/event.delete{EDITOR}/unpublish")).status_code == 404
    assert (await client.get(f"/confirm/no.such{EDITOR}/delete")).status_code == 404


async def test_programme_items_move_up_and_down(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """The up and down buttons (plain forms) move an item within its block; the first one
    cannot go further up; a position (from drag and drop) moves it there."""
    csrf = await token(client)
    block = (await event_doc(settings, VERKSTED)).programme[1]
    ids = [i.id for i in block.items]
    assert len(ids) >= 3
    base = f"{EDITOR}/blocks/{block.id}/items"
    editor = (await client.get(EDITOR)).text
    assert f'action="{base}/{ids[1]}/move"' in editor and 'value="up"' in editor
    moved = await client.post(f"{base}/{ids[1]}/move", data={"csrf_token": csrf, "direction": "up"})
    assert moved.status_code == 303 and moved.headers["location"] == f"{EDITOR}#items-{ids[1]}"
    order = [i.id for i in (await event_doc(settings, VERKSTED)).programme[1].items]
    assert order == [ids[1], ids[0], *ids[2:]]
    await client.post(f"{base}/{ids[1]}/move", data={"csrf_token": csrf, "direction": "up"})
    assert [i.id for i in (await event_doc(settings, VERKSTED)).programme[1].items] == order
    await client.post(f"{base}/{ids[1]}/move", data={"csrf_token": csrf, "position": "3"})
    order = [i.id for i in (await event_doc(settings, VERKSTED)).programme[1].items]
    assert order[2] == ids[1]
    bad = await client.post(f"{base}/{ids[1]}/move", data={"csrf_token": csrf, "direction": "x"})
    assert bad.status_code == 422


async def test_removing_a_part_asks_first(client: httpx.AsyncClient, settings: Settings) -> None:
    """Removing a speaker without `confirm` leads to the confirm page and keeps it."""
    csrf = await token(client)
    speaker = (await event_doc(settings, VERKSTED)).speakers[0].key
    url = f"{EDITOR}/speakers/{speaker}/delete"
    asked = await client.post(url, data={"csrf_token": csrf})
    assert asked.headers["location"] == f"/confirm/event.part.remove{url}"
    page = (await client.get(asked.headers["location"])).text
    assert f'href="{EDITOR}/speakers/{speaker}"' in page
    assert speaker in {s.key for s in (await event_doc(settings, VERKSTED)).speakers}
