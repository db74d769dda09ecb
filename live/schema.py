"""The event document: one schema for YAML/JSON import and export and for the events API.

Times without an offset are local to Europe/Oslo ("2026-12-03T10:00"). Speakers are
referred to from programme items by `key`. Items, blocks and speakers may carry the `id`
an export gave them, so a round trip updates them in place instead of replacing them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from live.models import EventType, ItemKind, OrganisationKind

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$", max_length=80,
                           description="lower-case letters, digits and hyphens")]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=20_000)]
Short = Annotated[str, Meta(max_length=300)]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]


class Doc(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every document struct: unknown fields are errors, not silently dropped."""


class OccurrenceDoc(Doc, kw_only=True):
    slug: Slug
    city: Title
    venue: Short = ""
    address: Short = ""
    regions: list[Short] = []
    starts: dt.datetime
    ends: dt.datetime
    registration_deadline: dt.datetime | None = None
    capacity_in_person: Count | None = None
    capacity_online: Count | None = None
    online: bool = False
    serves_food: bool = False


class SpeakerDoc(Doc, kw_only=True):
    key: Annotated[str, Meta(min_length=1, max_length=80)]
    id: int | None = None
    name: Short = ""
    role: Short = ""
    organisation: Short = ""


class ItemDoc(Doc, kw_only=True):
    title: Annotated[str, Meta(min_length=1, max_length=300)]
    id: int | None = None
    kind: ItemKind = ItemKind.TALK
    description: Text = ""
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    speakers: list[str] = []


class BlockDoc(Doc, kw_only=True):
    title: Short = ""
    id: int | None = None
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    items: list[ItemDoc] = []


class ThemeDoc(Doc, kw_only=True):
    slug: Slug
    title: Title
    brief: Text = ""


class QuotaDoc(Doc, kw_only=True):
    limit: Annotated[int, Meta(ge=1, le=10_000)]
    organisation_kind: OrganisationKind | None = None
    organisation: Short | None = None


class QuestionDoc(Doc, kw_only=True):
    key: Slug
    label: Short
    required: bool = False
    choices: list[Short] = []


class EventDoc(Doc, kw_only=True):
    slug: Slug
    title: Title
    summary: Text = ""
    description: Text = ""
    target_group: Text = ""
    host: Short = ""
    type: EventType = EventType.SEMINAR
    contact_email: Short = ""
    published: bool = True
    streamed: bool = False
    stream_url: Short = ""
    registration_open: bool = True
    occurrences: Annotated[list[OccurrenceDoc], Meta(min_length=1)]
    speakers: list[SpeakerDoc] = []
    programme: list[BlockDoc] = []
    themes: list[ThemeDoc] = []
    quotas: list[QuotaDoc] = []
    questions: list[QuestionDoc] = []


def json_schema() -> dict[str, object]:
    """The JSON Schema of an event document (also used in the OpenAPI description)."""
    return msgspec.json.schema(EventDoc)
