"""One error tree for Salen. Each error carries a machine-readable `code` and an HTTP status.

    SalenError
    ├── BadRequest (400)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── Invalid (422)  -- carries field-level messages
    ├── TooMany (429)
    └── Unavailable (503)

Errors are turned into HTTP responses in `live.web.errors` and into WebSocket error
replies in the socket dispatcher; nowhere else.
"""

from __future__ import annotations


class SalenError(Exception):
    """Root of every error Salen turns into a reply."""

    status = 500
    code = "internal"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.headers = headers or {}

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class BadRequest(SalenError):
    status = 400
    code = "bad_request"


class Unauthorized(SalenError):
    status = 401
    code = "unauthorized"


class Forbidden(SalenError):
    status = 403
    code = "forbidden"


class NotFound(SalenError):
    status = 404
    code = "not_found"


class Conflict(SalenError):
    status = 409
    code = "conflict"


class Invalid(SalenError):
    status = 422
    code = "invalid"


class TooMany(SalenError):
    status = 429
    code = "rate_limited"


class Unavailable(SalenError):
    status = 503
    code = "unavailable"


# Seconds a client is asked to wait (`Retry-After`) when the database refuses for now.
RETRY_AFTER = 5


def database_unavailable() -> Unavailable:
    """The reply to a database that is locked or unreachable for now."""
    return Unavailable("The service is busy; try again in a moment.",
                       headers={"Retry-After": str(RETRY_AFTER)})
