"""Benchmark: offline transcription speed and memory with the test engine (PocketSphinx).

    python bench/transcribe.py                        # 10 and 60 minutes; bench/results/transcribe.md
    python bench/transcribe.py --minutes 0.5 1 --out -   # a quick look, printed

For each length an AAC file of espeak-ng speech (one generated passage, repeated) is written, then the worker process (`python -m stream.transcribe`, exactly what
the server runs) transcribes it pinned to one core (`taskset -c 1` when there is one).
Reported: the real-time factor (worker CPU seconds / audio seconds; below 1 is faster than
real time) and wall time, and the worker's peak RSS (`getrusage` of the child), which
should not grow with the length: the audio is streamed in 30-second chunks.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av

PASSAGE = (
    "the president said on tuesday that the government will increase the budget for schools "
    "and hospitals next year . the regional council will meet again in the spring to discuss "
    "roads , trains and the new plan for business and culture . thank you all for coming ."
)


def speech_file(folder: Path, minutes: float) -> Path:
    """`minutes` of speech as AAC in an .m4a, written frame by frame (flat memory here too)."""
    wav = folder / "passage.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "140", "-w", str(wav), PASSAGE],
                   check=True, capture_output=True)
    with av.open(str(wav)) as source:
        frames = [f for f in source.decode(audio=0)]
    out_path = folder / f"speech-{minutes:g}min.m4a"
    with av.open(str(out_path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=48000)
        target, written = minutes * 60 * 48000, 0
        while written < target:
            for frame in frames:
                frame.pts = None
                for fixed in resampler.resample(frame):
                    fixed.pts = written
                    written += fixed.samples
                    out.mux(stream.encode(fixed))
        out.mux(stream.encode(None))
    return out_path


def run_worker(src: Path, work: Path) -> dict[str, float]:
    """Transcribe `src` in the worker process on one core; its CPU, wall time and peak RSS."""
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [*pin, sys.executable, "-m", "stream.transcribe", str(src), str(work / "out.vtt"),
         "--work", str(work / "w"), "--engine", "pocketsphinx", "--language", "en"],
        check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with av.open(str(src)) as probe:
        seconds = float(probe.duration or 0) / 1_000_000
    cues = (work / "out.vtt").read_text(encoding="utf-8").count(" --> ")
    # ru_maxrss of children is the largest child so far: the runs go from short to long
    return {"audio_s": seconds, "cpu_s": cpu, "wall_s": wall, "rss_mib": after.ru_maxrss / 1024,
            "cues": cues}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "transcribe.md"),
                        help="markdown file, or - to print")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        for minutes in sorted(args.minutes):
            folder = Path(tmp) / f"{minutes:g}"
            folder.mkdir()
            src = speech_file(folder, minutes)
            result = run_worker(src, folder)
            rows.append((minutes, result))
            print(f"{minutes:g} min: {result}", file=sys.stderr)
    lines = [
        "# Transcription: PocketSphinx (the test engine) on one core",
        "",
        (f"`python bench/transcribe.py --minutes {' '.join(f'{m:g}' for m in args.minutes)}` on "
         f"{platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()}); the "
         "worker process pinned to core 1. Real-time factor = worker CPU / audio length."),
        "",
        "| audio | worker CPU | wall | real-time factor (CPU) | peak RSS | cues |",
        "|---|---|---|---|---|---|",
    ]
    for minutes, r in rows:
        lines.append(f"| {minutes:g} min | {r['cpu_s']:.1f} s | {r['wall_s']:.1f} s | "
                     f"{r['cpu_s'] / r['audio_s']:.2f} | {r['rss_mib']:.0f} MiB | {r['cues']:.0f} |")
    text = "\n".join(lines) + "\n"
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
