"""Every use of aiortc internals, in one place (aiortc==1.16.0 is pinned for this).

aiortc decodes what it receives and encodes what it sends. Salen forwards encoded frames
instead, which needs three hooks that aiortc does not offer publicly:

- `RTCRtpReceiver._RTCRtpReceiver__decoder_queue`: a `queue.Queue` fed with
  `(codec, JitterFrame)` for each reassembled frame, read by a decoder thread; `None`
  stops that thread. We swap it for a queue that hands frames to us and only passes the
  stop signal on, so nothing is decoded.
- `RTCRtpReceiver._send_rtcp_pli(ssrc)`: asks the publisher for a keyframe.
- `RTCRtpSender._send_keyframe()`: called when a viewer sends PLI or FIR; with
  pre-encoded packets aiortc ignores it, so we reroute it to the publisher.

(`RTCRtpSender` already sends an `av.Packet` returned by a track's `recv()` unencoded:
that is public behaviour.) `check_internals()` fails loudly when any of this moves.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
FrameCallback = Callable[[RTCRtpCodecParameters, JitterFrame], None]


class AiortcInternalsChanged(RuntimeError):
    """aiortc no longer has the private hooks packet forwarding relies on."""


class _TapQueue(queue.Queue[Any]):
    """Stands in for the decoder queue: frames go to a callback, the stop signal goes on."""

    def __init__(self, original: queue.Queue[Any], on_frame: FrameCallback) -> None:
        super().__init__()
        self._original = original
        self._on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            # the decoder thread may read either queue, depending on when we tapped
            super().put(None)
            self._original.put(None)
            return
        codec, frame = item
        self._on_frame(codec, frame)


def check_internals() -> None:
    """Raise `AiortcInternalsChanged` unless the hooks this module uses are present."""
    missing = [
        name
        for owner, name in (
            (RTCRtpReceiver, "_send_rtcp_pli"),
            (RTCRtpReceiver, "_handle_rtp_packet"),
            (RTCRtpSender, "_send_keyframe"),
            (JitterFrame, "__init__"),
        )
        if not hasattr(owner, name)
    ]
    if missing:
        raise AiortcInternalsChanged(f"aiortc lacks {', '.join(missing)}; pin aiortc==1.16.0")


def tap_receiver(receiver: RTCRtpReceiver, on_frame: FrameCallback) -> None:
    """Route the receiver's reassembled frames to `on_frame` (on the event loop) undecoded."""
    original = getattr(receiver, DECODER_QUEUE, None)
    if not isinstance(original, queue.Queue):
        raise AiortcInternalsChanged(
            f"RTCRtpReceiver.{DECODER_QUEUE} is {type(original).__name__}, expected queue.Queue"
        )
    if isinstance(original, _TapQueue):
        raise TypeError("receiver is already tapped")
    setattr(receiver, DECODER_QUEUE, _TapQueue(original, on_frame))


async def request_keyframe(receiver: RTCRtpReceiver) -> bool:
    """Send PLI for every SSRC the receiver heard lately; False when none is known yet."""
    sources = receiver.getSynchronizationSources()
    for source in sources:
        await receiver._send_rtcp_pli(source.source)
    return bool(sources)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the viewer behind `sender` sends PLI or FIR."""
    # an instance attribute shadows the method that would only flag the (unused) encoder
    sender._send_keyframe = callback  # type: ignore[method-assign]
