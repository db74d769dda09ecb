"""Whole WebSocket frames written straight to a connection's transport, for the fan-out.

Every viewer of an event gets the same bytes each tick, and server frames are unmasked, so
the complete frame (header and payload) can be built once (`text_frame`) and written to each
viewer's transport. That skips what costs most per frame on the ASGI path: the middleware
`send` wrappers, the message dict and the server's per-frame serialisation.

The server offers this through the ASGI scope: `scope["extensions"]["salen.raw"]` is a
`RawSocket` (Salen's uvicorn protocol puts it there, `live.server`). `raw_socket(scope)`
returns it, or None under any other server or test transport; the caller then keeps the
ASGI path. The contract of a `RawSocket`, once the connection is accepted:

- `write(frame)` writes one whole frame after every whole frame written before it (the
  server's own frames too, so a raw frame never interleaves with a reply, ping or close),
  and returns False, writing nothing, once the connection is closing or gone;
- `buffered()` is the number of bytes written but not yet taken by the kernel;
- `abort_later()` cuts the connection (freeing its kernel buffers) after a grace period in
  which it may still read its close frame, unless it is gone by then.

Raw frames go uncompressed (RSV1 clear) even under permessage-deflate, which RFC 7692
allows for any message and which leaves both sides' compression contexts alone.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from starlette.types import Scope
from websockets.frames import Frame, Opcode

# The key of the scope's `extensions` under which the server offers a `RawSocket`.
RAW_EXTENSION = "salen.raw"


@runtime_checkable
class RawSocket(Protocol):
    """One accepted connection's transport, for whole frames (see the module's doc)."""

    def write(self, frame: bytes) -> bool:
        """Write one whole frame; False (nothing written) once the socket is closing."""
        ...

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        ...

    def abort_later(self) -> None:
        """Cut the connection after a grace period unless it is gone by then."""
        ...


def text_frame(text: str) -> bytes:
    """One complete, unmasked, final text frame carrying `text`."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def raw_socket(scope: Scope) -> RawSocket | None:
    """The connection's `RawSocket` when the server offers one, else None."""
    raw = (scope.get("extensions") or {}).get(RAW_EXTENSION)
    return raw if isinstance(raw, RawSocket) else None
