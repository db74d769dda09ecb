"""The event document: one schema for YAML/JSON import and export and for the events API.

Times without an offset are local to Europe/Oslo ("2026-12-03T10:00"). Speakers are
referred to from programme items by `key`. Items, blocks and speakers may carry the `id`
an export gave them, so a round trip updates them in place instead of replacing them.
Documents are read from YAML or JSON with errors that name the field and the line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml
from msgspec import Meta, Struct

from live import bounds
from live.bounds import TEXT_MESSAGE, Id, TextError, check_strings
from live.errors import Invalid
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
    id: Id | None = None
    name: Short = ""
    role: Short = ""
    organisation: Short = ""


class ItemDoc(Doc, kw_only=True):
    title: Annotated[str, Meta(min_length=1, max_length=300)]
    id: Id | None = None
    kind: ItemKind = ItemKind.TALK
    description: Text = ""
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    speakers: list[str] = []


class BlockDoc(Doc, kw_only=True):
    title: Short = ""
    id: Id | None = None
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
    # Everybody whose organisation lies in this region counts together (with the kind, if set).
    region: Short | None = None


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


_MINUTES = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d$")
_PATH = re.compile(r"at `\$(.*)`")


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as text: times are read by the schema, in local time."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _with_seconds(value: Any) -> Any:
    """Accept "2026-12-03T10:00" where RFC 3339 wants seconds."""
    if isinstance(value, str) and _MINUTES.match(value):
        return value.replace(" ", "T") + ":00"
    if isinstance(value, list):
        return [_with_seconds(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_seconds(v) for k, v in value.items()}
    return value


def to_event_doc(data: Any, lines: dict[str, int] | None = None) -> EventDoc:
    """Convert parsed data to an EventDoc; Invalid names the field (and line, when known).

    Text holding a NUL or a lone surrogate is refused too (`live.bounds`).
    """
    try:
        check_strings(data)
        return msgspec.convert(_with_seconds(data), EventDoc, strict=False)
    except TextError as exc:
        raise _invalid(exc.path.removeprefix("$").lstrip("."), TEXT_MESSAGE, lines) from None
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        path = match.group(1).lstrip(".") if match else ""
        raise _invalid(path, _PATH.sub("", message).strip(" -"), lines) from exc


def _invalid(path: str, reason: str, lines: dict[str, int] | None) -> Invalid:
    line = (lines or {}).get(path)
    where = f" (line {line})" if line else ""
    return Invalid(f"{path or 'document'}{where}: {reason}", code="event.invalid",
                   fields={path or "document": reason + where})


def parse_event_text(text: str, filename: str = "event.yaml") -> EventDoc:
    """Parse a YAML or JSON event document."""
    if filename.endswith(".json"):
        try:
            data = bounds.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid(f"{filename} line {exc.lineno}: {exc.msg}", code="event.invalid") from exc
        except ValueError as exc:  # out of bounds (`live.bounds`)
            raise Invalid(f"{filename}: {exc}", code="event.invalid") from None
        return to_event_doc(data)
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise Invalid(f"{filename}: nested too deeply.", code="event.invalid") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise Invalid(f"{filename}{where}: {getattr(exc, 'problem', exc)}",
                      code="event.invalid") from exc
    lines: dict[str, int] = {}
    if node is not None:
        _index_lines(node, "", lines)
    return to_event_doc(data, lines)


def _index_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _index_lines(value, f"{path}[{i}]", lines)


def read_event_file(path: Path) -> EventDoc:
    return parse_event_text(path.read_text(encoding="utf-8"), path.name)


def dump_event(doc: EventDoc, fmt: str = "yaml") -> str:
    data = msgspec.to_builtins(doc)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
