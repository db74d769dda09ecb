"""The bounds of what enters Salen: ids, numbers, text and nesting, checked at the edge once.

Every id a client names is a 64-bit database key (`Id`: 1 to 2**63-1); a larger one can
name nothing, and the database drivers raise `OverflowError` on it, so it is refused where
it is read. Numbers are finite (`NaN`, `Infinity` and `1e309` are refused, never stored).
Text carries no NUL (PostgreSQL cannot store it) and no lone surrogate (it cannot be
encoded as UTF-8): `text_problem` says which. JSON is at most `MAX_DEPTH` levels deep,
checked on the raw bytes before a decoder recurses into it (a frame of 5,000 nested lists
would otherwise exhaust the stack). The socket decoder (`live.realtime.envelope`), the
JSON bodies of the HTTP API (`loads`), the path convertor `id` (`live.routing`) and the
HTTP guard (`live.guard`) apply these; features annotate their struct fields with the
types here. Nothing here names a feature or imports a framework.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

import msgspec

MAX_ID = 2**63 - 1
# Nesting deeper than this is refused before decoding; no message of Salen's nests past 4.
MAX_DEPTH = 32
# The longest media time Salen accepts, in seconds (30 days: longer than any recording).
MAX_SECONDS = 30 * 24 * 3600.0

# A database key: what a client may name.
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# A count or version the database stores in a 64-bit column.
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
# Any 64-bit integer (the client's own message id, echoed back).
Int64 = Annotated[int, msgspec.Meta(ge=-MAX_ID - 1, le=MAX_ID)]
# A time in a recording, in seconds.
Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]

TEXT_MESSAGE = "Text may not contain NUL characters or unpaired surrogates."
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]{1,19}")
# JSON strings, removed before counting brackets (a bracket inside a string is text). An
# unterminated one runs to the end; possessive, so no input makes the search quadratic.
_STRINGS_B = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKETS_B = re.compile(rb"[\[\]{}]")


class TextError(ValueError):
    """A string holds a NUL or a lone surrogate; `path` says where (`$.title`)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{TEXT_MESSAGE} (at `{path}`)")
        self.path = path

    @property
    def fields(self) -> dict[str, str]:
        """The field error for a form or an API reply: `{"name": TEXT_MESSAGE}`."""
        field = self.path.removeprefix("$").removeprefix(".")
        return {field: TEXT_MESSAGE} if field else {}


class TooDeep(ValueError):
    """JSON nested deeper than `MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"The JSON is nested deeper than {MAX_DEPTH} levels.")


def text_problem(value: str) -> bool:
    """True when `value` holds a NUL or a lone surrogate (a pair never survives decoding)."""
    return _BAD_TEXT.search(value) is not None


def check_strings(value: Any, path: str = "$") -> None:
    """Raise `TextError` naming the first string (or key) in `value` that `text_problem` finds.

    Walks dicts, lists, tuples and msgspec structs, the shapes decoders produce.
    """
    if isinstance(value, str):
        if _BAD_TEXT.search(value):
            raise TextError(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, path)
            check_strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_strings(item, f"{path}[{index}]")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_strings(getattr(value, name), f"{path}.{name}")


def too_deep(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Is the JSON in `data` nested deeper than `limit`? Cheap for the usual shallow frame.

    Only a text with more than `limit` brackets can be that deep; only then are its strings
    cut out and the brackets outside them counted.
    """
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= limit:
            return False
        raw = data.encode("utf-8", "surrogatepass")
    else:
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
        raw = bytes(data)
    depth = 0
    for bracket in _BRACKETS_B.findall(_STRINGS_B.sub(b"", raw)):
        depth += 1 if bracket in b"[{" else -1
        if depth > limit:
            return True
    return False


def parse_id(text: str | None) -> int | None:
    """`text` as an `Id` when it is one written in ASCII digits, else None."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_int(text: str | None) -> int | None:
    """`text` as a 64-bit integer (ASCII digits, an optional sign), else None."""
    if text is None:
        return None
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    if not _DIGITS.fullmatch(digits):
        return None
    number = sign * int(digits)
    return number if -MAX_ID - 1 <= number <= MAX_ID else None


def finite(value: float) -> float:
    """`value` when it is a finite number, else ValueError."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return value


def _json_int(text: str) -> int:
    number = int(text)
    if not -MAX_ID - 1 <= number <= MAX_ID:
        raise ValueError(f"The number {text[:30]} is out of range.")
    return number


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"The number {text[:30]} is out of range.")
    return value


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows.")


def loads(body: bytes | str) -> Any:
    """Parse an HTTP body as JSON within Salen's bounds, else ValueError saying why.

    Numbers are finite 64-bit integers or finite floats; nesting is at most `MAX_DEPTH`
    deep; strings carry no NUL or lone surrogate (`TextError`, a ValueError).
    """
    if too_deep(body):
        raise TooDeep()
    value = json.loads(
        body, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
    )
    check_strings(value)
    return value
