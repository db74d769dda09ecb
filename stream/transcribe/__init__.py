"""Offline speech recognition of recordings into draft WebVTT captions.

    transcribe_file(src, dst, engine, *, work=folder, progress=callback) -> Transcript

Blocking, and meant for a worker process (`python -m stream.transcribe`, see `worker`):
recognition takes seconds per minute of audio and holds the CPU. The audio is decoded and
resampled by PyAV to 16 kHz mono 16-bit PCM and handed to the engine in chunks of
`CHUNK_SECONDS`, so memory stays flat however long the recording is. After each chunk the
cues so far and the time reached are saved in a checkpoint in `work`; a run that finds a
checkpoint for the same source resumes from there. The WebVTT file is written to a hidden
sibling and renamed over `dst` only when complete: `dst` is never half-written.

Engines (`engines.py`) share one interface, `Engine.transcribe(pcm, offset) -> [Segment]`:
`pocketsphinx` (its PyPI wheel ships an English model; the test engine) and
`faster-whisper` (CTranslate2; the production path, with a model directory such as the
National Library's NB-Whisper).
"""

from stream.transcribe.audio import NoAudio, pcm_chunks
from stream.transcribe.engines import Engine, Segment, make_engine
from stream.transcribe.job import Transcript, transcribe_file

__all__ = ["Engine", "NoAudio", "Segment", "Transcript", "make_engine", "pcm_chunks",
           "transcribe_file"]
