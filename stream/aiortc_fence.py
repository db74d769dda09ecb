"""The only module that touches aiortc's and aioice's private attributes.

Checked against aiortc 1.16.0 and aioice 0.13.0 (aiortc is pinned to 1.16.0 for this).
Salen forwards encoded frames instead of letting aiortc decode and re-encode them, and
binds its own ICE host addresses; neither is public API, so every hook lives here:

- `RTCRtpReceiver._RTCRtpReceiver__decoder_queue`: a `queue.Queue` fed with
  `(codec, JitterFrame)` for each reassembled frame and read by a decoder thread; `None`
  stops that thread. `tap_receiver` swaps in a queue that hands frames to a callback and
  only passes the stop signal on, so nothing is decoded.
- `RTCRtpReceiver._send_rtcp_pli(ssrc)`: `request_keyframe` asks the publisher for one.
- `RTCRtpSender._send_keyframe()`: called on a viewer's PLI or FIR; with pre-encoded
  packets aiortc ignores it, so `on_keyframe_request` reroutes it.
- `RTCIceGatherer._connection` (the aioice `Connection`) and its `_components`,
  `_local_candidates`, `_local_candidates_start`, `_local_candidates_end`:
  `limit_host_candidates` gathers host candidates on exactly the given addresses (aioice
  leaves out 127.0.0.1 and offers every interface otherwise).

(`RTCRtpSender` sending an `av.Packet` returned by a track's `recv()` without encoding it
is public behaviour.) `check_internals()` fails loudly when any hook has moved;
`tests/test_stream_fence.py` checks what each hook does on real loopback peers.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Coroutine
from typing import Any

from aioice import Connection
from aiortc import RTCIceGatherer, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_CONNECTION_FIELDS = (
    "_components",
    "_local_candidates",
    "_local_candidates_start",
    "_local_candidates_end",
)
FrameCallback = Callable[[RTCRtpCodecParameters, JitterFrame], None]


class AiortcInternalsChanged(RuntimeError):
    """aiortc or aioice no longer has the private hooks Salen relies on."""


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
    """Raise `AiortcInternalsChanged` unless every hook this module uses is present."""
    hooks: list[tuple[str, object, tuple[str, ...]]] = [
        ("RTCRtpReceiver", RTCRtpReceiver, ("_send_rtcp_pli", "_handle_rtp_packet")),
        ("RTCRtpSender", RTCRtpSender, ("_send_keyframe",)),
        ("RTCIceGatherer", RTCIceGatherer(iceServers=[]), ("_connection",)),
        ("aioice.Connection", Connection(ice_controlling=True), _CONNECTION_FIELDS),
    ]
    missing = [
        f"{label}.{name}" for label, owner, names in hooks for name in names
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


def limit_host_candidates(pc: RTCPeerConnection, addresses: list[str]) -> None:
    """Make every ICE transport of `pc` gather host candidates on `addresses` only.

    Call after the transceivers exist (after `setRemoteDescription` or `addTransceiver`)
    and before `setLocalDescription`, which is when aiortc gathers.
    """
    for transceiver in pc.getTransceivers():
        gatherer = transceiver.receiver.transport.transport.iceGatherer
        connection = getattr(gatherer, "_connection", None)
        if not isinstance(connection, Connection):
            raise AiortcInternalsChanged("RTCIceGatherer._connection is not an aioice Connection")
        connection.gather_candidates = _gatherer(connection, list(addresses))  # type: ignore[method-assign]


def _gatherer(
    connection: Connection, addresses: list[str]
) -> Callable[[], Coroutine[Any, Any, None]]:
    async def gather_candidates() -> None:
        # mirrors aioice.Connection.gather_candidates with our address list
        if connection._local_candidates_start:
            return
        connection._local_candidates_start = True
        for component in sorted(connection._components):
            connection._local_candidates += await connection.get_component_candidates(
                component=component, addresses=addresses
            )
        connection._local_candidates_end = True

    return gather_candidates
