"""Benchmark: server CPU per WebRTC viewer, forwarding encoded frames vs decode and re-encode.

    python bench/stream_forwarding.py                      # writes bench/results/stream.md
    python bench/stream_forwarding.py --viewers 0 4 8 16 --reencode-viewers 0 1 2 --seconds 8

Each measurement starts a fresh server child process on loopback (uvicorn + WHIP/WHEP):

- `forward`: Salen's `LiveStreams` (packet tap, `av.Packet`s to every viewer, no codec);
- `reencode`: aiortc's ordinary path, `MediaRelay` sharing the decoded track and one H.264
  encoder per viewer (what Salen would cost without the tap).

This process publishes a generated 720p30 H.264 + Opus stream (frame numbers painted in);
a third process holds the viewers, whose peers are tapped too, so they count frames without
decoding and the client side stays cheap. Latency is measured last, with server,
publisher and one decoding viewer in this one process: the viewer reads the painted
numbers and gives the loopback glass-to-glass delay (publish -> decoded, one clock). Server CPU is the child's own user+system time
(`getrusage`) over the measured window, as a share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av
import httpx
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stream import aiortc_fence
from stream import client as whip
from stream.aiortc_fence import limit_host_candidates

RESULTS = ROOT / "bench" / "results" / "stream.md"
KEY = "bench-key"
WIDTH, HEIGHT = 1280, 720


# -- server side (child process) --------------------------------------------------------


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _cpu(request: Request) -> JSONResponse:
    return JSONResponse({"cpu": _cpu_seconds(), "wall": time.monotonic()})


def forward_app(tmp: Path) -> Starlette:
    """Salen's own routes and LiveStreams."""
    from live.settings import Settings
    from live.streaming.whip import routes
    from stream.manager import LiveStreams

    settings = Settings(recordings_dir=tmp, webrtc_viewer_limit=10_000)

    async def check(request: object, slug: str, token: str) -> bool | None:
        return token == KEY

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        async with LiveStreams(settings) as streams:
            yield {"streams": streams}

    return Starlette(routes=[*routes(check), Route("/cpu", _cpu)], lifespan=lifespan)


def reencode_app() -> Starlette:
    """aiortc's ordinary path: decode once, MediaRelay, one encoder per viewer."""
    relay = MediaRelay()
    source: dict[str, MediaStreamTrack] = {}
    peers: set[RTCPeerConnection] = set()

    async def answer(pc: RTCPeerConnection, offer: str) -> Response:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        limit_host_candidates(pc, ["127.0.0.1"])
        await pc.setLocalDescription(await pc.createAnswer())
        peers.add(pc)
        return Response(
            pc.localDescription.sdp,
            201,
            media_type="application/sdp",
            headers={"Location": f"/s/{id(pc)}"},
        )

    async def whip_post(request: Request) -> Response:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.on("track", lambda track: source.__setitem__(track.kind, track))
        return await answer(pc, (await request.body()).decode())

    async def whep_post(request: Request) -> Response:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for kind in ("video", "audio"):
            if kind in source:
                pc.addTrack(relay.subscribe(source[kind]))
        return await answer(pc, (await request.body()).decode())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.gather(*(pc.close() for pc in peers))

    return Starlette(
        routes=[
            Route("/whip/{slug}", whip_post, methods=["POST"]),
            Route("/whep/{slug}", whep_post, methods=["POST"]),
            Route("/cpu", _cpu),
        ],
        lifespan=lifespan,
    )


def serve(mode: str, port: int) -> None:
    """Child process entry: serve one mode on 127.0.0.1:port until killed."""
    import tempfile

    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        app = forward_app(Path(tmp)) if mode == "forward" else reencode_app()
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- client side (this process) ---------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """Server CPU for one mode and viewer count."""

    mode: str
    viewers: int
    cpu_percent: float
    frames_per_viewer: float
    published_fps: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _counting_viewer(
    http: httpx.AsyncClient, url: str
) -> tuple[whip.ClientSession, list[int]]:
    """A WHEP viewer that counts video frames without decoding them."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    count = [0]
    for kind in ("video", "audio"):
        transceiver = pc.addTransceiver(kind, direction="recvonly")
        wanted = "video/h264" if kind == "video" else "audio/opus"
        capabilities = RTCRtpReceiver.getCapabilities(kind)
        transceiver.setCodecPreferences(
            [c for c in capabilities.codecs if c.mimeType.lower() == wanted] if capabilities else []
        )

        def on_frame(codec: object, frame: object, kind: str = kind) -> None:
            if kind == "video":
                count[0] += 1

        aiortc_fence.tap_receiver(transceiver.receiver, on_frame)
    session = await whip._negotiate(pc, http, url, {}, ["127.0.0.1"])
    return session, count


async def _latency_probe(
    http: httpx.AsyncClient, url: str, source: whip.SyntheticVideo, samples: list[float]
) -> whip.ClientSession:
    """A decoding viewer that reads painted frame numbers and records publish->decode delay."""
    session, tracks = await whip.view(http, url)

    async def consume() -> None:
        while (track := await tracks.get()).kind != "video":
            pass
        while True:
            frame = await track.recv()
            if not isinstance(frame, av.VideoFrame):
                continue  # a video track yields pictures; its type also allows packets
            sent = source.sent_at.get(whip.read_frame_number(frame))
            if sent is not None:
                samples.append((time.monotonic() - sent) * 1000)

    session.task = asyncio.ensure_future(consume())  # type: ignore[attr-defined]
    return session


async def viewers_child(base: str, count: int) -> None:
    """Child process entry: hold `count` counting viewers; print totals on each stdin line."""
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        sessions = []
        counters = []
        for _ in range(count):
            session, counter = await _counting_viewer(http, f"{base}/whep/bench")
            sessions.append(session)
            counters.append(counter)
        print("ready", flush=True)
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(" ".join(str(c[0]) for c in counters), flush=True)
        for session in sessions:
            await session.close()


async def _line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await process.stdout.readline()).decode().strip()


async def _ask(process: asyncio.subprocess.Process) -> list[int]:
    assert process.stdin is not None
    process.stdin.write(b"\n")
    await process.stdin.drain()
    return [int(x) for x in (await _line(process)).split()]


async def _wait_for_server(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        with contextlib.suppress(httpx.TransportError):
            await http.get("/cpu")
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("server child did not start")


async def measure(mode: str, viewers: int, seconds: float, warmup: float) -> Measurement:
    """Run one server child and one viewers child, and measure the server's CPU."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "serve", mode, str(port), cwd=ROOT
    )
    crowd: asyncio.subprocess.Process | None = None
    sessions: list[whip.ClientSession] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await _wait_for_server(http)
            video = whip.SyntheticVideo(WIDTH, HEIGHT, keyframe_every=60)
            sessions.append(
                await whip.publish(http, f"{base}/whip/bench", KEY, video, whip.SyntheticAudio())
            )
            await asyncio.sleep(1.0)
            crowd = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "viewers",
                base,
                str(viewers),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            if await _line(crowd) != "ready":
                raise RuntimeError("viewers child failed")
            await asyncio.sleep(warmup)
            frames_before, sent_before = await _ask(crowd), video.sent
            before = (await http.get("/cpu")).json()
            await asyncio.sleep(seconds)
            after = (await http.get("/cpu")).json()
            frames_after, sent_after = await _ask(crowd), video.sent
    finally:
        for session in sessions:
            await session.close()
        for child in (crowd, server):
            if child is not None and child.returncode is None:
                child.terminate()
                await child.wait()
    window = after["wall"] - before["wall"]
    cpu = (after["cpu"] - before["cpu"]) / window * 100
    frames = [a - b for a, b in zip(frames_after, frames_before, strict=True)]
    per_viewer = statistics.mean(frames) / window if frames else 0.0
    counted = viewers
    published = (sent_after - sent_before) / window
    return Measurement(mode, counted, cpu, per_viewer, published)


def _slope(rows: list[Measurement]) -> float:
    """CPU % of a core per viewer at 30 frames/s.

    Least squares of server CPU against viewers x published frames/s: on a busy machine
    the publisher may not keep 30 frames/s, and the server's work follows the frames it
    actually has to forward or encode, so the cost is scaled back to 30 frames/s.
    """
    xs = [r.viewers * r.published_fps for r in rows]
    ys = [r.cpu_percent for r in rows]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    per_frame = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0
    return per_frame * 30


def report(
    forward: list[Measurement],
    reencode: list[Measurement],
    load: tuple[float, float],
    latencies: list[float],
) -> str:
    """The markdown written to bench/results/stream.md."""
    lines = [
        "# WebRTC viewers: forwarding vs decode and re-encode",
        "",
        (
            f"Generated by `python bench/stream_forwarding.py` on {platform.node()} "
            f"({os.cpu_count()} CPUs, Python {platform.python_version()}), "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
        ),
        (
            f"Source: synthetic {WIDTH}x{HEIGHT} 30 fps H.264 (libx264 ultrafast, zerolatency) + Opus, "
            "published over WHIP on loopback. Server CPU is the server process's user+system time "
            "as a share of one core; viewers run in another process."
        ),
        (
            f"Load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after the run: on a "
            "shared machine other work competes with both processes, which inflates latency and "
            "starves the publisher (fewer frames/s)."
        ),
        "",
        (
            "| mode | WebRTC viewers | server CPU (% of a core) | frames/s published "
            "| frames/s per counted viewer |"
        ),
        "|---|---|---|---|---|",
    ]
    for row in [*forward, *reencode]:
        lines.append(
            f"| {row.mode} | {row.viewers} | {row.cpu_percent:.1f} | {row.published_fps:.1f} "
            f"| {row.frames_per_viewer:.1f} |"
        )
    fw, re_ = _slope(forward), _slope(reencode)
    lines += [
        "",
        (
            "Per-viewer cost: least squares of server CPU against viewers x published frames/s, "
            "scaled to 30 frames/s (so a starved publisher does not flatter either mode)."
        ),
        "",
        f"- **forward**: about **{fw:.2f} %** of a core per extra viewer"
        + (f" → about {100 / fw:.0f} viewers per core." if fw > 0 else "."),
        f"- **decode + re-encode** (aiortc `MediaRelay`, one encoder per viewer): about "
        f"**{re_:.1f} %** of a core per extra viewer"
        + (f" → about {100 / re_:.1f} viewers per core." if re_ > 0 else "."),
        (
            "- Frames/s per viewer well below 30 in the re-encode rows means the encoders could "
            "not keep up (the cost shown is then a lower bound)."
        ),
    ]
    samples = sorted(latencies)
    if samples:
        p50 = samples[len(samples) // 2]
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        lines += [
            "",
            "## Loopback glass-to-glass latency (forward mode, one process)",
            "",
            (
                "From handing a generated picture to the encoder until a WHEP viewer has decoded it "
                "(frame numbers painted into the picture, one clock): includes encoding, "
                "packetisation, the relay, the viewer's jitter buffer and decoding."
            ),
            "",
            (
                f"| samples | p50 | p95 | max |\n|---|---|---|---|\n"
                f"| {len(samples)} | {p50:.0f} ms | {p95:.0f} ms | {samples[-1]:.0f} ms |"
            ),
        ]
    return "\n".join(lines) + "\n"


async def latency_in_process(seconds: float, warmup: float) -> list[float]:
    """Publish 720p to an in-process server and time publish -> decode at one WHEP viewer.

    Everything runs in this one process, so a busy machine delays one scheduling unit
    rather than three handing packets to each other.
    """
    import tempfile

    import uvicorn

    samples: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(
            uvicorn.Config(forward_app(Path(tmp)), log_config=None, lifespan="on")
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            video = whip.SyntheticVideo(WIDTH, HEIGHT, keyframe_every=60)
            publisher = await whip.publish(
                http, f"{base}/whip/bench", KEY, video, whip.SyntheticAudio()
            )
            probe = await _latency_probe(http, f"{base}/whep/bench", video, samples)
            await asyncio.sleep(warmup)
            samples.clear()
            await asyncio.sleep(seconds)
            measured = list(samples)
            probe.task.cancel()  # type: ignore[attr-defined]
            await probe.close()
            await publisher.close()
        server.should_exit = True
        await task
    return measured


async def run(args: argparse.Namespace) -> None:
    """Measure both modes and write the report."""
    load_before = os.getloadavg()[0]
    forward = []
    for n in args.viewers:
        forward.append(await measure("forward", n, args.seconds, args.warmup))
        print(forward[-1], flush=True)
    reencode = []
    for n in args.reencode_viewers:
        reencode.append(await measure("reencode", n, args.seconds, args.warmup))
        print(reencode[-1], flush=True)
    latencies = await latency_in_process(args.seconds, args.warmup)
    text = report(forward, reencode, (load_before, os.getloadavg()[0]), latencies)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


def main() -> None:
    """Command line."""
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "viewers":
        asyncio.run(viewers_child(sys.argv[2], int(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[0, 4, 8, 16])
    parser.add_argument("--reencode-viewers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
