"""H.264 Annex B helpers: split NAL units, spot keyframes, keep parameter sets at hand."""

from __future__ import annotations

from collections.abc import Iterator

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
START_CODE = b"\x00\x00\x00\x01"


def nal_units(data: bytes) -> Iterator[bytes]:
    """Yield the NAL units (without start codes) of an Annex B buffer."""
    positions: list[tuple[int, int]] = []
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        start = i + 3
        # a four-byte start code leaves a zero before the three-byte one
        begin = i - 1 if i > 0 and data[i - 1] == 0 else i
        positions.append((begin, start))
        i = data.find(b"\x00\x00\x01", start)
    for n, (_, start) in enumerate(positions):
        end = positions[n + 1][0] if n + 1 < len(positions) else len(data)
        if end > start:
            yield data[start:end]


def nal_types(data: bytes) -> set[int]:
    """The set of NAL unit types in an Annex B buffer."""
    return {nal[0] & 0x1F for nal in nal_units(data)}


def is_keyframe(data: bytes) -> bool:
    """True when the access unit holds an IDR slice."""
    return NAL_IDR in nal_types(data)


class ParameterSets:
    """Remembers the latest SPS/PPS so every keyframe can be decoded on its own."""

    def __init__(self) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    def complete(self, data: bytes) -> tuple[bytes, bool]:
        """Return (access unit, is keyframe); a keyframe lacking SPS/PPS gets the cached ones."""
        types: set[int] = set()
        for nal in nal_units(data):
            kind = nal[0] & 0x1F
            types.add(kind)
            if kind == NAL_SPS:
                self.sps = nal
            elif kind == NAL_PPS:
                self.pps = nal
        if NAL_IDR not in types:
            return data, False
        if NAL_SPS in types and NAL_PPS in types:
            return data, True
        if self.sps is None or self.pps is None:
            # an IDR nobody can decode yet: treat it as a delta frame
            return data, False
        prefix = START_CODE + self.sps + START_CODE + self.pps
        return prefix + data, True
