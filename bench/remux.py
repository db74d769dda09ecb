"""Benchmark: our PyAV remux against `ffmpeg -c copy` on the same generated 720p recording.

    python bench/remux.py                 # 60- and 10-minute files, writes bench/results/remux.md
    python bench/remux.py --minutes 20 5  # shorter files

Test recordings are made once with the ffmpeg CLI into bench/.work/ (gitignored): a
two-minute 720p30 H.264 chunk with AAC and with Opus audio, concatenated without
re-encoding to the lengths asked for. Every measured run is its own child process, so
wall time includes start-up on both sides and peak RSS comes from `wait4()`.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results" / "remux.md"
CHUNK_SECONDS = 120
REPEATS = 3  # best of N, ours and ffmpeg alternating, after a warm-up read of the input


@dataclass(frozen=True)
class Run:
    """One measured child process."""

    seconds: float
    cpu_seconds: float  # user + system
    peak_rss_mb: float


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg CLI quietly, failing loudly."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_chunks() -> dict[str, Path]:
    """Two minutes of 720p30 H.264 (2.5 Mbit/s, keyframe every 2 s) with AAC and with Opus."""
    WORK.mkdir(parents=True, exist_ok=True)
    aac, opus = WORK / "chunk-aac.ts", WORK / "chunk-opus.ts"
    if not aac.exists():
        ffmpeg(
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(CHUNK_SECONDS), "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60",
            "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k",
            "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "mpegts", str(aac),
        )  # fmt: skip
    if not opus.exists():
        ffmpeg("-i", str(aac), "-c:v", "copy", "-c:a", "libopus", "-b:a", "96k", str(opus))
    return {"aac": aac, "opus": opus}


def make_recording(chunk: Path, minutes: int) -> Path:
    """Concatenate copies of a chunk (no re-encoding) into a `minutes`-long TS recording."""
    target = WORK / f"rec-{chunk.stem.removeprefix('chunk-')}-{minutes}min.ts"
    if target.exists():
        return target
    listing = WORK / f"{target.stem}.txt"
    copies = max(1, round(minutes * 60 / CHUNK_SECONDS))
    listing.write_text("".join(f"file '{chunk.name}'\n" for _ in range(copies)))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(target))
    return target


def measure(argv: list[str]) -> Run:
    """Wall time and peak RSS of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed with {child.returncode}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def compare(mine: list[str], theirs: list[str]) -> tuple[Run, Run]:
    """Run both commands REPEATS times, alternating; keep each one's best times, largest RSS."""
    runs: tuple[list[Run], list[Run]] = ([], [])
    for _ in range(REPEATS):
        runs[0].append(measure(mine))
        runs[1].append(measure(theirs))
    return best(runs[0]), best(runs[1])


def best(runs: list[Run]) -> Run:
    """Fastest wall and CPU time of a series; peak RSS is the largest seen."""
    return Run(
        min(r.seconds for r in runs),
        min(r.cpu_seconds for r in runs),
        max(r.peak_rss_mb for r in runs),
    )


def ours(function: str, src: Path, dst: Path) -> list[str]:
    """Command line running one of our packaging functions in a fresh interpreter."""
    code = (
        "import sys; from stream.package import remux_to_mp4, package_hls_vod; "
        f"{function}(sys.argv[1], sys.argv[2])"
    )
    return [sys.executable, "-c", code, str(src), str(dst)]


def cases(src: Path, out: Path, audio: str) -> list[tuple[str, list[str], list[str]]]:
    """(label, our command, ffmpeg's command doing the same work) for one input."""
    mp4, hls = out / "out.mp4", out / "hls"
    hls.mkdir(parents=True, exist_ok=True)
    acodec = ["-c:a", "copy"] if audio == "aac" else ["-c:a", "aac", "-b:a", "128k"]
    ff = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-map", "0:v:0", "-map", "0:a:0"]
    return [
        (
            f"MP4 (faststart), {audio} audio",
            ours("remux_to_mp4", src, mp4),
            [*ff, "-c:v", "copy", *acodec, "-movflags", "+faststart", str(mp4)],
        ),
        (
            f"VOD HLS 6 s segments, {audio} audio",
            ours("package_hls_vod", src, out / "hls-ours"),
            [
                *ff,
                "-c:v",
                "copy",
                *acodec,
                "-f",
                "hls",
                "-hls_time",
                "6",
                "-hls_playlist_type",
                "vod",
                "-hls_segment_filename",
                str(hls / "seg_%05d.ts"),
                str(hls / "index.m3u8"),
            ],
        ),
    ]


def warm(path: Path) -> None:
    """Read the input once so that every run starts from the page cache."""
    with path.open("rb") as f:
        while f.read(1 << 22):
            pass


def machine() -> list[str]:
    """A few lines describing where the numbers come from."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import av

    ff_version = subprocess.run(
        ["ffmpeg", "-version"], capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem_gb:.0f} GiB; {platform.platform()}",
        (
            f"- Python {platform.python_version()}, PyAV {av.__version__} "
            f"(libavformat {'.'.join(map(str, av.library_versions['libavformat']))})"
        ),
        f"- ffmpeg CLI: {ff_version}",
        "- load average (1/5/15 min) when the results were written: "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg())
        + " (a shared machine: other work ran at the same time, so absolute times are noisy;"
        " ours and ffmpeg's run back to back on the same input)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, nargs=2, default=[60, 10], metavar=("LONG", "SHORT"))
    args = parser.parse_args()
    long, short = args.minutes
    chunks = make_chunks()
    # Copy cases on both lengths (speed on the long one, memory against the short one);
    # the Opus-to-AAC case re-encodes audio, which dominates, so it runs on the short file.
    plan = [(long, "aac"), (short, "aac"), (short, "opus")]
    rows: list[str] = []
    rss: dict[tuple[str, int], float] = {}
    for minutes, audio in plan:
        src = make_recording(chunks[audio], minutes)
        warm(src)
        for label, our_cmd, ff_cmd in cases(src, WORK / f"out-{audio}-{minutes}", audio):
            mine, theirs = compare(our_cmd, ff_cmd)
            if audio == "aac":
                rss[(label.split(",")[0], minutes)] = mine.peak_rss_mb
            rows.append(row(minutes, label, src, mine, theirs))
            print(rows[-1], flush=True)
    write_results(rows, rss, long)


def row(minutes: int, label: str, src: Path, mine: Run, theirs: Run) -> str:
    """One markdown table row."""
    size_mb = src.stat().st_size / 2**20
    return (
        f"| {minutes} min ({size_mb:.0f} MiB) | {label} "
        f"| {mine.seconds:.1f} s | {theirs.seconds:.1f} s | **{theirs.seconds / mine.seconds:.2f}×** "
        f"| {mine.cpu_seconds:.1f} s | {theirs.cpu_seconds:.1f} s "
        f"| {theirs.cpu_seconds / mine.cpu_seconds:.2f}× "
        f"| {mine.peak_rss_mb:.0f} MiB | {theirs.peak_rss_mb:.0f} MiB |"
    )


def write_results(rows: list[str], rss: dict[tuple[str, int], float], longest: int) -> None:
    """Write bench/results/remux.md."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    memory = "; ".join(f"{kind}, {m} min: {v:.0f} MiB" for (kind, m), v in sorted(rss.items()))
    lines = [
        "# Remux benchmark: `stream.package` against `ffmpeg -c copy`",
        "",
        f"Generated by `python bench/remux.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        *machine(),
        "",
        (
            "Input: MPEG-TS recordings like the live recorder writes, 1280×720 30 fps H.264 "
            "(veryfast, 2.5 Mbit/s, keyframe every 2 s) from `testsrc2`, with 128 kbit/s AAC or "
            f"96 kbit/s Opus; a {CHUNK_SECONDS} s chunk concatenated without re-encoding "
            f"to {longest} minutes. Each time is the best of {REPEATS} runs from the page cache, "
            "ours and ffmpeg's alternating, "
            "each run a fresh process (interpreter/ffmpeg start-up included). "
            "Relative speed = ffmpeg time ÷ our time (goal ≥ 0.8×); CPU = user + system time of "
            "the process. With Opus input both sides "
            "re-encode the audio to AAC (ffmpeg: `-c:v copy -c:a aac`)."
        ),
        "",
        (
            "| file | output | ours (wall) | ffmpeg (wall) | relative speed (wall) "
            "| ours (CPU) | ffmpeg (CPU) | relative (CPU) | our peak RSS | ffmpeg peak RSS |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        (
            f"Peak RSS of ours by output and file length (AAC input): {memory}. "
            "Packets are streamed one at a time; what grows with length is libavformat's MP4 "
            "sample index (a few bytes per packet), the same for ffmpeg."
        ),
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
