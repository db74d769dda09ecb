"""Which recordings are alive, when each began, and what a storage failure means.

Every recording `X.ts` has a lock file `X.lock` next to it, created before the `.ts` and
held (`fcntl.flock`, exclusive) by the process that records it, from the first byte until
the recording has been finalised and handed over. The operating system releases the lock
when that process dies, however it dies, so a `.ts` whose lock can be taken is an orphan
and may be finalised at once: no guessing from ages, which cannot tell a crashed recording
from one another process on the same folder is still writing.

The lock file also carries the recording's start as JSON (`{"started_at": ISO time}`):
the wall-clock time of the first packet written, so a recovered recording keeps the start
its recorder saw, not the time of the crash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

log = logging.getLogger(__name__)
NAME_TIME = "%Y%m%dT%H%M%S%fZ"  # how a recording's file name records when it was created
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def lock_path(ts: Path) -> Path:
    """The lock file of a recording."""
    return ts.with_suffix(".lock")


class RecordingLock:
    """An exclusive lock on one recording, held for as long as this object is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, ts: Path, *, create_folder: bool = False) -> Self | None:
        """Lock the recording `ts`, or None if another live process holds it.

        OSError if the lock file cannot be created (a full or read-only folder).
        """
        path = lock_path(ts)
        if create_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(path, fd)

    def write_start(self, started_at: datetime) -> None:
        """Record when the recording began (OSError when the disk is full)."""
        if self._fd is None:
            return
        data = json.dumps({"started_at": started_at.isoformat()}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self, *, remove: bool) -> None:
        """Let go of the lock; with `remove`, delete the lock file first (the work is done)."""
        if self._fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None


def any_alive(folder: Path) -> bool:
    """Does some process hold the lock of a recording in `folder` (is its stream live)?"""
    for path in folder.glob("*.lock"):
        try:
            lock = RecordingLock.take(path.with_suffix(".ts"))
        except OSError:
            return True  # cannot tell: assume it is
        if lock is None:
            return True
        lock.release(remove=False)
    return False


def recorded_start(ts: Path) -> datetime:
    """When the recording `ts` began: its lock file's note, else its name, else its mtime."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        note = json.loads(lock_path(ts).read_text(encoding="utf-8"))
        started = datetime.fromisoformat(note["started_at"])
        return started if started.tzinfo else started.replace(tzinfo=UTC)
    with contextlib.suppress(ValueError):
        return datetime.strptime(ts.stem, NAME_TIME).replace(tzinfo=UTC)
    return datetime.fromtimestamp(ts.stat().st_mtime, UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """Why a stream's recording or live HLS cannot be written, for the organiser."""

    code: str  # storage.full | storage.read_only | storage.error
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form for the state API."""
        return {"code": self.code, "message": self.message}


def storage_problem(exc: BaseException) -> Problem | None:
    """The Problem an exception from writing recordings stands for; None if not storage.

    The message names no path: the public stream state carries it (the log names the folder).
    """
    for error in _chain(exc):
        number = getattr(error, "errno", None)
        if number in FULL:
            return Problem("storage.full", "The disk for recordings is full.")
        if number in READ_ONLY:
            return Problem("storage.read_only", "The recordings folder is read-only.")
    if any(isinstance(error, OSError) for error in _chain(exc)):
        return Problem("storage.error", "The recordings folder cannot be written to.")
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def check_folder(folder: Path) -> str | None:
    """None if recordings can be written under `folder` (made if missing); else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"recordings folder {folder}: cannot be created ({exc.strerror or exc})"
    if not folder.is_dir():
        return f"recordings folder {folder}: not a folder"
    probe = folder / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = "read-only" if exc.errno in READ_ONLY else (exc.strerror or str(exc))
        return f"recordings folder {folder}: not writable ({reason})"
    return None
