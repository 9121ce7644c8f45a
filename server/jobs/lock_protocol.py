"""The lock protocol on Redis as data: key names and the Lua scripts, and nothing else.

Two sides speak it: server/jobs/lock.py through redis-py, and clients/run_once.py over a
bare socket (it is started a thousand times at once, and `import redis` would cost it
more than all its work). Both take their keys and scripts from here, so they cannot
drift apart; this module imports nothing, so importing it costs run-once next to nothing.

Keys: `tally:lock:<name>` holds the holder's random token (SET NX PX); `tally:fence:<name>`
the last fencing token issued for the name.
"""

from __future__ import annotations

LOCK_PREFIX = "tally:lock:"
FENCE_PREFIX = "tally:fence:"

# KEYS[1] lock, KEYS[2] fence counter, ARGV[1] our token. Returns the new fencing token,
# or false when the lock is no longer ours (it expired between SET NX and this call).
# The token is max(previous + 1, Redis's clock in microseconds): strictly increasing per
# name, even after the counter key is lost.
NEXT_FENCE_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = math.max(last + 1, now)
redis.call('SET', KEYS[2], string.format('%d', token))
return string.format('%d', token)
"""

# KEYS[1] lock, ARGV[1] our token: delete the lock only while it still holds our token,
# as redis-py's Lock.release does (lock.py releases through redis-py; tests check that
# each side refuses to release the other's lock). 1: released; 0: not ours any more.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lock_key(name: str) -> str:
    return LOCK_PREFIX + name


def fence_key(name: str) -> str:
    return FENCE_PREFIX + name
