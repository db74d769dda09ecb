"""The editable parts of an event document: where each list lives and how it is keyed.

Every editor changes one part of the exported document and saves the whole document, so
the one set of rules in `live.events.domain.validate` applies to forms, the API and imports alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from live.errors import NotFound
from live.events import forms
from live.events.document import BlockDoc, EventDoc
from live.events.forms import N_

Params = Mapping[str, str]


@dataclass(frozen=True)
class Part:
    """One editable list in the event document (occurrences, speakers, programme items...)."""

    name: str                                  # the EventDoc attribute, e.g. "occurrences"
    template: str
    parse: Callable[[forms.FormReader, Any, EventDoc], Any]
    values: Callable[[Any], dict[str, Any]]
    key: Callable[[Any, int], str]             # URL key of an element at an index
    ordered: bool = False

    def items(self, doc: EventDoc, params: Params) -> list[Any]:
        """The list this part edits within `doc`."""
        return list(getattr(doc, self.name))

    def replace(self, doc: EventDoc, params: Params, items: list[Any]) -> EventDoc:
        """`doc` with this part's list replaced."""
        return msgspec.structs.replace(doc, **{self.name: items})

    def path(self, doc: EventDoc, params: Params, index: int) -> str:
        """The document path of an element, as `validate` names it in errors."""
        return f"{self.name}[{index}]"

    def defaults(self, doc: EventDoc, params: Params) -> dict[str, Any]:
        """Values that prefill the form for a new element."""
        return {}

    def find(self, doc: EventDoc, params: Params, key: str) -> int:
        """The index of the element with this URL key (404 when none)."""
        for index, element in enumerate(self.items(doc, params)):
            if self.key(element, index) == key:
                return index
        raise NotFound(N_("No such part of this event."), code="event.part_not_found")


class ProgrammePart(Part):
    """Blocks live under `programme`."""

    def items(self, doc: EventDoc, params: Params) -> list[Any]:
        return list(doc.programme)

    def replace(self, doc: EventDoc, params: Params, items: list[Any]) -> EventDoc:
        return msgspec.structs.replace(doc, programme=items)

    def path(self, doc: EventDoc, params: Params, index: int) -> str:
        return f"programme[{index}]"

    def defaults(self, doc: EventDoc, params: Params) -> dict[str, Any]:
        """A new block starts when the last one ends."""
        last = doc.programme[-1] if doc.programme else None
        return {"starts": forms.local_input(last.ends)} if last and last.ends else {}


class ItemPart(Part):
    """Items live inside one block, named by the `block` path parameter (the block's id)."""

    def _block(self, doc: EventDoc, params: Params) -> int:
        for index, block in enumerate(doc.programme):
            if str(block.id) == params.get("block"):
                return index
        raise NotFound(N_("No such programme block."), code="event.part_not_found")

    def items(self, doc: EventDoc, params: Params) -> list[Any]:
        return list(doc.programme[self._block(doc, params)].items)

    def replace(self, doc: EventDoc, params: Params, items: list[Any]) -> EventDoc:
        index = self._block(doc, params)
        blocks: list[BlockDoc] = list(doc.programme)
        blocks[index] = msgspec.structs.replace(blocks[index], items=items)
        return msgspec.structs.replace(doc, programme=blocks)

    def path(self, doc: EventDoc, params: Params, index: int) -> str:
        return f"programme[{self._block(doc, params)}].items[{index}]"

    def defaults(self, doc: EventDoc, params: Params) -> dict[str, Any]:
        """A new item starts when the block's last item ends, or when the block starts."""
        block = doc.programme[self._block(doc, params)]
        ends = [i.ends for i in block.items if i.ends]
        start = ends[-1] if ends else block.starts
        return {"starts": forms.local_input(start)} if start else {}


def _by_id(element: Any, index: int) -> str:
    return str(element.id)


PARTS: dict[str, Part] = {
    "occurrences": Part("occurrences", "admin/event_occurrence.html", forms.occurrence,
                        forms.occurrence_values, lambda o, i: o.slug),
    "blocks": ProgrammePart("programme", "admin/event_block.html", forms.block,
                            forms.block_values, _by_id, ordered=True),
    "items": ItemPart("items", "admin/event_item.html", forms.item, forms.item_values, _by_id,
                      ordered=True),
    "speakers": Part("speakers", "admin/event_speaker.html", forms.speaker,
                     forms.speaker_values, lambda s, i: s.key),
    "themes": Part("themes", "admin/event_theme.html", forms.theme, forms.theme_values,
                   lambda t, i: t.slug, ordered=True),
    "quotas": Part("quotas", "admin/event_quota.html", forms.quota, forms.quota_values,
                   lambda q, i: str(i)),
}


def place(items: list[Any], index: int | None, element: Any) -> list[Any]:
    """Put `element` at `index` (None: append); moving is `live.events.manage`'s."""
    result = list(items)
    if index is None:
        result.append(element)
    else:
        result[index] = element
    return result


def without_speaker(doc: EventDoc, key: str) -> EventDoc:
    """`doc` with every programme item's reference to speaker `key` dropped."""
    blocks = [msgspec.structs.replace(b, items=[
        msgspec.structs.replace(i, speakers=[s for s in i.speakers if s != key])
        for i in b.items]) for b in doc.programme]
    return msgspec.structs.replace(doc, programme=blocks)


def field_errors(fields: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Document-path errors as form-field errors: "occurrences[2].ends" -> "ends"."""
    result: dict[str, str] = {}
    for path, message in fields.items():
        if path.startswith(prefix + "."):
            result.setdefault(path[len(prefix) + 1:], message)
        else:
            result.setdefault(forms.FORM_ERROR, message)
    return result
