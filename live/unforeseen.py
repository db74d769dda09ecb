"""Errors no handler foresaw, logged once per kind a minute with a count of the rest.

A client can trigger the same bug on every request or frame; logging a traceback each
time lets it flood the log. `UnforeseenLog.exception` logs the first of a kind (the
exception's type and the place it was raised) with its traceback, then only counts that
kind until `interval` seconds have passed; the next one logged says how many were left
out. The socket dispatcher (`live.realtime.dispatch`) and the HTTP edge (`live.web`) each
keep one. It remembers at most `MAX_KINDS` kinds, forgetting the oldest.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

# Kinds remembered; past this the oldest is forgotten (and may be logged again at once).
MAX_KINDS = 256


@dataclasses.dataclass(slots=True)
class _Seen:
    logged_at: float
    suppressed: int = 0


def kind_of(exc: BaseException) -> tuple[str, str]:
    """The exception's type and where it was raised (`file:line` of the innermost frame)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    return f"{type(exc).__module__}.{type(exc).__qualname__}", where


class UnforeseenLog:
    """Logs each kind of unforeseen error at most once per `interval` seconds."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.interval, self.clock = logger, interval, clock
        self._seen: dict[tuple[str, str], _Seen] = {}

    def exception(self, exc: BaseException, what: str, *args: object) -> bool:
        """Log `what % args` with `exc`'s traceback unless its kind was logged lately.

        Returns whether it was logged.
        """
        return self._log(exc, logging.ERROR, what, *args)

    def warning(self, exc: BaseException, what: str, *args: object) -> bool:
        """Log `what % args` and `exc` in one line, no traceback (a known outside cause),
        unless its kind was logged lately."""
        return self._log(exc, logging.WARNING, what + ": %r", *args, exc)

    def _log(self, exc: BaseException, level: int, what: str, *args: object) -> bool:
        kind, now = kind_of(exc), self.clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen.logged_at < self.interval:
            seen.suppressed += 1
            return False
        left_out = seen.suppressed if seen is not None else 0
        self._seen.pop(kind, None)
        if len(self._seen) >= MAX_KINDS:
            del self._seen[next(iter(self._seen))]
        self._seen[kind] = _Seen(now)
        if left_out:
            what += " (and %d more like it, not logged, since it was last logged)"
            args = (*args, left_out)
        self.logger.log(level, what, *args, exc_info=exc if level >= logging.ERROR else None)
        return True
