"""Form data to event-document parts, with field-level messages in the UI language."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

import msgspec
from starlette.datastructures import FormData

from live.errors import Invalid
from live.events.document import (
    BlockDoc,
    EventDoc,
    ItemDoc,
    OccurrenceDoc,
    QuotaDoc,
    SpeakerDoc,
    ThemeDoc,
)
from live.models import EventType, ItemKind, OrganisationKind

D = TypeVar("D")
E = TypeVar("E", bound=StrEnum)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MSGSPEC_PATH = re.compile(r"at `\$\.?([A-Za-z_]+)")
FORM_ERROR = "form"


def N_(message: str) -> str:
    """Mark a msgid for extraction (Babel's default keywords include N_); translated later."""
    return message


class FormInvalid(Invalid):
    """Invalid form input; `fields` are keyed by form field name, not document path."""


def slugify(text: str) -> str:
    """A URL key from a title: "Gjøvik" -> "gjovik"."""
    text = text.lower().replace("ø", "o").replace("æ", "ae").replace("å", "a")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80]


def unique_slug(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... when taken."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def local_input(value: dt.datetime | None) -> str:
    """A naive local time as a `datetime-local` input value."""
    return "" if value is None else value.strftime(LOCAL_FORMAT)


class FormReader:
    """Reads typed values from submitted form data, collecting one message per field."""

    def __init__(self, form: FormData | Mapping[str, Any], gettext: Callable[[str], str]) -> None:
        self.form, self._ = form, gettext
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def fail(self, name: str, message: str) -> None:
        """Record a message (an English msgid) for a field, keeping the first one."""
        self.errors.setdefault(name, self._(message))

    def text(self, name: str, *, required: bool = False, max_length: int = 300) -> str:
        value = self.raw(name).replace("\r\n", "\n")
        if required and not value:
            self.fail(name, N_("Fill in this field."))
        elif len(value) > max_length:
            self.fail(name, N_("The text is too long."))
        return value

    def slug(self, name: str, *, fallback: str = "", taken: set[str] | None = None) -> str:
        value = self.raw(name)
        if not value:
            derived = slugify(fallback)
            if not derived and fallback.strip():
                self.fail(name, N_("Enter an address: none can be made from the name given."))
            # An empty fallback is its own field's error; the optional slug is not missing.
            return unique_slug(derived, taken or set()) if derived else ""
        if not SLUG.match(value):
            self.fail(name, N_("Use lower-case letters, digits and hyphens only."))
        return value

    def email(self, name: str) -> str:
        value = self.text(name, max_length=200)
        if value and not EMAIL.match(value):
            self.fail(name, N_("Enter an e-mail address like name@example.no."))
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int = 0,
                maximum: int = 1_000_000) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, N_("Fill in this field."))
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(name, N_("Enter a whole number."))
            return None
        if not minimum <= number <= maximum:
            self.fail(name, N_("The number is out of range."))
        return number

    def when(self, name: str, *, required: bool = False) -> dt.datetime | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, N_("Fill in this field."))
            return None
        try:
            return dt.datetime.fromisoformat(value).replace(second=0, microsecond=0, tzinfo=None)
        except ValueError:
            self.fail(name, N_("Enter a date and time."))
            return None

    def flag(self, name: str) -> bool:
        return bool(self.raw(name))

    def choice(self, name: str, enum: type[E], *, required: bool = True) -> E | None:
        value = self.raw(name)
        if not value and not required:
            return None
        try:
            return enum(value)
        except ValueError:
            self.fail(name, N_("Choose one of the options."))
            return None

    def lines(self, name: str) -> list[str]:
        """One value per line or comma."""
        return [part.strip() for part in re.split(r"[\n,]", self.raw(name)) if part.strip()]

    def many(self, name: str) -> list[str]:
        getlist = getattr(self.form, "getlist", None)
        values = getlist(name) if getlist else [self.form.get(name, "")]
        return [str(v) for v in values if str(v).strip()]

    def build(self, kind: type[D], data: dict[str, Any]) -> D:
        """Convert to a document part (the schema's own limits), raising Invalid for all errors."""
        if not self.errors:
            try:
                return msgspec.convert(data, kind)
            except msgspec.ValidationError as exc:
                match = _MSGSPEC_PATH.search(str(exc))
                self.errors[match.group(1) if match else FORM_ERROR] = str(exc)
        raise FormInvalid(N_("Check the marked fields."), code="form.invalid",
                          fields=dict(self.errors))


def event_fields(r: FormReader) -> dict[str, Any]:
    """The event's main fields (everything but slug and parts)."""
    return {
        "title": r.text("title", required=True, max_length=200),
        "summary": r.text("summary", max_length=20_000),
        "description": r.text("description", max_length=20_000),
        "target_group": r.text("target_group", max_length=20_000),
        "host": r.text("host"),
        "type": r.choice("type", EventType),
        "contact_email": r.email("contact_email"),
        "published": r.flag("published"),
        "streamed": r.flag("streamed"),
        "stream_url": r.text("stream_url"),
        "registration_open": r.flag("registration_open"),
    }


def event_values(doc: EventDoc) -> dict[str, Any]:
    """The form values that show an event's main fields."""
    return {"slug": doc.slug, "title": doc.title, "summary": doc.summary,
            "description": doc.description, "target_group": doc.target_group, "host": doc.host,
            "type": str(doc.type), "contact_email": doc.contact_email,
            "published": doc.published, "streamed": doc.streamed, "stream_url": doc.stream_url,
            "registration_open": doc.registration_open}


def occurrence(r: FormReader, current: OccurrenceDoc | None, doc: EventDoc) -> OccurrenceDoc:
    """An occurrence from its form; the slug is fixed once created (registrations use it)."""
    city = r.text("city", required=True, max_length=120)
    slug = current.slug if current else r.slug(
        "slug", fallback=city, taken={o.slug for o in doc.occurrences})
    data = {
        "slug": slug, "city": city, "venue": r.text("venue"), "address": r.text("address"),
        "regions": r.lines("regions"), "starts": r.when("starts", required=True),
        "ends": r.when("ends", required=True),
        "registration_deadline": r.when("registration_deadline"),
        "capacity_in_person": r.integer("capacity_in_person"),
        "capacity_online": r.integer("capacity_online"),
        "online": r.flag("online"), "serves_food": r.flag("serves_food"),
    }
    return r.build(OccurrenceDoc, data)


def occurrence_values(o: OccurrenceDoc) -> dict[str, Any]:
    """Form values for an occurrence."""
    return {"slug": o.slug, "city": o.city, "venue": o.venue, "address": o.address,
            "regions": "\n".join(o.regions), "starts": local_input(o.starts),
            "ends": local_input(o.ends),
            "registration_deadline": local_input(o.registration_deadline),
            "capacity_in_person": _num(o.capacity_in_person),
            "capacity_online": _num(o.capacity_online), "online": o.online,
            "serves_food": o.serves_food}


def block(r: FormReader, current: BlockDoc | None, doc: EventDoc) -> BlockDoc:
    """A programme block's title and times; its items stay as they are."""
    data = {"title": r.text("title", max_length=200), "starts": r.when("starts"),
            "ends": r.when("ends"), "id": current.id if current else None,
            "items": [msgspec.to_builtins(i) for i in current.items] if current else []}
    return r.build(BlockDoc, data)


def block_values(b: BlockDoc) -> dict[str, Any]:
    """Form values for a block."""
    return {"title": b.title, "starts": local_input(b.starts), "ends": local_input(b.ends)}


def item(r: FormReader, current: ItemDoc | None, doc: EventDoc) -> ItemDoc:
    """A programme item; speakers are chosen among the event's speakers by key."""
    keys = {s.key for s in doc.speakers}
    speakers = r.many("speakers")
    if any(key not in keys for key in speakers):
        r.fail("speakers", N_("Choose speakers of this event."))
    data = {"title": r.text("title", required=True), "kind": r.choice("kind", ItemKind),
            "starts": r.when("starts"), "ends": r.when("ends"),
            "description": r.text("description", max_length=20_000), "speakers": speakers,
            "id": current.id if current else None}
    return r.build(ItemDoc, data)


def item_values(i: ItemDoc) -> dict[str, Any]:
    """Form values for a programme item."""
    return {"title": i.title, "kind": str(i.kind), "starts": local_input(i.starts),
            "ends": local_input(i.ends), "description": i.description,
            "speakers": list(i.speakers)}


def speaker(r: FormReader, current: SpeakerDoc | None, doc: EventDoc) -> SpeakerDoc:
    """A speaker: a person, or an organisation alone; the key is fixed once created."""
    name, organisation = r.text("name", max_length=200), r.text("organisation", max_length=200)
    if not name and not organisation:
        r.fail("name", N_("Give a name or an organisation."))
    key = current.key if current else r.slug(
        "key", fallback=name or organisation, taken={s.key for s in doc.speakers})
    data = {"key": key, "name": name, "role": r.text("role", max_length=200),
            "organisation": organisation, "id": current.id if current else None}
    return r.build(SpeakerDoc, data)


def speaker_values(s: SpeakerDoc) -> dict[str, Any]:
    """Form values for a speaker."""
    return {"key": s.key, "name": s.name, "role": s.role, "organisation": s.organisation}


def theme(r: FormReader, current: ThemeDoc | None, doc: EventDoc) -> ThemeDoc:
    """A group-work theme; the slug is fixed once created (registrations choose it)."""
    title = r.text("title", required=True, max_length=200)
    slug = current.slug if current else r.slug(
        "slug", fallback=title, taken={t.slug for t in doc.themes})
    return r.build(ThemeDoc, {"slug": slug, "title": title,
                              "brief": r.text("brief", max_length=20_000)})


def theme_values(t: ThemeDoc) -> dict[str, Any]:
    """Form values for a theme."""
    return {"slug": t.slug, "title": t.title, "brief": t.brief}


def quota(r: FormReader, current: QuotaDoc | None, doc: EventDoc) -> QuotaDoc:
    """A quota: at most `limit` from each organisation of a kind, or from one named one."""
    limit = r.integer("limit", required=True, minimum=1, maximum=10_000)
    kind = r.choice("organisation_kind", OrganisationKind, required=False)
    organisation = r.text("organisation", max_length=300) or None
    region = r.text("region", max_length=120) or None
    if (kind or region) and organisation:
        r.fail("organisation", N_("Give an organisation kind or one organisation, not both."))
    elif not kind and not organisation and not region:
        r.fail("organisation_kind", N_("Choose an organisation kind or name one organisation."))
    return r.build(QuotaDoc, {"limit": limit, "organisation_kind": kind,
                              "organisation": organisation, "region": region})


def quota_values(q: QuotaDoc) -> dict[str, Any]:
    """Form values for a quota."""
    kind = str(q.organisation_kind) if q.organisation_kind else ""
    return {"limit": _num(q.limit), "organisation_kind": kind,
            "organisation": q.organisation or "", "region": q.region or ""}


def form_values(form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """Submitted values to show again: single values as text, repeated ones as lists."""
    values: dict[str, Any] = {}
    for key in form:
        found = form.getlist(key) if isinstance(form, FormData) else [form[key]]
        values[key] = [str(v) for v in found] if key == "speakers" else str(found[-1])
    return values


def _num(value: int | None) -> str:
    return "" if value is None else str(value)
