"""Checking an SDP offer before any peer connection is built, so bad input gets a clear 400."""

from __future__ import annotations

import dataclasses
from typing import Literal

from aiortc import sdp

from live.errors import BadRequest

Role = Literal["publish", "view"]
WANTED = {"video": "H264", "audio": "opus"}


@dataclasses.dataclass(frozen=True, slots=True)
class Offer:
    """A parsed offer: the SDP and the media kinds it carries, in order."""

    sdp: str
    kinds: tuple[str, ...]


def check_offer(text: str, role: Role) -> Offer:
    """Parse an offer and check it fits `role`; raise `BadRequest` with the reason."""
    if not text.strip():
        raise BadRequest("The body must be an SDP offer.", code="sdp.empty")
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if not text.startswith("v=0"):
        raise BadRequest("An SDP offer starts with 'v=0'.", code="sdp.malformed")
    try:
        description = sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises whatever it trips on
        raise BadRequest(f"The SDP offer cannot be parsed: {exc}", code="sdp.malformed") from exc
    media = [m for m in description.media if m.kind in WANTED]
    if not media:
        raise BadRequest("The offer has no audio or video section.", code="sdp.no_media")
    kinds: list[str] = []
    for section in media:
        if section.kind in kinds:
            raise BadRequest(
                f"The offer has more than one {section.kind} section.", code="sdp.media"
            )
        kinds.append(section.kind)
        _check_section(section, role)
    if role == "publish" and "video" not in kinds:
        raise BadRequest("A published stream needs video.", code="sdp.no_video")
    return Offer(text, tuple(kinds))


def _check_section(section: sdp.MediaDescription, role: Role) -> None:
    sending = section.direction in ("sendonly", "sendrecv")
    receiving = section.direction in ("recvonly", "sendrecv")
    if role == "publish" and not sending:
        raise BadRequest(
            f"The {section.kind} section must be sendonly to publish.", code="sdp.direction"
        )
    if role == "view" and not receiving:
        raise BadRequest(
            f"The {section.kind} section must be recvonly to view.", code="sdp.direction"
        )
    wanted = WANTED[section.kind]
    names = {codec.mimeType.split("/")[-1].lower() for codec in section.rtp.codecs}
    if wanted.lower() not in names:
        raise BadRequest(
            f"The {section.kind} section must offer {wanted} (it offers "
            f"{', '.join(sorted(names)) or 'nothing'}).",
            code="sdp.codec",
        )
    ice = section.ice
    if ice is None or ice.usernameFragment is None or ice.password is None:
        raise BadRequest("The offer lacks ICE credentials.", code="sdp.ice")
    if section.dtls is None or not section.dtls.fingerprints:
        raise BadRequest("The offer lacks a DTLS fingerprint.", code="sdp.dtls")
