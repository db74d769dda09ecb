"""Transcription in a worker process, and the asyncio side that starts and follows it.

The process (`python -m stream.transcribe`) writes one JSON object per line on stdout:
`{"progress": 0.42}` as chunks are done, then `{"done": true, "cues": N}`, or
`{"error": CODE, "message": TEXT}` with exit status 2 for a refusal (no audio, an engine that
cannot be loaded). Anything else (a crash, a kill) is a non-zero exit without a `done`
line; the checkpoint it left lets the next run resume (`stream.transcribe.job`).

The worker holds an exclusive `flock` on `WORK/lock` while it runs (the system drops it when
the process dies): a second worker on the same recording, from any server process, is
refused (`transcribe.running`), and `is_running(work)` tells whether one is at work.

Why a process and not a thread: recognition holds the GIL in places and the CPU for
minutes; a process keeps the server's event loop and threads unaffected, and can be killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from live.errors import Invalid


class TranscriptionFailed(Invalid):
    """The worker refused the recording or stopped without finishing."""

    code = "transcribe.failed"


def main(argv: list[str]) -> int:
    """The worker process's body; see the module for its output."""
    parser = argparse.ArgumentParser(prog="python -m stream.transcribe")
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument("--model", default="")
    parser.add_argument("--language", default="nb")
    parser.add_argument("--chunk-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    from stream.transcribe.engines import make_engine
    from stream.transcribe.job import transcribe_file

    def say(**fields: object) -> None:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()

    if (lock := _lock(args.work)) is None:
        say(error="transcribe.running", message="The recording is being transcribed already.")
        return 2
    try:
        engine = make_engine(args.engine, args.model or None, args.language)
        result = transcribe_file(args.src, args.dst, engine, work=args.work,
                                 chunk_seconds=args.chunk_seconds, progress=lambda f: say(progress=round(f, 4)))
    except Invalid as exc:
        say(error=exc.code, message=exc.message)
        return 2
    finally:
        os.close(lock)
    say(done=True, cues=len(result.segments), resumed_at=result.resumed_at)
    return 0


def _lock(work: Path) -> int | None:
    """The worker's lock on `work`, taken; None when another process holds it."""
    work.mkdir(parents=True, exist_ok=True)
    fd = os.open(work / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_running(work: Path) -> bool:
    """Does a worker (in any process on this machine) transcribe into `work` now?"""
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(work / "lock", os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return False


async def run_worker(
    src: Path, dst: Path, work: Path, *, engine: str, model: str, language: str,
    progress: Callable[[float], None] | None = None, chunk_seconds: float = 30.0,
) -> int:
    """Run the worker process to the end; the number of cues. TranscriptionFailed otherwise."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stream.transcribe", str(src), str(dst), "--work", str(work),
        "--engine", engine, "--model", model, "--language", language,
        "--chunk-seconds", str(chunk_seconds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": _import_root()},
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.ensure_future(proc.stderr.read())
    last: dict[str, object] = {}
    try:
        async for line in proc.stdout:
            try:
                last = json.loads(line)
            except ValueError:
                continue
            if "progress" in last and progress is not None:
                progress(float(last["progress"]))  # type: ignore[arg-type]
        status = await proc.wait()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    errors = (await stderr).decode("utf-8", "replace").strip().splitlines()
    if status == 0 and last.get("done"):
        return int(str(last.get("cues", 0)))
    if "error" in last:
        raise TranscriptionFailed(str(last["message"]), code=str(last["error"]))
    detail = errors[-1] if errors else f"exit status {status}"
    raise TranscriptionFailed(
        f"The transcription stopped before it was done ({detail}); start it again to resume."
    )


def _import_root() -> str:
    """The folder holding the `stream` package, first on the worker's import path."""
    root = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return f"{root}{os.pathsep}{rest}" if rest else root
