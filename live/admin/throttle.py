"""The login throttle: increasing waits per account and per client address, in the database.

Every login attempt counts against its account and its client address, and is counted
before the password is checked (`charge`), so that attempts sent in parallel cannot slip
past the count while the first of them is still being checked; a successful login takes
its charge back (`succeeded`): the account's count is cleared and the address's lowered by
one. Once a counter has its free failures (`ACCOUNT_FREE`; `ADDRESS_FREE` is higher, as an
office shares one address), each further attempt must wait 2**n seconds after the one
before (n = failures beyond the free ones), up to `MAX_WAIT`. An attempt that does not
wait is refused, the right password too, and still counts: hammering only lengthens the
wait. The counts are rows of `login_attempts`, so every process and a restart see them; a
count left alone for `FORGET_AFTER` starts again from nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import LoginAttempts, utcnow

ACCOUNT_FREE = 5
ADDRESS_FREE = 20
MAX_WAIT = 15 * 60
FORGET_AFTER = dt.timedelta(days=1)
# Compare-and-set rounds lost to parallel attempts before one gives up (and is refused).
TRIES = 20

TABLE = cast(Table, LoginAttempts.__table__)


@dataclasses.dataclass(frozen=True)
class Key:
    """One counter: an account or an address, and the failures it may have without waiting."""

    key: str
    free: int


def keys(email: str, address: str) -> tuple[Key, Key]:
    """The counters of a login attempt: the client's address, then the account tried."""
    digest = hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
    return Key(f"address:{address[:90]}", ADDRESS_FREE), Key(f"account:{digest}", ACCOUNT_FREE)


def wait_after(failures: int, free: int) -> int:
    """Seconds the next attempt must wait after the last of `failures` failures."""
    if failures < free:
        return 0
    return int(min(2 ** min(failures - free + 1, 20), MAX_WAIT))


def seconds_left(failures: int, last_at: dt.datetime, free: int, now: dt.datetime) -> int:
    """Seconds until the next attempt is allowed (0: now)."""
    left = (last_at + dt.timedelta(seconds=wait_after(failures, free)) - now).total_seconds()
    return max(0, math.ceil(left))


async def charge(db: async_sessionmaker[AsyncSession], counters: tuple[Key, ...]) -> int:
    """Count an attempt on each counter; 0, or the seconds still to wait when one was locked."""
    waits = [await _charge_one(db, counter) for counter in counters]
    return max(waits)


async def _charge_one(db: async_sessionmaker[AsyncSession], counter: Key) -> int:
    """Count the attempt (compare-and-set, against parallel attempts); 0 when it waited long
    enough, else the seconds the next attempt must now wait."""
    for _ in range(TRIES):
        now = utcnow()
        try:
            async with db() as session, session.begin():
                row = (await session.execute(
                    select(TABLE.c.failures, TABLE.c.last_at).where(TABLE.c.key == counter.key)
                )).first()
                if row is None:
                    await session.execute(
                        insert(TABLE).values(key=counter.key, failures=1, last_at=now))
                    return 0
                failures, last_at = row
                if now - last_at > FORGET_AFTER:
                    failures = 0
                changed = await session.execute(
                    update(TABLE)
                    .where(TABLE.c.key == counter.key, TABLE.c.failures == row.failures)
                    .values(failures=failures + 1, last_at=now)
                )
                if changed.rowcount == 1:  # type: ignore[attr-defined]
                    if seconds_left(failures, last_at, counter.free, now):
                        return wait_after(failures + 1, counter.free)  # from this attempt on
                    return 0
        except IntegrityError:
            pass  # a parallel attempt inserted the row first: count on it
    return 1


async def succeeded(db: async_sessionmaker[AsyncSession], counters: tuple[Key, Key]) -> None:
    """Take back a successful attempt's charge: the account starts again from nothing."""
    address, account = counters
    async with db() as session, session.begin():
        await session.execute(delete(TABLE).where(TABLE.c.key == account.key))
        await session.execute(
            update(TABLE).where(TABLE.c.key == address.key, TABLE.c.failures > 0)
            .values(failures=TABLE.c.failures - 1))
        # Housekeeping: counts nobody has touched for long are forgotten anyway.
        await session.execute(delete(TABLE).where(TABLE.c.last_at < utcnow() - FORGET_AFTER))
