"""Single-holder locks on Redis, with fencing tokens.

The lock itself is redis-py's asyncio `Lock`, not re-implemented: a random token set with
SET NX PX, released by its compare-and-delete script (never deletes another holder's
lock), extended by its compare-and-pexpire script.

On top of it, every successful acquire gets a fencing token, strictly increasing per lock
name. A lock that expires while its holder pauses (GC, swap, a stalled VM) lets a second
holder in; the first one wakes up still believing it holds the lock. So the work the lock
protects presents its token to PostgreSQL (`select tally.check_fence(name, token)` in the
same transaction), which remembers the highest token seen per name and refuses lower ones.

The token is issued by one script that runs only while the lock is still ours, so tokens
are ordered exactly as the holders were: a later holder got the lock after ours expired,
hence after our script ran. It is max(previous + 1, Redis's clock in microseconds), so it
keeps increasing even if the counter key is lost (a flushed or replaced Redis would
otherwise restart at 1 and every new token would look stale to PostgreSQL).

Keys: `tally:lock:<name>` (the lock), `tally:fence:<name>` (the last token issued). The key
names and the fencing script live in server/jobs/lock_protocol.py, which
clients/run_once.py imports too.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, LockNotOwnedError

from .lock_protocol import NEXT_FENCE_SCRIPT, fence_key, lock_key

log = logging.getLogger("tally.lock")


@dataclass
class HeldLock:
    """A lock we acquired. `fence` is the token to present to tally.check_fence."""

    name: str
    fence: int
    token: bytes
    _lock: Lock

    async def release(self) -> bool:
        """Release if still ours. False (and a warning) if it expired and was perhaps taken
        by someone else: their lock is left alone."""
        try:
            await self._lock.release()
            return True
        except LockNotOwnedError:
            log.warning("lock %s was no longer ours at release (it expired; fencing token %d)",
                        self.name, self.fence, extra={"lock": self.name, "fence": self.fence})
            return False
        except LockError:  # released already
            return False

    async def extend(self, ttl: float) -> bool:
        """Set the remaining time to `ttl` seconds, only if the lock is still ours."""
        try:
            return bool(await self._lock.extend(ttl, replace_ttl=True))
        except LockNotOwnedError:
            log.warning("lock %s was no longer ours when extending", self.name,
                        extra={"lock": self.name, "fence": self.fence})
            return False
        except LockError:
            return False

    async def owned(self) -> bool:
        return bool(await self._lock.owned())


async def acquire(client: aioredis.Redis, name: str, ttl: float, *,
                  wait: float | None = None) -> HeldLock | None:
    """Take lock `name` for `ttl` seconds. Returns None if it is held by someone else
    (after waiting up to `wait` seconds, if given). Raises redis errors when Redis cannot
    be reached: an unknown answer is not a lock."""
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    token = os.urandom(16).hex().encode()
    lock = Lock(client, lock_key(name), timeout=ttl, sleep=0.05,
                blocking=wait is not None, blocking_timeout=wait, thread_local=False)
    if not await lock.acquire(token=token):
        return None
    fence = await client.eval(NEXT_FENCE_SCRIPT, 2, lock_key(name), fence_key(name), token)
    if fence is None:
        # Expired before we could number it (a ttl shorter than one round trip): not ours.
        return None
    return HeldLock(name=name, fence=int(fence), token=token, _lock=lock)
