"""run-once: its output, skipping while another run holds the lock, Redis unreachable,
a lock lost before release, and what it imports."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid

from server.jobs import lock
from server.jobs.lock_protocol import fence_key, lock_key
from tests.guard.conftest import RUN_ONCE, run_env
from tests.guard.test_lock import wait_expired
from tests.support import ROOT, free_port

STAMP = r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]"


def name() -> str:
    return f"run-once-{uuid.uuid4().hex[:10]}"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN_ONCE, *args], env=run_env(**env), capture_output=True,
                          text=True, timeout=60, cwd="/")


def test_runs_and_prints_start_and_finish(redis_client):
    n = name()
    done = run("--lock", n, "--sleep", "0.05")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    start = re.fullmatch(rf"{STAMP} \[run ([0-9a-f]{{8}})\] started", lines[0])
    end = re.fullmatch(rf"{STAMP} \[run ([0-9a-f]{{8}})\] finished", lines[1])
    assert start and end and start.group(1) == end.group(1)
    assert done.stderr == ""
    assert not redis_client.exists(lock_key(n)), "released"
    assert int(redis_client.get(fence_key(n))) > 0, "a fencing token was issued"


async def test_skips_while_the_server_lock_is_held(aredis):
    n = name()
    held = await lock.acquire(aredis, n, 30)
    done = await asyncio.to_thread(run, "--lock", n)
    assert done.returncode == 0
    assert re.fullmatch(r"\[run [0-9a-f]{8}\] skipped: already running\n", done.stdout)
    assert await held.owned()
    await held.release()


def test_a_launch_runs_once_however_late_its_copies_ask(redis_client):
    n, launch = name(), uuid.uuid4().hex[:16]
    first = run("--lock", n, "--sleep", "0", LAUNCH_MANY_ID=launch)
    assert first.stdout.splitlines()[-1].endswith("] finished")
    assert not redis_client.exists(lock_key(n)), "the lock was released"
    late = run("--lock", n, "--sleep", "0", LAUNCH_MANY_ID=launch)
    assert re.fullmatch(r"\[run [0-9a-f]{8}\] skipped: already started in this launch\n",
                        late.stdout)
    assert late.returncode == 0
    ttl = redis_client.pttl(f"tally:launch:{n}:{launch}")
    assert 0 < ttl <= 3600 * 1000, "the claim expires"
    # Another launch, or a run outside any launch, is only excluded while one runs.
    assert run("--lock", n, "--sleep", "0", LAUNCH_MANY_ID="another").stdout.endswith(
        "] finished\n")
    assert run("--lock", n, "--sleep", "0").stdout.endswith("] finished\n")
    assert run("--lock", n, "--sleep", "0").stdout.endswith("] finished\n")


def test_a_launch_is_not_claimed_by_a_copy_that_did_not_get_the_lock(redis_client):
    n, launch = name(), uuid.uuid4().hex[:16]
    redis_client.set(lock_key(n), "someone", px=30_000)
    assert "skipped: already running" in run("--lock", n, LAUNCH_MANY_ID=launch).stdout
    assert not redis_client.exists(f"tally:launch:{n}:{launch}")
    redis_client.delete(lock_key(n))
    assert run("--lock", n, "--sleep", "0", LAUNCH_MANY_ID=launch).stdout.endswith(
        "] finished\n")


def test_lock_name_and_settings_from_the_environment(redis_client):
    n = name()
    redis_client.set(lock_key(n), "someone", px=30_000)
    done = run(RUN_ONCE_LOCK=n)
    assert "skipped: already running" in done.stdout and done.returncode == 0


def test_redis_unreachable_exits_1():
    done = run("--redis-url", f"redis://127.0.0.1:{free_port()}/0", "--timeout", "1")
    assert done.returncode == 1
    assert "cannot reach Redis" in done.stderr
    assert done.stdout == ""


def test_bad_arguments_exit_2():
    assert run("--ttl", "0").returncode == 2
    assert run("--nonsense").returncode == 2
    helped = run("--help")
    assert helped.returncode == 0 and "--lock" in helped.stdout


async def test_lock_lost_before_release_is_warned_and_left_alone(aredis):
    """The run outlives its ttl; another holder takes the lock; at release run-once
    must warn and must not delete the other holder's lock."""
    n = name()
    proc = await asyncio.create_subprocess_exec(
        *RUN_ONCE, "--lock", n, "--ttl", "0.2", "--sleep", "3", env=run_env(), cwd="/",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().endswith("started\n")
    await wait_expired(aredis, n)
    other = await lock.acquire(aredis, n, 60)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert out.decode().endswith("finished\n")
    assert "warning: lock" in err.decode() and "no longer ours" in err.decode()
    assert await other.owned(), "the other holder's lock is intact"
    await other.release()


def test_imports_only_the_standard_library_and_the_lock_protocol():
    probe = subprocess.run(
        [sys.executable, "-S", "-c",
         "import sys; import clients.run_once; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] in "
         "{'redis', 'server', 'grpc', 'asyncpg', 'asyncio', 'google', 'psycopg', 'tally'}))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "['server', 'server.jobs', 'server.jobs.lock_protocol']"
