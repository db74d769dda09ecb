"""Events in the database: save a document (create or update in place), export, load for pages.

Every write goes through `save_event`, which applies `domain.validate` first, so forms,
the API and imports share one set of rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from live.errors import Conflict, NotFound
from live.events.document import (
    BlockDoc,
    EventDoc,
    ItemDoc,
    OccurrenceDoc,
    QuestionDoc,
    QuotaDoc,
    SpeakerDoc,
    ThemeDoc,
)
from live.events.domain import OSLO, aware, validate
from live.models import (
    Event,
    Occurrence,
    Organisation,
    OrganisationKind,
    ProgrammeBlock,
    ProgrammeItem,
    Quota,
    Registration,
    RegistrationStatus,
    Speaker,
    Theme,
    normalise_name,
    utcnow,
)
from live.organisations.service import exact

SCALARS = ("title", "summary", "description", "target_group", "host", "contact_email",
           "published", "streamed", "stream_url", "registration_open")


def event_query(slug: str) -> Select[Event]:
    """An event with everything its page shows, loaded eagerly."""
    return (
        select(Event)
        .where(Event.slug == slug)
        .options(
            selectinload(Event.occurrences),
            selectinload(Event.blocks).selectinload(ProgrammeBlock.items),
            selectinload(Event.speakers),
            selectinload(Event.themes),
            selectinload(Event.quotas),
        )
        .execution_options(populate_existing=True)
    )


async def load_event(session: AsyncSession, slug: str) -> Event:
    event = (await session.scalars(event_query(slug))).first()
    if event is None:
        raise NotFound("No event with that address.", code="event.not_found")
    return event


async def find_event(session: AsyncSession, slug: str) -> Event:
    """The event row alone, without its programme."""
    event = (await session.scalars(select(Event).where(Event.slug == slug))).first()
    if event is None:
        raise NotFound("No event with that address.", code="event.not_found")
    return event


async def save_event(session: AsyncSession, doc: EventDoc, *, create: bool = False,
                     embed_hosts: str | Iterable[str] = "") -> Event:
    """Create the event, or update it in place (children matched by slug, key or id)."""
    validate(doc, embed_hosts=embed_hosts)
    existing = (await session.scalars(event_query(doc.slug))).first()
    if existing is not None and create:
        raise Conflict(f"An event with the address {doc.slug!r} exists.", code="event.exists")
    event = existing or Event(slug=doc.slug, occurrences=[], blocks=[], speakers=[], themes=[],
                              quotas=[])
    for name in SCALARS:
        setattr(event, name, getattr(doc, name))
    if existing is not None:
        await _refuse_removing_registered(session, existing, doc)
    event.event_type = doc.type
    event.registration_questions = [_question(q) for q in doc.questions]
    event.occurrences = _merge(event.occurrences, doc.occurrences, lambda o: o.slug,
                               lambda d: d.slug, _occurrence)
    event.themes = _merge(event.themes, doc.themes, lambda t: t.slug, lambda d: d.slug, _theme)
    event.speakers = _merge(event.speakers, doc.speakers, lambda s: s.key, lambda d: d.key,
                            _speaker)
    event.quotas = [await _quota(session, q) for q in doc.quotas]
    event.updated_at = utcnow()  # the event's version, even when only its children changed
    if existing is None:
        session.add(event)
    try:
        await session.flush()
    except IntegrityError as exc:  # created at the same moment by someone else
        raise Conflict(f"An event with the address {doc.slug!r} exists.",
                       code="event.exists") from exc
    speaker_ids = {s.key: s.id for s in event.speakers}
    _merge_programme(event, doc.programme, speaker_ids)
    await session.flush()
    return event


async def _refuse_removing_registered(session: AsyncSession, event: Event, doc: EventDoc) -> None:
    """Removing an occurrence would delete its registrations (cascade): refuse instead."""
    kept = {o.slug for o in doc.occurrences}
    removed = [o.id for o in event.occurrences if o.slug not in kept]
    if not removed:
        return
    count = await session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.occurrence_id.in_(removed),
            Registration.status != RegistrationStatus.CANCELLED))
    if count:
        raise Conflict("People are registered for this date; move or cancel their "
                       "registrations first.", code="occurrence.has_registrations")


def _question(doc: QuestionDoc) -> dict[str, object]:
    return msgspec.to_builtins(doc)  # type: ignore[no-any-return]


def _merge(current: Iterable[Any], docs: Iterable[Any], key_of, doc_key, apply):  # type: ignore[no-untyped-def]
    by_key = {key_of(row): row for row in current}
    result = []
    for position, doc in enumerate(docs):
        row = apply(by_key.get(doc_key(doc)), doc)
        if hasattr(row, "position"):
            row.position = position
        result.append(row)
    return result


def _occurrence(row: Occurrence | None, doc: OccurrenceDoc) -> Occurrence:
    row = row or Occurrence(slug=doc.slug)
    row.city, row.venue, row.address = doc.city, doc.venue, doc.address
    row.regions = list(doc.regions)
    row.starts_at, row.ends_at = aware(doc.starts), aware(doc.ends)  # type: ignore[assignment]
    row.registration_deadline = aware(doc.registration_deadline)
    row.capacity_in_person, row.capacity_online = doc.capacity_in_person, doc.capacity_online
    row.online, row.serves_food = doc.online, doc.serves_food
    return row


def _theme(row: Theme | None, doc: ThemeDoc) -> Theme:
    row = row or Theme(slug=doc.slug)
    row.title, row.brief = doc.title, doc.brief
    return row


def _speaker(row: Speaker | None, doc: SpeakerDoc) -> Speaker:
    row = row or Speaker(key=doc.key)
    row.name, row.role, row.organisation = doc.name, doc.role, doc.organisation
    return row


async def _quota(session: AsyncSession, doc: QuotaDoc) -> Quota:
    organisation_id = None
    if doc.organisation:
        organisation_id = (await organisation_for(session, doc.organisation)).id
    return Quota(organisation_kind=doc.organisation_kind, organisation_id=organisation_id,
                 region=doc.region, limit=doc.limit)


async def organisation_for(session: AsyncSession, name: str,
                           kind: OrganisationKind | None = None) -> Organisation:
    """The organisation under this name: the registry's body when it knows the name, else
    the one under the normalised name, created when new."""
    known = await exact(session, name)
    if len(known) == 1:
        return known[0]
    key = normalise_name(name)
    found = (await session.scalars(select(Organisation).where(Organisation.key == key))).first()
    if found is None:
        found = Organisation(name=" ".join(name.split()), key=key,
                             kind=kind or OrganisationKind.OTHER)
        session.add(found)
        await session.flush()
    return found


def _merge_programme(event: Event, docs: list[BlockDoc], speaker_ids: dict[str, int]) -> None:
    blocks_by_id = {b.id: b for b in event.blocks}
    items_by_id = {i.id: i for b in event.blocks for i in b.items}
    items_by_title: dict[str, list[ProgrammeItem]] = {}
    for item in items_by_id.values():
        items_by_title.setdefault(item.title, []).append(item)
    old_blocks = list(event.blocks)
    blocks = []
    for position, bdoc in enumerate(docs):
        block = blocks_by_id.get(bdoc.id) if bdoc.id else None
        if block is None:
            block = old_blocks[position] if position < len(old_blocks) else None
        if block is None or block in blocks:
            block = ProgrammeBlock(event_id=event.id, items=[])
        block.position, block.title = position, bdoc.title
        block.starts_at, block.ends_at = aware(bdoc.starts), aware(bdoc.ends)
        block.items = [
            _item(event, _match_item(idoc, items_by_id, items_by_title), idoc, n, speaker_ids)
            for n, idoc in enumerate(bdoc.items)
        ]
        blocks.append(block)
    event.blocks = blocks


def _match_item(doc: ItemDoc, by_id: dict[int, ProgrammeItem],
                by_title: dict[str, list[ProgrammeItem]]) -> ProgrammeItem | None:
    item = by_id.pop(doc.id, None) if doc.id else None
    candidates = by_title.get(doc.title, [])
    if item is None:
        while candidates and candidates[0].id not in by_id:
            candidates.pop(0)
        item = candidates.pop(0) if candidates else None
        if item is not None:
            by_id.pop(item.id, None)
    return item


def _item(event: Event, row: ProgrammeItem | None, doc: ItemDoc, position: int,
          speaker_ids: dict[str, int]) -> ProgrammeItem:
    row = row or ProgrammeItem(event_id=event.id)
    row.position, row.kind, row.title, row.description = position, doc.kind, doc.title, doc.description
    row.starts_at, row.ends_at = aware(doc.starts), aware(doc.ends)
    row.speaker_ids = [speaker_ids[key] for key in doc.speakers]
    return row


def export_event(event: Event, tz: ZoneInfo = OSLO) -> EventDoc:
    """The event as a document; times local without offset, ids kept for round trips."""
    keys = {s.id: s.key for s in event.speakers}

    def local(value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else value.astimezone(tz).replace(tzinfo=None)

    return EventDoc(
        **{name: getattr(event, name) for name in SCALARS},
        slug=event.slug,
        type=event.event_type,
        occurrences=[OccurrenceDoc(
            slug=o.slug, city=o.city, venue=o.venue, address=o.address, regions=list(o.regions),
            starts=local(o.starts_at), ends=local(o.ends_at),  # type: ignore[arg-type]
            registration_deadline=local(o.registration_deadline),
            capacity_in_person=o.capacity_in_person, capacity_online=o.capacity_online,
            online=o.online, serves_food=o.serves_food) for o in event.occurrences],
        speakers=[SpeakerDoc(key=s.key, id=s.id, name=s.name, role=s.role,
                             organisation=s.organisation) for s in event.speakers],
        programme=[BlockDoc(
            title=b.title, id=b.id, starts=local(b.starts_at), ends=local(b.ends_at),
            items=[ItemDoc(title=i.title, id=i.id, kind=i.kind, description=i.description,
                           starts=local(i.starts_at), ends=local(i.ends_at),
                           speakers=[keys[s] for s in i.speaker_ids if s in keys])
                   for i in b.items]) for b in event.blocks],
        themes=[ThemeDoc(slug=t.slug, title=t.title, brief=t.brief) for t in event.themes],
        quotas=[QuotaDoc(limit=q.limit, organisation_kind=q.organisation_kind,
                         organisation=q.organisation.name if q.organisation else None,
                         region=q.region)
                for q in event.quotas],
        questions=[msgspec.convert(q, QuestionDoc) for q in event.registration_questions],
    )


