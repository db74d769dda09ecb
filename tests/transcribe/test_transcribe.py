"""Offline transcription: PocketSphinx end to end in a worker process, crash and resume,
recordings without sound, and the faster-whisper adapter's mapping."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stream.package.captions import parse_captions
from stream.package.synth import make_test_video
from stream.transcribe.engines import FasterWhisperEngine, Segment
from stream.transcribe.worker import TranscriptionFailed, is_running, run_worker
from tests.transcribe.speech import KNOWN, speak

ROOT = Path(__file__).resolve().parents[2]


def test_worker_recognises_espeak_speech(tmp_path: Path) -> None:
    """The worker process turns spoken English into WebVTT cues holding the words said."""
    src = speak(tmp_path / "speech.wav")
    dst = tmp_path / "captions" / "en.vtt"
    seen: list[float] = []
    cues = asyncio.run(run_worker(src, dst, tmp_path / "work", engine="pocketsphinx", model="",
                                  language="en", progress=seen.append))
    captions = parse_captions(dst.read_text(encoding="utf-8"))
    words = set(" ".join(c.text for c in captions.cues).split())
    assert cues == len(captions.cues) > 0
    assert len(words & KNOWN) >= 2, words
    assert seen[-1] == 1.0
    assert not (tmp_path / "work" / "checkpoint.json").exists()


def _worker(src: Path, dst: Path, work: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stream.transcribe", str(src), str(dst), "--work", str(work),
         "--engine", "pocketsphinx", "--language", "en", "--chunk-seconds", "3"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_killed_worker_leaves_no_half_file_and_resumes(tmp_path: Path) -> None:
    """A worker killed mid-way leaves no caption file; the next run resumes from its checkpoint."""
    src = speak(tmp_path / "speech.wav", repeat=3)
    dst = tmp_path / "captions" / "en.vtt"
    work = tmp_path / "work"
    proc = _worker(src, dst, work)
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert 0 < first["progress"] < 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert not dst.exists()
    assert not dst.parent.exists() or not list(dst.parent.iterdir())
    assert (work / "checkpoint.json").exists()
    again = _worker(src, dst, work)
    out, _ = again.communicate()
    last = json.loads(out.strip().splitlines()[-1])
    assert again.returncode == 0 and last["done"]
    assert last["resumed_at"] > 0
    assert parse_captions(dst.read_text(encoding="utf-8")).cues


def test_recording_without_audio_is_a_clear_refusal(tmp_path: Path) -> None:
    """A video without sound: the worker refuses with transcribe.no_audio and a plain message."""
    src = make_test_video(tmp_path / "silent.ts", 2, audio_codec=None)
    dst = tmp_path / "en.vtt"
    with pytest.raises(TranscriptionFailed) as caught:
        asyncio.run(run_worker(src, dst, tmp_path / "work", engine="pocketsphinx", model="",
                               language="en"))
    assert caught.value.code == "transcribe.no_audio"
    assert "no sound" in caught.value.message
    assert not dst.exists()


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    """An engine name that does not exist is refused with transcribe.engine."""
    src = speak(tmp_path / "speech.wav", text="hello")
    with pytest.raises(TranscriptionFailed) as caught:
        asyncio.run(run_worker(src, tmp_path / "en.vtt", tmp_path / "w", engine="nope",
                               model="", language="en"))
    assert caught.value.code == "transcribe.engine"


class StandInWhisper:
    """Stands in for faster_whisper.WhisperModel (no real model can be had here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def transcribe(self, audio: Any, **options: Any) -> tuple[Any, Any]:
        self.calls.append((audio, options))
        segments = [SimpleNamespace(start=0.5, end=2.0, text=" God morgen "),
                    SimpleNamespace(start=2.5, end=3.0, text="  ")]
        return iter(segments), SimpleNamespace(language="nb")


def test_faster_whisper_adapter_maps_segments() -> None:
    """The adapter hands Whisper float samples and the language, and shifts segment times."""
    model = StandInWhisper()
    engine = FasterWhisperEngine(model, "nb")
    pcm = (16384).to_bytes(2, "little", signed=True) * 16000
    assert engine.transcribe(pcm, 30.0) == [Segment(30.5, 32.0, "God morgen")]
    audio, options = model.calls[0]
    assert options["language"] == "nb"
    assert len(audio) == 16000 and abs(float(audio[0]) - 0.5) < 1e-6


def _kill_workers() -> None:
    """SIGKILL this process's `stream.transcribe` children (a crash we can really cause)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"stream.transcribe" in cmdline:
            os.kill(int(stat.parent.name), signal.SIGKILL)


def test_crash_under_run_worker_is_a_clear_error_and_resumes(tmp_path: Path) -> None:
    """A worker killed mid-way makes run_worker fail with "start it again to resume", leaves
    no caption file, and the next run finishes from the checkpoint."""
    src = speak(tmp_path / "speech.wav", repeat=3)
    dst = tmp_path / "captions" / "en.vtt"
    work = tmp_path / "work"

    def crash(fraction: float) -> None:
        _kill_workers()

    with pytest.raises(TranscriptionFailed) as caught:
        asyncio.run(run_worker(src, dst, work, engine="pocketsphinx", model="", language="en",
                               progress=crash, chunk_seconds=3))
    assert caught.value.code == "transcribe.failed"
    assert "start it again to resume" in caught.value.message
    assert not dst.exists() and (work / "checkpoint.json").exists()
    cues = asyncio.run(run_worker(src, dst, work, engine="pocketsphinx", model="",
                                  language="en"))
    assert cues == len(parse_captions(dst.read_text(encoding="utf-8")).cues) > 0


def test_second_worker_on_the_same_recording_is_refused(tmp_path: Path) -> None:
    """While one process holds the recording's transcription lock, a worker is refused with
    transcribe.running (several server processes never transcribe one recording twice)."""
    import fcntl

    work = tmp_path / "work"
    work.mkdir()
    with open(work / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert is_running(work)
        with pytest.raises(TranscriptionFailed) as caught:
            asyncio.run(run_worker(speak(tmp_path / "s.wav", text="hello"), tmp_path / "en.vtt",
                                   work, engine="pocketsphinx", model="", language="en"))
    assert caught.value.code == "transcribe.running"
    assert not is_running(work)
