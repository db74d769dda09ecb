"""The OpenAPI description, built from the routes: `@operation(...)` describes an endpoint.

`build_spec(routes)` lists every route whose endpoint carries an operation. A request body
given as a msgspec Struct is referred to by name and its JSON Schema (with the structs it
uses) goes into the components, so this module knows no feature's types.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from starlette.routing import BaseRoute, Route

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Body = dict[str, Any] | type[msgspec.Struct]

# Attributes on the endpoint (functools.wraps copies them onto wrappers).
_OPERATION = "openapi"
# `{recording_id:id}` in a route is `{recording_id}` in OpenAPI's path templates.
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_SCHEMAS = "openapi_schemas"

error_schema: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. registration.closed"},
        "message": {"type": "string", "description": "Human-readable, in the UI language"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def op(summary: str, description: str = "", *, body: Body | None = None,
       responses: dict[str, str] | None = None, tag: str = "events") -> dict[str, Any]:
    """One operation of the description; error responses use the shared error schema."""
    result: dict[str, Any] = {"summary": summary, "description": description, "tags": [tag]}
    if isinstance(body, type):
        body = {"$ref": f"#/components/schemas/{body.__name__}"}
    if body is not None:
        result["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": body}}}
    result["responses"] = {
        code: {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"} if code[0] in "45" else {}}}}
        for code, text in (responses or {"200": "OK"}).items()
    }
    return result


def operation(summary: str, description: str = "", *, body: Body | None = None,
              responses: dict[str, str] | None = None,
              tag: str = "events") -> Callable[[Endpoint], Endpoint]:
    """Describe the decorated endpoint in the OpenAPI document (arguments as for `op`)."""
    described = op(summary, description, body=body, responses=responses, tag=tag)
    schemas = (body,) if isinstance(body, type) else ()

    def describe(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _OPERATION, described)
        setattr(endpoint, _SCHEMAS, schemas)
        return endpoint

    return describe


def build_spec(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the described routes (HEAD left out)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, type[msgspec.Struct]] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        operation = getattr(route.endpoint, _OPERATION, None)
        if operation is None:
            continue
        schemas.update((t.__name__, t) for t in getattr(route.endpoint, _SCHEMAS, ()))
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(_CONVERTOR.sub(r"{\1}", route.path), {})[method.lower()] = operation
    _, components = msgspec.json.schema_components(
        [schemas[name] for name in sorted(schemas)], ref_template="#/components/schemas/{name}")
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
