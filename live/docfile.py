"""Read event documents from YAML or JSON, with errors that name the field and the line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import yaml

from live.errors import Invalid
from live.schema import EventDoc

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
    """Convert parsed data to an EventDoc; Invalid names the field (and line, when known)."""
    try:
        return msgspec.convert(_with_seconds(data), EventDoc, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        path = match.group(1).lstrip(".") if match else ""
        reason = _PATH.sub("", message).strip(" -")
        line = (lines or {}).get(path)
        where = f" (line {line})" if line else ""
        raise Invalid(f"{path or 'document'}{where}: {reason}", code="event.invalid",
                      fields={path or "document": reason + where}) from exc


def parse_event_text(text: str, filename: str = "event.yaml") -> EventDoc:
    """Parse a YAML or JSON event document."""
    if filename.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid(f"{filename} line {exc.lineno}: {exc.msg}", code="event.invalid") from exc
        return to_event_doc(data)
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
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
