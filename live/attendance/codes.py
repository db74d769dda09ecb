"""The check-in code in a registrant's mail: as text, and as an inline QR image.

The QR code travels as a PNG inside `multipart/related` next to an HTML copy of the text,
referenced by `cid:`. Mail clients show such inline images (Gmail, Outlook and Apple Mail
among them); they do not show SVG (Gmail and Outlook drop it) nor `data:` URLs (blocked by
Gmail and Outlook). The plain-text part carries the code as text, so a client without HTML
still has it, and the organiser can always find the person by name.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import make_msgid

import segno
from markupsafe import Markup, escape

from live.attendance.domain import checkin_code
from live.i18n import N_, Localiser
from live.models.registration import Attendance, Status
from live.qrcode import qr_svg
from live.registration.service import Receipt

QR_SCALE = 8  # pixels per module: about 300 px for a typical code, sharp on a phone


def checkin_png(code: str) -> bytes:
    """The check-in code as a PNG (segno writes PNG itself, no imaging library)."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=QR_SCALE, border=4)
    return buffer.getvalue()


def _html(text: str, image_cid: str | None, alt: str) -> str:
    paragraphs = "".join(
        f"<p>{escape(block).replace(chr(10), Markup('<br>'))}</p>"
        for block in text.strip().split("\n\n")
    )
    image = (
        f'<p><img src="cid:{image_cid[1:-1]}" alt="{escape(alt)}" width="240" height="240"></p>'
        if image_cid else ""
    )
    return f'<!doctype html><html><body>{paragraphs}{image}</body></html>'


def set_body(
    message: EmailMessage, text: str, receipt: Receipt, l10n: Localiser, *, checkin: bool
) -> None:
    """The message's text; with `checkin`, the code as text and as an inline QR image."""
    if not checkin:
        message.set_content(text, cte="quoted-printable")
        return
    code = checkin_code(receipt.id, receipt.token)
    text += "\n" + l10n.gettext(
        N_("Your check-in code, to show at the door (the QR code in the HTML version): %(code)s"),
        code=code,
    ) + "\n"
    message.set_content(text, cte="quoted-printable")
    cid = make_msgid(domain="checkin.salen")
    alt = l10n.gettext(N_("Check-in code %(code)s"), code=code)
    message.add_alternative(_html(text, cid, alt), subtype="html", cte="quoted-printable")
    html = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html, EmailMessage)
    html.add_related(checkin_png(code), "image", "png", cid=cid, filename="checkin.png")


def wants_checkin(receipt: Receipt) -> bool:
    """Who gets a check-in code: those with a place in the room."""
    return receipt.attendance == Attendance.IN_PERSON


def checkin_view(receipt: Receipt, title: str) -> dict[str, object] | None:
    """The personal page's check-in code (text and inline SVG), for a place in the room."""
    if receipt.status != Status.CONFIRMED or not wants_checkin(receipt):
        return None
    code = checkin_code(receipt.id, receipt.token)
    return {"code": code, "svg": qr_svg(code, title=title)}
