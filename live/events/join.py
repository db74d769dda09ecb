"""An event's short join address (/j/<code>) as pages show it: a link, text, a QR code.

Every event gets a join code when it is created (`live.models.events.new_join_code`, six
characters without look-alikes such as 0/O and 1/I); `/j/<code>` is served by `live.qa.join`.
Addresses follow `live.links.page_base`: SALEN_BASE_URL when set, else the request's own
host and port.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request

from live.links import page_base
from live.models import Event
from live.qrcode import qr_svg
from live.web import localiser


@dataclass(frozen=True, slots=True)
class JoinInfo:
    """The short join address of an event, as a link, as text to read aloud, and as a QR code."""

    url: str  # absolute: https://host/j/ABC234
    shown: str  # without the scheme: host/j/ABC234
    code: str
    qr: Markup


def join_info(request: Request, event: Event) -> JoinInfo | None:
    """The event's join address and QR code; None for an event without a code."""
    if not event.join_code:
        return None
    url = f"{page_base(request)}/j/{event.join_code}"
    shown = url.split("://", 1)[-1]
    title = localiser(request).gettext("QR code for %(address)s", address=shown)
    return JoinInfo(url=url, shown=shown, code=event.join_code, qr=qr_svg(url, title=title))
