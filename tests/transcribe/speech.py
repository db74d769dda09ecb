"""Speech for transcription tests: espeak-ng's Klatt voice (which PocketSphinx's US English
model recognises roughly), written as WAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

SENTENCE = ("the president said on tuesday that the government will increase the budget "
            "for schools and hospitals next year")
KNOWN = {"president", "tuesday", "government", "hospitals"}


def speak(path: Path, text: str = SENTENCE, repeat: int = 1) -> Path:
    """`text` (said `repeat` times, a pause between) as a WAV file at `path`."""
    said = " . . . ".join([text] * repeat)
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "130", "-w", str(path), said],
                   check=True, capture_output=True)
    return path
