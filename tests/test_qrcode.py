"""live/qrcode.py: inline SVG QR codes."""

from live.qrcode import qr_svg


def test_qr_svg_is_labelled_scalable_svg() -> None:
    """The code is an inline SVG with a title, a role and no fixed size."""
    svg = str(qr_svg("https://salen.example/j/ABC123", title="Bli med på spørsmål"))
    assert svg.startswith('<svg role="img" ')
    assert "<title>Bli med på spørsmål</title>" in svg
    assert 'width="' not in svg.split(">", 1)[0]
    assert "<path" in svg


def test_qr_svg_escapes_title() -> None:
    """A title with markup is escaped, not injected."""
    svg = str(qr_svg("x", title="<b>&"))
    assert "<b>" not in svg
