"""Word cloud entries made comparable: case, whitespace, punctuation and stop words.

"Grønn  Omstilling!" and "grønn omstilling" count as one entry; "the climate" counts as
"climate". Stop words for bokmål, nynorsk and English ship in `stopwords.json` beside this
module; its `_source` names where each list comes from (the npm packages `stopword` and
`stopwords-iso`, both MIT). An event's blocked words are checked by the caller.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

STOPWORDS_FILE = Path(__file__).with_name("stopwords.json")
# Letters, digits, and the joiners inside words ("e-post", "don't").
_TOKEN = re.compile(r"[\w][\w'’-]*", re.UNICODE)


@functools.cache
def stopwords() -> frozenset[str]:
    """Every shipped stop word (bokmål, nynorsk and English), lower case."""
    data = json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))
    return frozenset(
        w.lower() for lang, words in data.items() if not lang.startswith("_") for w in words
    )


def normalise_word(word: str) -> str:
    """One word in the form it is counted: NFC, lower case, trimmed."""
    return unicodedata.normalize("NFC", word).casefold().strip()


def normalise_entry(entry: str, stop: frozenset[str]) -> str:
    """An entry's words in lower case, one space apart, without stop words ("" if none left)."""
    tokens = _TOKEN.findall(normalise_word(entry))
    return " ".join(t for t in tokens if t not in stop)


def blocked_set(words: Iterable[str]) -> frozenset[str]:
    """An organiser's blocked words in the form entries are compared with."""
    return frozenset(normalise_word(w) for w in words if w.strip())
