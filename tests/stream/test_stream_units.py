"""Stream building blocks without sockets: H.264 parsing, ICE settings, SDP checks, relay, playlist."""

from __future__ import annotations

import asyncio

import pytest

from live.errors import BadRequest
from stream.h264 import ParameterSets, is_keyframe, nal_types
from stream.hls import Segment, render_playlist
from stream.ice import IceConfig
from stream.packets import MediaPacket, Timeline
from stream.relay import Relay
from stream.sdp import check_offer

SPS = b"\x67\x42\xc0\x1f\x00"
PPS = b"\x68\xce\x3c\x80"
IDR = b"\x65\x88\x84\x00"
SLICE = b"\x41\x9a\x00"


def annexb(*nals: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


def test_nal_types_with_three_and_four_byte_start_codes() -> None:
    """Both start code lengths split into the right NAL units."""
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x01" + IDR
    assert nal_types(data) == {7, 8, 5}
    assert is_keyframe(data) and not is_keyframe(annexb(SLICE))


def test_keyframe_without_parameter_sets_gets_cached_ones() -> None:
    """An IDR sent without SPS/PPS is prefixed with the last ones seen."""
    sets = ParameterSets()
    assert sets.complete(annexb(SPS, PPS, IDR)) == (annexb(SPS, PPS, IDR), True)
    assert sets.complete(annexb(IDR)) == (annexb(SPS, PPS, IDR), True)
    assert sets.complete(annexb(SLICE)) == (annexb(SLICE), False)


def test_idr_before_any_parameter_set_is_not_a_keyframe() -> None:
    """Nobody could decode an IDR without SPS/PPS, so viewers keep waiting."""
    assert ParameterSets().complete(annexb(IDR))[1] is False


def test_ice_settings_parse_bind_announce_and_servers() -> None:
    """Addresses, NAT announcements and STUN/TURN URLs with credentials are parsed."""
    ice = IceConfig.parse(
        "127.0.0.1, 10.0.0.5=203.0.113.7", "stun:stun.example.org, turn:al:pw@turn.example.org:3478"
    )
    assert ice.bind_addresses() == ["127.0.0.1", "10.0.0.5"]
    links = ice.link_headers()
    assert links[0] == '<stun:stun.example.org>; rel="ice-server"'
    assert links[1].startswith(
        '<turn:turn.example.org:3478>; rel="ice-server"; username="al"; credential="pw"'
    )
    sdp = "a=candidate:1 1 udp 2130706431 10.0.0.5 5000 typ host\r\nc=IN IP4 10.0.0.5\r\n"
    assert ice.announce(sdp) == sdp.replace("10.0.0.5", "203.0.113.7")


@pytest.mark.parametrize("value", ["", "not-an-ip", "127.0.0.1=nope"])
def test_bad_ice_addresses_are_refused(value: str) -> None:
    """Settings that name no usable address raise ValueError at start-up."""
    with pytest.raises(ValueError):
        IceConfig.parse(value)


OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na={direction}\r\n"
    "a=rtcp-mux\r\na=rtpmap:102 {codec}/90000\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:sha-256 "
    + ":".join(["AB"] * 32)
    + "\r\na=setup:actpass\r\n"
)


def test_good_offer_passes() -> None:
    """A sendonly H.264 offer is accepted for publishing."""
    assert check_offer(OFFER.format(direction="sendonly", codec="H264"), "publish").kinds == (
        "video",
    )


@pytest.mark.parametrize(
    ("text", "role", "code"),
    [
        ("", "publish", "sdp.empty"),
        ("hello", "publish", "sdp.malformed"),
        ("v=0\r\nm=video x\r\n", "publish", "sdp.malformed"),
        (OFFER.format(direction="sendonly", codec="VP8"), "publish", "sdp.codec"),
        (OFFER.format(direction="recvonly", codec="H264"), "publish", "sdp.direction"),
        (OFFER.format(direction="sendonly", codec="H264"), "view", "sdp.direction"),
    ],
)
def test_bad_offers_say_why(text: str, role: str, code: str) -> None:
    """Malformed or unsuitable offers raise BadRequest with a specific code."""
    with pytest.raises(BadRequest) as caught:
        check_offer(text, role)  # type: ignore[arg-type]
    assert caught.value.code == code and caught.value.message


async def test_relay_new_viewer_waits_for_keyframe_and_asks_for_one() -> None:
    """A new video track drops frames until a keyframe; joining asks the publisher for one."""
    requests: list[int] = []
    relay = Relay(lambda: requests.append(1))
    _, video = relay.subscribe()
    assert requests == [1]
    relay.publish(MediaPacket("video", annexb(SLICE), 0, False))
    relay.publish(MediaPacket("video", annexb(SPS, PPS, IDR), 3000, True))
    relay.publish(MediaPacket("video", annexb(SLICE), 6000, False))
    first = await asyncio.wait_for(video.recv(), 1)
    assert first.is_keyframe and first.pts == 3000
    assert (await video.recv()).pts == 6000 and video.dropped == 1


async def test_relay_slow_viewer_is_reset_not_blocking() -> None:
    """A full viewer queue is emptied and that viewer waits for the next keyframe."""
    relay = Relay(lambda: None)
    _, slow = relay.subscribe()
    relay.publish(MediaPacket("video", annexb(IDR), 0, True))
    for n in range(1, 200):
        relay.publish(MediaPacket("video", annexb(SLICE), n, False))
    assert slow.waiting_for_keyframe and slow.dropped > 0
    relay.publish(MediaPacket("video", annexb(IDR), 500, True))
    assert (await slow.recv()).pts == 500


def test_timeline_aligns_tracks_on_arrival() -> None:
    """Each track starts at its arrival offset and then follows its RTP clock."""
    timeline = Timeline()
    assert timeline.pts("video", 1000, now=10.0) == 0
    assert timeline.pts("audio", 5000, now=10.5) == 24000
    assert timeline.pts("video", 1000 + 90000, now=11.2) == 90000


def test_playlist_lists_window_and_ends() -> None:
    """The playlist carries target duration, media sequence and ENDLIST when over."""
    text = render_playlist([Segment(4, 2.0), Segment(5, 2.4)], ended=True)
    assert "#EXT-X-TARGETDURATION:3" in text and "#EXT-X-MEDIA-SEQUENCE:4" in text
    assert text.splitlines()[-3:] == ["#EXTINF:2.400,", "seg_00005.ts", "#EXT-X-ENDLIST"]


def test_relay_asks_for_a_keyframe_when_the_publisher_sends_none() -> None:
    """Browsers send keyframes only on request; past the interval the relay asks for one."""
    requests: list[int] = []
    relay = Relay(lambda: requests.append(1), keyframe_interval=2.0)
    relay.publish(MediaPacket("video", annexb(SPS, PPS, IDR), 0, True))
    relay.publish(MediaPacket("video", annexb(SLICE), 90000, False))
    assert requests == []
    relay.publish(MediaPacket("video", annexb(SLICE), 90000 * 3, False))
    assert requests == [1]
