"""Opus to AAC, for HLS and MP4 (browsers' native HLS and MP4 consumers expect AAC)."""

from __future__ import annotations

from fractions import Fraction

import av
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream

from stream.packets import AnyPacket, MediaPacket

SAMPLE_RATE = 48000
TIME_BASE = Fraction(1, SAMPLE_RATE)
# a gap longer than this in the Opus timestamps restarts the AAC clock there
RESYNC_SAMPLES = SAMPLE_RATE // 2


def add_aac_stream(container: av.container.OutputContainer) -> AudioStream:
    """An AAC output stream matching the packets `OpusToAac` produces."""
    stream = container.add_stream("aac", rate=SAMPLE_RATE)
    stream.layout = "stereo"
    stream.bit_rate = 128000
    stream.time_base = TIME_BASE
    return stream


class OpusToAac:
    """Decodes Opus and encodes AAC with one long-lived encoder (no gaps between segments)."""

    def __init__(self) -> None:
        self._decoder = av.CodecContext.create("libopus", "r")
        self._resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=SAMPLE_RATE, frame_size=1024
        )
        encoder = av.CodecContext.create("aac", "w")
        assert isinstance(encoder, AudioCodecContext)
        encoder.sample_rate = SAMPLE_RATE
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = 128000
        encoder.time_base = TIME_BASE
        self._encoder = encoder
        self._next_pts: int | None = None

    def encode(self, packet: AnyPacket, pts: int) -> list[AnyPacket]:
        """AAC packets (pts in 1/48000) for one Opus packet whose pts is `pts`."""
        packet.pts = packet.dts = pts
        packet.time_base = TIME_BASE
        out: list[AnyPacket] = []
        try:
            frames = self._decoder.decode(packet)
        except av.FFmpegError:
            return out  # a corrupt packet costs 20 ms of audio, not the stream
        for frame in frames:
            if self._next_pts is None or abs(pts - self._next_pts) > RESYNC_SAMPLES:
                self._next_pts = pts
            for chunk in self._resampler.resample(frame):
                chunk.pts = self._next_pts
                chunk.time_base = TIME_BASE
                self._next_pts += chunk.samples
                out += self._encoder.encode(chunk)
        return out

    def encode_media(self, packet: MediaPacket) -> list[AnyPacket]:
        """AAC packets for one relayed Opus frame."""
        return self.encode(packet.to_av(), packet.pts)

    def flush(self) -> list[AnyPacket]:
        """Whatever the encoder still holds."""
        return list(self._encoder.encode(None))
