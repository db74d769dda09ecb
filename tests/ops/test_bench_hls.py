"""bench/hls.py's parts that decide its figures: the stream it serves, nginx's static peer,
wrk's report, and the viewers a core serves from the CPU per request."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from bench import hls
from bench.pages import parse_wrk
from stream.hls import Segment, render_playlist
from tests.support.deploy import MAIN_CONF, NGINX, site_config
from tests.support.servers import free_port

WRK_REPORT = """\
Running 3s test @ http://127.0.0.1:8000/live/bench/seg_00006.ts
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    25.00ms   10.00ms   1.60s    70.00%
    Req/Sec     1.20k   100.00     1.40k    80.00%
  Latency Distribution
     50%   20.00ms
     75%   30.00ms
     90%  400.00us
     99%    1.50s
  3600 requests in 3.00s, 2.10GB read
Requests/sec:   1200.00
Transfer/sec:    700.00MB
"""


def test_stream_is_six_real_segments_of_a_2_5_mbit_stream(tmp_path: Path) -> None:
    """The live folder gets six 2 s H.264 + AAC MPEG-TS segments, each at least the size
    2.5 Mbit/s gives, and the playlist Salen's own writer renders for them."""
    segment, playlist = hls.write_stream(tmp_path / "live" / "bench")
    folder = segment.parent
    names = sorted(p.name for p in folder.glob("seg_*.ts"))
    assert names == [f"seg_{i:05d}.ts" for i in range(1, 7)]
    assert segment.name == "seg_00006.ts"
    assert playlist.read_text() == render_playlist([Segment(i, 2.0) for i in range(1, 7)], False)
    for name in names:
        size = (folder / name).stat().st_size
        assert size >= 625_000 - 188 and size % 188 == 0
        with av.open(str(folder / name)) as container:
            assert sorted(s.codec_context.name for s in container.streams) == ["aac", "h264"]
            assert container.duration is not None and 1.9 < container.duration / 1e6 < 2.2
            assert any(p.size for p in container.demux(video=0))


def test_static_peer_sends_the_file_and_files_stays_internal(tmp_path: Path) -> None:
    """nginx with the benchmark's peer location sends a recordings file with the cache header a
    worker sets for it, while the shipped /_files/ location still refuses outside requests."""
    recordings, listen = tmp_path / "rec", free_port()
    (recordings / "live" / "bench").mkdir(parents=True)
    (recordings / "live" / "bench" / "seg_00001.ts").write_bytes(b"\x47" * 188 * 10)
    (recordings / "live" / "bench" / "index.m3u8").write_text("#EXTM3U\n")
    site = site_config([free_port()], listen, recordings, tmp_path / "access.log")
    (tmp_path / "salen.conf").write_text(hls.static_location(site))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the test's folders
    (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(prefix=tmp_path, user=user))
    args = [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
            "-e", str(tmp_path / "error.log"), "-g", "daemon off;"]
    nginx = subprocess.Popen(args, stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{listen}"
        segment = _get_when_up(f"{base}/bench-static/live/bench/seg_00001.ts", nginx)
        assert segment.status_code == 200 and segment.content == b"\x47" * 188 * 10
        assert segment.headers["cache-control"] == "public, max-age=86400, immutable"
        playlist = httpx.get(f"{base}/bench-static/live/bench/index.m3u8")
        assert playlist.headers["cache-control"] == "public, max-age=1"
        assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert httpx.get(f"{base}/_files/live/bench/seg_00001.ts").status_code == 404
    finally:
        nginx.terminate()
        nginx.wait(timeout=15)


def _get_when_up(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    for _ in range(600):
        assert process.poll() is None, "nginx exited"
        try:
            return httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not answer {url}")


def test_wrk_report_gives_rate_count_and_p99_in_ms() -> None:
    """wrk's --latency report gives requests/s, the request count and p99 in ms whatever its
    unit; a report with failed replies is an error, not a figure."""
    run = parse_wrk(WRK_REPORT)
    assert (run.rps, run.requests, run.p99_ms) == (1200.0, 3600, 1500.0)
    with pytest.raises(RuntimeError, match="wrk failed"):
        parse_wrk(WRK_REPORT + "  Non-2xx or 3xx responses: 7\n")


def _row(file: str, way: str, size: int, workers: float, nginx: float) -> dict[str, Any]:
    return {"file": file, "way": way, "bytes": size, "rps": 1000.0, "p99_ms": 10.0,
            "requests": 3000, "cpu_us": {"workers": workers, "redis": 0.0, "nginx": nginx},
            "server_core": 1.0, "gen_core": 0.5}


def test_viewers_per_core_follow_from_cpu_per_request() -> None:
    """A viewer costs a segment and a playlist request every 2 s: 150 + 50 µs and 40 + 10 µs
    make 125 µs of CPU a second, so a core serves 8,000 viewers, and the report says so with
    the egress they take."""
    rows = [_row("segment", "checked", 625_000, 150, 50), _row("playlist", "checked", 250, 40, 10),
            _row("segment", "static", 625_000, 0, 50), _row("playlist", "static", 250, 0, 10)]
    cap = hls.capacity(rows, "checked")
    assert round(cap["viewers"]) == 8000
    assert cap["gbit"] == pytest.approx(8000 * 625_250 * 8 / 2 / 1e9)
    assert round(hls.capacity(rows, "static")["viewers"]) == 33_333
    text = hls.report({"rows": rows, "seconds": 3.0, "connections": 32})
    assert "one core serves about 8,000 viewers" in text
    assert "segment: checked/static 1.00 × the requests/s, 4.0 × the CPU per request." in text
