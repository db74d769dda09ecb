"""Live HLS through nginx: a worker's check (X-Accel-Redirect) against nginx alone, one run.

    python -m bench.hls                          # 10 s per measurement, markdown printed
    python -m bench.hls --seconds 3              # a smoke run
    python -m bench.hls --out bench/results/hls.md

The setup is bench/deploy.py's (bench/procs.py `nginx_fleet`): two `salen serve` workers
sharing a SQLite file, redis-server, and Debian's nginx with deploy/nginx/salen.conf in
front, every server process on core 0; `wrk` runs on core 1. The workers run with
`SALEN_ACCEL_REDIRECT=/_files`, as deploy/salen.env ships them.

The published benchmark event gets a live HLS folder where the stream library writes one
(`LiveStreams.hls_folder`): six 2-second segments `seg_00001.ts`... of real MPEG-TS
(H.264 720p30 and AAC, encoded here with PyAV from FFmpeg's test sources, then padded with
MPEG-TS null packets to the size 2.5 Mbit/s gives, about 625 kB) and the `index.m3u8`
Salen's own writer renders for them, written once the workers run (a starting worker drops
live HLS no stream writes). No stream is published: `_hls_file` only checks that the event
may be watched and that the file exists; the segments are never parsed.

Measured side by side, with the same wrk settings:
- checked: `/live/{slug}/{file}` through nginx to a worker, which checks and answers with
  `X-Accel-Redirect`, and nginx sends the file (the deployment's path);
- static: the same file from nginx alone, through a benchmark-only location that is the
  shipped `/_files/` location without `internal` (same alias, types, sendfile and headers).
For the newest segment and for the playlist: requests/s, p99 latency, and CPU per request
of the workers, nginx and redis-server (from /proc of their pinned pids). From the CPU per
request follows how many viewers one core serves (a viewer fetches one segment and one
playlist per segment, every 2 s) and the bandwidth those viewers take: far more than a
network card carries, so at scale the network is the limit and a CDN the answer.

On SQLite whether the event is published is remembered per database change, so a check
costs no query; on PostgreSQL each check reads it (one query per request).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.machine import CoreTimes, describe, process_cpu
from bench.pages import CONNECTIONS, wrk_run
from bench.procs import SLUG, WORK, BenchError, Fleet, fresh_database, nginx_fleet, salen_env

SEGMENT_SECONDS = 2.0
SEGMENTS = 6
BITRATE = 2_500_000  # bits a second, audio and video
FPS = 30
TS_PACKET = 188
NULL_PACKET = b"\x47\x1f\xff\x10" + b"\xff" * (TS_PACKET - 4)
STATIC = "/bench-static/"
GENERATOR_LIMIT = 0.85
LINK_GBIT = 10.0  # a server's network link


def hls_folder(database_url: str) -> Path:
    """The live HLS folder of the benchmark event, as the stream library names it."""
    from live.settings import Settings
    from stream.manager import LiveStreams

    return LiveStreams(Settings.from_env(salen_env(database_url))).hls_folder(SLUG)


def write_stream(folder: Path) -> tuple[Path, Path]:
    """Six real segments and their playlist in `folder`; returns (newest segment, playlist)."""
    import av

    from stream.hls import PLAYLIST, Segment, render_playlist

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    out = av.open(str(folder / "seg_%05d.ts"), "w", format="segment",
                  options={"segment_time": f"{SEGMENT_SECONDS:g}", "segment_format": "mpegts",
                           "segment_start_number": "1"})
    video = out.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
    video.bit_rate = BITRATE - 600_000  # x264 overshoots; padding makes up the rest
    video.options = {"preset": "ultrafast", "g": str(int(FPS * SEGMENT_SECONDS)),
                     "keyint_min": str(int(FPS * SEGMENT_SECONDS)), "sc_threshold": "0",
                     "maxrate": "2100k", "bufsize": "2100k"}
    audio = out.add_stream("aac", rate=48000)
    audio.bit_rate, audio.layout = 128_000, "stereo"
    pictures = _source("testsrc2", f"size=1280x720:rate={FPS}", "format", "yuv420p")
    sound = _source("sine", "frequency=440:sample_rate=48000:samples_per_frame=1024",
                    "aformat", "sample_fmts=fltp:channel_layouts=stereo")
    samples = 0
    for i in range(int(FPS * SEGMENT_SECONDS * SEGMENTS)):
        frame = pictures.pull()
        frame.pts, frame.time_base = i, Fraction(1, FPS)
        out.mux(video.encode(frame))
        while samples < (i + 1) * 48000 / FPS:
            chunk = sound.pull()
            chunk.pts, chunk.time_base = samples, Fraction(1, 48000)
            samples += chunk.samples
            out.mux(audio.encode(chunk))
    out.mux(video.encode(None))
    out.mux(audio.encode(None))
    out.close()
    names = sorted(p for p in folder.iterdir() if p.suffix == ".ts")
    for path in names:
        pad_segment(path, int(BITRATE * SEGMENT_SECONDS / 8))
    (folder / PLAYLIST).write_text(render_playlist(
        [Segment(int(p.stem.removeprefix("seg_")), SEGMENT_SECONDS) for p in names], False))
    return names[-1], folder / PLAYLIST


def _source(name: str, args: str, convert: str, convert_args: str) -> Any:
    """An FFmpeg source filter (lavfi) converted for the encoder, as a pullable graph."""
    import av

    graph = av.filter.Graph()
    source, fmt = graph.add(name, args), graph.add(convert, convert_args)
    sink = graph.add("abuffersink" if convert == "aformat" else "buffersink")
    source.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    return graph


def pad_segment(path: Path, size: int) -> None:
    """Append MPEG-TS null packets until `path` is `size` bytes (whole packets; never cut)."""
    missing = (size - path.stat().st_size) // TS_PACKET
    if missing > 0:
        with path.open("ab") as f:
            f.write(NULL_PACKET * missing)


def static_location(site: str) -> str:
    """The site configuration plus the benchmark's peer: the `/_files/` location, not internal,
    at STATIC, with the Cache-Control a worker would have set."""
    from live.streaming.whip import PLAYLIST_CACHE, SEGMENT_CACHE

    block = re.search(r"^    location /_files/ \{\n.*?^    \}\n", site, re.DOTALL | re.MULTILINE)
    if block is None or "    location / {\n" not in site:
        raise BenchError("deploy/nginx/salen.conf no longer has the /_files/ location")
    peer = (block.group(0).replace("location /_files/ {", f"location {STATIC} {{")
            .replace("        internal;\n", "        add_header Cache-Control $bench_cache;\n"))
    cache = (f'map $uri $bench_cache {{\n    ~\\.m3u8$  "{PLAYLIST_CACHE}";\n'
             f'    default  "{SEGMENT_CACHE}";\n}}\n')
    return cache + site.replace("    location / {\n", peer + "\n    location / {\n", 1)


def check_paths(fleet: Fleet, pairs: dict[str, tuple[str, str, Path]]) -> None:
    """Before measuring: both paths give the file's bytes and cache headers, and a worker asked
    directly answers the checked path with X-Accel-Redirect (not the file itself)."""
    import httpx

    base = f"http://127.0.0.1:{fleet.listen}"
    for kind, (checked, static, path) in pairs.items():
        body = path.read_bytes()
        for url in (checked, static):
            got = httpx.get(base + url, timeout=10)
            if got.status_code != 200 or got.content != body:
                raise BenchError(f"{url}: {got.status_code}, {len(got.content)} of {len(body)} "
                                 f"bytes of {kind}: {got.text[:300]}")
            if "max-age" not in got.headers.get("cache-control", ""):
                raise BenchError(f"{url}: no cache headers ({dict(got.headers)})")
        direct = httpx.get(f"http://127.0.0.1:{fleet.ports[0]}{checked}", timeout=10)
        if "x-accel-redirect" not in direct.headers or direct.content:
            raise BenchError(f"worker answered {checked} without X-Accel-Redirect")


def measure(url: str, seconds: float, connections: int, groups: dict[str, list[int]]
            ) -> dict[str, Any]:
    """One wrk run against `url`: requests/s, p99, CPU per request of each process group."""
    cpu0 = {g: sum(process_cpu(p) for p in pids if p) for g, pids in groups.items()}
    cores0 = CoreTimes.now()
    run = wrk_run(url, seconds, connections)
    busy = CoreTimes.now().busy_since(cores0)
    cpu1 = {g: sum(process_cpu(p) for p in pids if p) for g, pids in groups.items()}
    return {"rps": run.rps, "requests": run.requests, "p99_ms": run.p99_ms,
            "cpu_us": {g: (cpu1[g] - cpu0[g]) / max(1, run.requests) * 1e6 for g in cpu0},
            "server_core": busy[0], "gen_core": busy[1] if len(busy) > 1 else 0.0}


def run(seconds: float, connections: int, log: Any) -> dict[str, Any]:
    """Start the fleet, write the stream, measure segment and playlist, checked and static."""
    url, _ = fresh_database("hls", 0)
    rows = []
    with nginx_fleet(url, "hls", {"SALEN_ACCEL_REDIRECT": "/_files"}, static_location) as fleet:
        # after the workers started: a starting worker drops live HLS no stream is writing
        started = time.monotonic()
        segment, playlist = write_stream(hls_folder(url))
        log(f"wrote {segment.name} ({segment.stat().st_size} bytes) and {playlist.name} in "
            f"{time.monotonic() - started:.1f} s")
        pairs = {kind: (f"/live/{SLUG}/{path.name}",
                        STATIC + path.relative_to(WORK / "recordings").as_posix(), path)
                 for kind, path in (("segment", segment), ("playlist", playlist))}
        check_paths(fleet, pairs)
        base = f"http://127.0.0.1:{fleet.listen}"
        for kind, (checked, static, path) in pairs.items():
            for way, target in (("checked", checked), ("static", static)):
                row = {"file": kind, "way": way, "url": target, "bytes": path.stat().st_size}
                row |= measure(base + target, seconds, connections, fleet.groups)
                log(f"{kind} {way}: {row['rps']:.0f} req/s, p99 {row['p99_ms']:.1f} ms, "
                    f"CPU µs/req {_cpu(row)}")
                rows.append(row)
    return {"rows": rows, "seconds": seconds, "connections": connections}


def _cpu(row: dict[str, Any]) -> str:
    return ", ".join(f"{g} {v:.0f}" for g, v in row["cpu_us"].items())


def capacity(rows: list[dict[str, Any]], way: str) -> dict[str, float]:
    """Viewers one core serves on `way` and the bandwidth they take: a viewer fetches one
    segment and one playlist every SEGMENT_SECONDS."""
    by = {r["file"]: r for r in rows if r["way"] == way}
    seg, pl = by["segment"], by["playlist"]
    cpu = (sum(seg["cpu_us"].values()) + sum(pl["cpu_us"].values())) / 1e6 / SEGMENT_SECONDS
    viewer_bits = (seg["bytes"] + pl["bytes"]) * 8 / SEGMENT_SECONDS
    viewers = 1 / cpu if cpu > 0 else float("inf")
    return {"viewers": viewers, "viewer_mbit": viewer_bits / 1e6,
            "gbit": viewers * viewer_bits / 1e9}


def report(result: dict[str, Any]) -> str:
    """The markdown: the table, checked/static ratios, and viewers per core with their egress."""
    rows = result["rows"]
    lines = [
        "# Live HLS through nginx (bench/hls.py)", "", *describe(), "",
        (f"`wrk -t1 -c{result['connections']} -d{result['seconds']:g}s` on core 1; two workers, "
         "redis-server and nginx (deploy/nginx/salen.conf) on core 0. *checked*: "
         "`/live/{slug}/{file}` through a worker's check and `X-Accel-Redirect`; *static*: the "
         "same file from nginx alone (the `/_files/` location without `internal`). CPU is "
         "µs per request, from /proc of the pinned processes."), "",
        ("| file | way | bytes | req/s | p99 ms | workers µs | nginx µs | redis µs "
         "| core 0 busy | core 1 busy |"),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cpu = r["cpu_us"]
        flag = " (wrk-bound)" if r["gen_core"] > GENERATOR_LIMIT else ""
        lines.append(
            f"| {r['file']} | {r['way']} | {r['bytes']:,} | {r['rps']:,.0f}{flag} | "
            f"{r['p99_ms']:.1f} | {cpu['workers']:.0f} | {cpu['nginx']:.0f} | {cpu['redis']:.0f} "
            f"| {r['server_core']:.0%} | {r['gen_core']:.0%} |")
    lines.append("")
    by = {(r["file"], r["way"]): r for r in rows}
    for kind in ("segment", "playlist"):
        checked, static = by[(kind, "checked")], by[(kind, "static")]
        cost = sum(checked["cpu_us"].values()) / max(1e-9, sum(static["cpu_us"].values()))
        lines.append(f"- {kind}: checked/static {checked['rps'] / static['rps']:.2f} × the "
                     f"requests/s, {cost:.1f} × the CPU per request.")
    lines.append("")
    for way in ("checked", "static"):
        cap = capacity(rows, way)
        link = LINK_GBIT / cap["gbit"]
        lines.append(
            f"- {way}: one core serves about {cap['viewers']:,.0f} viewers (a segment and a "
            f"playlist every {SEGMENT_SECONDS:g} s, {cap['viewer_mbit']:.2f} Mbit/s each): "
            f"{cap['gbit']:,.1f} Gbit/s of egress. A {LINK_GBIT:g} Gbit/s link is full at "
            f"{LINK_GBIT * 1e3 / cap['viewer_mbit']:,.0f} viewers, "
            f"{f'{link:.1f} cores' if link >= 1 else 'less than one core'} of this.")
    lines += ["", (
        f"*wrk-bound*: core 1 (wrk, and anything else running there) was over "
        f"{GENERATOR_LIMIT:.0%} busy, so req/s may be the generator's limit; CPU per request, "
        f"and the viewers per core from it, still hold. p99 is at saturation "
        f"({result['connections']} connections queueing), not one request's latency. "
        "Loopback: nginx's CPU includes the kernel's copy into the socket. Past a link's worth "
        "of viewers only more links help: a CDN in front (playlists cached 1 s, segments "
        "immutable) fetches each file about once per edge, so the origin's load no longer "
        "grows with the audience.")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each wrk run")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="wrk's -c")
    parser.add_argument("--out", type=Path, help="write the markdown here (default: print)")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    text = report(run(args.seconds, args.connections, log))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        log(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
