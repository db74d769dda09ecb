"""Speech recognition engines behind one interface.

    engine = make_engine("pocketsphinx" | "faster-whisper", model=None | "/dir", language="nb")
    engine.transcribe(pcm, offset) -> [Segment(start, end, text), ...]

`pcm` is 16 kHz mono signed 16-bit little-endian audio (`stream.transcribe.audio`), `offset`
the seconds at which it begins; segments carry times in the recording's seconds. An engine
is loaded once and fed every chunk of a recording in order.

- `pocketsphinx`: CMU PocketSphinx; its PyPI wheel carries a US English model, used when
  `model` is None (a folder with `hmm/`, `lm.bin` and `dict.dic` gives another one). Speech
  regions are found with its voice activity detector and decoded one by one; fast (a few
  times real time on one core) and rough. It is the test suite's engine.
- `faster-whisper`: Whisper on CTranslate2, the production path; `model` is a model folder
  (e.g. NB-Whisper converted to CTranslate2) or a model name. Imported only when chosen.
"""

from __future__ import annotations

import array
import dataclasses
import io
from pathlib import Path
from typing import Any, Protocol

from live.errors import Invalid

RATE = 16000
MAX_CUE_SECONDS = 7.0  # longer speech regions are split at word boundaries


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of recognised speech: seconds from the recording's start, and its words."""

    start: float
    end: float
    text: str


class Engine(Protocol):
    """What the transcription job needs of a recogniser."""

    name: str

    def transcribe(self, pcm: bytes, offset: float) -> list[Segment]: ...


class EngineUnavailable(Invalid):
    """The configured engine or its model cannot be loaded."""

    code = "transcribe.engine"


def make_engine(name: str, model: str | None = None, language: str = "nb") -> Engine:
    """The engine called `name`, loaded; EngineUnavailable if it is unknown or missing."""
    if name == "pocketsphinx":
        return PocketsphinxEngine(model)
    if name == "faster-whisper":
        return FasterWhisperEngine.load(model, language)
    raise EngineUnavailable(f"Unknown transcription engine {name!r} (pocketsphinx, faster-whisper).")


class PocketsphinxEngine:
    """PocketSphinx: voice activity detection, then one utterance per speech region."""

    name = "pocketsphinx"

    def __init__(self, model: str | None = None) -> None:
        try:
            import pocketsphinx  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EngineUnavailable("pocketsphinx is not installed (pip install pocketsphinx).") from exc
        options: dict[str, Any] = {"samprate": RATE, "loglevel": "FATAL"}
        if model:
            folder = Path(model)
            options.update(hmm=str(folder / "hmm"), lm=str(folder / "lm.bin"),
                           dict=str(folder / "dict.dic"))
        try:
            self._decoder = pocketsphinx.Decoder(**options)
        except (RuntimeError, ValueError) as exc:
            raise EngineUnavailable(f"The pocketsphinx model could not be loaded: {exc}") from exc
        self._segmenter_type: Any = pocketsphinx.Segmenter
        self._frame_rate = int(self._decoder.config["frate"])

    def transcribe(self, pcm: bytes, offset: float) -> list[Segment]:
        """Each speech region of `pcm`, decoded, as one or more segments."""
        # A fresh segmenter per chunk: its times count from the chunk's start.
        segmenter = self._segmenter_type(sample_rate=RATE)
        regions = [(r.start_time, r.pcm) for r in segmenter.segment(io.BytesIO(pcm))]
        if segmenter.speech_frames:  # speech still going at the chunk's end
            regions.append((segmenter.speech_start, b"".join(segmenter.speech_frames)))
        out: list[Segment] = []
        for start, audio in regions:
            out.extend(_group(self._words(audio, offset + start)))
        return out

    def _words(self, audio: bytes, start: float) -> list[tuple[float, float, str]]:
        """The words recognised in one speech region, with times from `start`."""
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        return [
            (start + w.start_frame / self._frame_rate,
             start + (w.end_frame + 1) / self._frame_rate, w.word)
            for w in decoder.seg()
            if not w.word.startswith(("<", "[")) and w.word != "(NULL)"
        ]


def _group(words: list[tuple[float, float, str]]) -> list[Segment]:
    """Words into segments of at most MAX_CUE_SECONDS; `word(2)` alternates lose the `(2)`."""
    segments: list[Segment] = []
    current: list[tuple[float, float, str]] = []
    for word in words:
        if current and word[1] - current[0][0] > MAX_CUE_SECONDS:
            segments.append(_segment(current))
            current = []
        current.append(word)
    if current:
        segments.append(_segment(current))
    return segments


def _segment(words: list[tuple[float, float, str]]) -> Segment:
    text = " ".join(w[2].split("(")[0] for w in words)
    return Segment(round(words[0][0], 3), round(words[-1][1], 3), text)


class FasterWhisperEngine:
    """faster-whisper's `WhisperModel.transcribe`, mapped onto the interface."""

    name = "faster-whisper"

    def __init__(self, model: Any, language: str) -> None:
        self._model = model
        self._language = language

    @classmethod
    def load(cls, model: str | None, language: str) -> FasterWhisperEngine:
        """Load `model` (a CTranslate2 model folder or name) on the CPU, int8."""
        if not model:
            raise EngineUnavailable("faster-whisper needs a model: set SALEN_TRANSCRIBE_MODEL.")
        try:
            from faster_whisper import WhisperModel  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise EngineUnavailable(
                "faster-whisper is not installed (pip install faster-whisper)."
            ) from exc
        try:
            loaded = WhisperModel(model, device="cpu", compute_type="int8", cpu_threads=1)
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineUnavailable(f"The Whisper model could not be loaded: {exc}") from exc
        return cls(loaded, language)

    def transcribe(self, pcm: bytes, offset: float) -> list[Segment]:
        """One Whisper pass over the chunk (float samples in [-1, 1)); its segments, shifted."""
        samples = array.array("h")
        samples.frombytes(pcm)
        audio = _float_samples(samples)
        segments, _info = self._model.transcribe(
            audio, language=self._language, vad_filter=True, condition_on_previous_text=False
        )
        return [
            Segment(round(offset + s.start, 3), round(offset + s.end, 3), s.text.strip())
            for s in segments
            if s.text.strip()
        ]


def _float_samples(samples: array.array[int]) -> Any:
    """numpy float32 array when numpy is there (faster-whisper brings it), else a list."""
    try:
        import numpy  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return [s / 32768.0 for s in samples]
    return numpy.frombuffer(samples.tobytes(), dtype=numpy.int16).astype(numpy.float32) / 32768.0
