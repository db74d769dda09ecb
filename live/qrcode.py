"""QR codes as inline SVG, drawn on the server (segno): join addresses, check-in tokens.

Pages embed the returned markup directly, so the code works without JavaScript and without
an image request; the SVG scales to its box (no fixed width) and carries a title for
screen readers.
"""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(data: str, *, title: str, dark: str = "#000", light: str = "#fff") -> Markup:
    """The QR code of `data` as an inline <svg> element labelled `title`."""
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(
        scale=1, border=4, dark=dark, light=light, title=title,
        omitsize=True, svgclass="qr", lineclass=None,
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))
