"""The OpenAPI description, built from the routes: each endpoint carries an `openapi` dict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route

from live.schema import EventDoc

error_schema: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. registration.closed"},
        "message": {"type": "string", "description": "Human-readable, in the UI language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def op(summary: str, description: str = "", *, body: dict[str, Any] | None = None,
       responses: dict[str, str] | None = None, tag: str = "events") -> dict[str, Any]:
    """One operation of the description; error responses use the shared error schema."""
    result: dict[str, Any] = {"summary": summary, "description": description, "tags": [tag]}
    if body is not None:
        result["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": body}}}
    result["responses"] = {
        code: {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"} if code[0] in "45" else {}}}}
        for code, text in (responses or {"200": "OK"}).items()
    }
    return result


def build_spec(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        operation = getattr(route.endpoint, "openapi", None)
        if operation is None:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = operation
    (_event_schema,), components = msgspec.json.schema_components([EventDoc], ref_template=
                                                            "#/components/schemas/{name}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Salen API", "version": "1",
                 "description": "Events, registration, Q&A, streams and recordings. "
                                "Authenticate with a session cookie (plus X-CSRF-Token on "
                                "writes) or `Authorization: Bearer <SALEN_ADMIN_TOKEN>`."},
        "paths": paths,
        "components": {"schemas": {**components, "Error": error_schema},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
