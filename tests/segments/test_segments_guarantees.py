"""The guarantees of issue 4 under real concurrency, real time and real volume."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from datetime import UTC, datetime

import grpc
import psycopg
import pytest
from google.protobuf.duration_pb2 import Duration
from tally.segments.v1 import segments_pb2 as pb

from tests.segments.conftest import new_slug, new_user_id


async def export_rows(stub, year: int, month: int, user_id: int | None = None) -> list[list[str]]:
    request = pb.ExportHistoryRequest(year=year, month=month)
    if user_id is not None:
        request.user_id = user_id
    data = b"".join([c.data async for c in stub.ExportHistory(request)]).decode()
    return list(csv.reader(io.StringIO(data), delimiter=";"))[1:]


def months_since(start: datetime) -> list[tuple[int, int]]:
    """(year, month) from start's month to this one, in UTC."""
    now = datetime.now(UTC)
    year, month, months = start.year, start.month, []
    while (year, month) <= (now.year, now.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def exported_adds(admin_db, slug: str, since: datetime) -> dict[int, int]:
    """How many 'add' rows of the slug ExportHistory's SQL lists per user, over the
    months since `since` (stored and derived rows alike)."""
    counts: dict[int, int] = {}
    for year, month in months_since(since):
        for user_id, n in admin_db.execute(
                "select user_id, count(*) from segments.export_history(%s, %s)"
                " where segment = %s and operation = 'add' group by user_id",
                (year, month, slug)):
            counts[user_id] = counts.get(user_id, 0) + n
    return counts


def members_of(admin_db, slug: str, first: int, last: int) -> set[int]:
    """The users in [first, last] whose GetUserSegments (its SQL) lists the slug."""
    return {r[0] for r in admin_db.execute(
        "select g from generate_series(%s::bigint, %s::bigint) g"
        " join segments.users u on u.id = g and u.deleted_at is null"
        " where exists (select 1 from segments.user_segments(g) where slug = %s)",
        (first, last, slug))}


async def test_concurrent_updates_equal_a_serial_order(stub, admin_db):
    """50 concurrent UpdateUserSegments on one user with overlapping adds and removes."""
    user_id = new_user_id()
    await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    pool = [new_slug("cc") for _ in range(6)]
    for slug in pool:
        await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    rng = random.Random(4)
    requests = []
    for _ in range(50):
        picked = rng.sample(pool, 4)
        requests.append(pb.UpdateUserSegmentsRequest(
            user_id=user_id, add=[pb.SegmentToAdd(slug=s) for s in picked[:2]],
            remove=picked[2:]))
    replies = await asyncio.gather(*(stub.UpdateUserSegments(r) for r in requests))

    final = {m.slug for m in
             (await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))).segments}

    # 1. The history replays to the final state.
    history = admin_db.execute(
        "select slug, operation::text, at from segments.history where user_id = %s"
        " order by at, id", (user_id,)).fetchall()
    replayed: set[str] = set()
    for slug, op, _ in history:
        assert (slug not in replayed) if op == "add" else (slug in replayed), \
            f"history {op}s {slug} in a state where that is impossible"
        (replayed.add if op == "add" else replayed.discard)(slug)
    assert replayed == final

    # 2. Some serial order of the 50 calls explains every reply. Calls that changed
    # something are ordered by their history time (each call's rows share one instant,
    # taken while it held the user's lock); each reply must match the state before it.
    # Calls that changed nothing must fit some state along that sequence.
    def changes(reply: pb.UpdateUserSegmentsResponse) -> frozenset[tuple[str, str]]:
        return frozenset([(a.slug, "add") for a in reply.added if a.added]
                         + [(r.slug, "remove") for r in reply.removed if r.removed])

    def fits(reply: pb.UpdateUserSegmentsResponse, state: set[str] | frozenset[str]) -> bool:
        return (all(a.added == (a.slug not in state) for a in reply.added)
                and all(r.removed == (r.slug in state) for r in reply.removed))

    groups: dict[datetime, set[tuple[str, str]]] = {}
    for slug, op, at in history:
        groups.setdefault(at, set()).add((slug, op))
    # The state before each instant follows from the history alone.
    state: set[str] = set()
    before: list[frozenset[str]] = []
    changes_at: list[frozenset[tuple[str, str]]] = []
    for at in sorted(groups):
        before.append(frozenset(state))
        changes_at.append(frozenset(groups[at]))
        for slug, op in groups[at]:
            (state.add if op == "add" else state.discard)(slug)
    states = [*before, frozenset(state)]
    assert state == final

    # Each instant must be one reply that made exactly those changes and whose flags
    # match the state before it: a perfect matching of instants to replies (replies with
    # the same changes are interchangeable only where their no-op parts fit too).
    changed = [i for i, r in enumerate(replies) if changes(r)]
    assert len(changed) == len(groups), "one history instant per call that changed something"
    fits_at = {g: [i for i in changed if changes(replies[i]) == changes_at[g]
                   and fits(replies[i], before[g])] for g in range(len(groups))}
    owner: dict[int, int] = {}

    def place(g: int, seen: set[int]) -> bool:
        for i in fits_at[g]:
            if i not in seen:
                seen.add(i)
                if i not in owner or place(owner[i], seen):
                    owner[i] = g
                    return True
        return False

    for g in range(len(groups)):
        assert place(g, set()), f"no reply explains the changes {changes_at[g]} " \
                                f"from state {set(before[g])}"
    for reply in replies:
        if not changes(reply):
            assert any(fits(reply, s) for s in states), \
                "a reply that changed nothing fits no state of the serial order"


async def test_concurrent_updates_of_many_users_share_batches_without_deadlock(stub, admin_db):
    """400 concurrent UpdateUserSegments over 20 users in random order: the server groups
    them into batches (segments.update_user_segments_batch), which take the users' locks in
    id order, so none deadlocks; every call is answered OK, and each user's history
    replays to its final memberships, with one history row per change answered."""
    users = [new_user_id() for _ in range(20)]
    for user_id in users:
        await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    pool = [new_slug("mu") for _ in range(4)]
    for slug in pool:
        await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    rng = random.Random(7)
    requests = []
    for _ in range(400):
        add, remove = rng.sample(pool, 2)
        requests.append(pb.UpdateUserSegmentsRequest(
            user_id=rng.choice(users), add=[pb.SegmentToAdd(slug=add)], remove=[remove]))
    replies = await asyncio.gather(*(stub.UpdateUserSegments(r) for r in requests))
    changed = sum(a.added for r in replies for a in r.added) \
        + sum(d.removed for r in replies for d in r.removed)
    history = admin_db.execute(
        "select user_id, slug, operation::text from segments.history"
        " where user_id = any(%s) order by at, id", (users,)).fetchall()
    assert len(history) == changed
    state: dict[int, set[str]] = {u: set() for u in users}
    for user_id, slug, op in history:
        assert (slug not in state[user_id]) if op == "add" else (slug in state[user_id])
        (state[user_id].add if op == "add" else state[user_id].discard)(slug)
    for user_id in users:
        got = await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))
        assert {m.slug for m in got.segments} == state[user_id], user_id


async def test_ttl_membership_is_returned_before_expiry_and_never_after(stub, admin_db):
    user_id = new_user_id()
    await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    slug = new_slug("ttl")
    await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    reply = await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=slug, ttl=Duration(seconds=2))]))
    expires = reply.added[0].expires_at.ToDatetime(tzinfo=UTC)

    # Ask continuously from before the expiry until well after it. The server and the
    # test share a clock: an answer that left before the expiry must have the segment,
    # a call sent after it must not.
    seen_before = seen_after = 0
    while True:
        sent = datetime.now(UTC)
        got = await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))
        answered = datetime.now(UTC)
        has = slug in {m.slug for m in got.segments}
        if answered < expires:
            assert has, "returned before its expiry"
            seen_before += 1
        elif sent > expires:
            assert not has, f"returned after its expiry ({sent} > {expires})"
            seen_after += 1
        if (sent - expires).total_seconds() > 0.5:
            break
    assert seen_before > 0 and seen_after > 0

    # The removal is in the history at its expiry time, before and after the sweep.
    expected = [[str(user_id), slug, "add"], [str(user_id), slug, "remove"]]
    stamp = expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for sweep in (False, True):
        if sweep:
            admin_db.execute("select segments.expire_memberships(now())")
            assert admin_db.execute(
                "select count(*) from segments.memberships where user_id = %s",
                (user_id,)).fetchone()[0] == 0
        rows = await export_rows(stub, expires.year, expires.month, user_id)
        assert [r[:3] for r in rows] == expected
        assert rows[1][3] == stamp


@pytest.mark.slow
async def test_auto_percent_is_deterministic_and_reaches_later_users(stub, admin_db):
    """100,000 users and a 25 % segment: 24-26 % of them, the same set on repeated reads
    and after more users are added."""
    first = new_user_id() + 500_000
    admin_db.execute("insert into segments.users (id) select g from generate_series(%s, %s) g",
                     (first, first + 99_999))
    slug = new_slug("pct")
    reply = await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug, auto_percent="25"))
    created = reply.segment.created_at.ToDatetime(tzinfo=UTC)
    try:
        def members(last: int) -> set[int]:
            return members_of(admin_db, slug, first, last)

        chosen = members(first + 99_999)
        assert 24_000 <= len(chosen) <= 26_000, len(chosen)
        assert reply.auto_members >= len(chosen)

        # Repeated reads over gRPC agree, user by user, with the stored set.
        sample = random.Random(7).sample(range(first, first + 100_000), 300)
        for _ in range(2):
            answers = await asyncio.gather(*(
                stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=u)) for u in sample))
            got = {u for u, a in zip(sample, answers, strict=True)
                   if slug in {m.slug for m in a.segments}}
            assert got == chosen & set(sample)

        # 20,000 more users (through create_user, as CreateUser does) and a few over gRPC.
        admin_db.execute("select count(*) from generate_series(%s, %s) g,"
                         " segments.create_user(g) c", (first + 100_000, first + 119_989))
        for u in range(first + 119_990, first + 120_000):
            await stub.CreateUser(pb.CreateUserRequest(user_id=u))
        after = members(first + 119_999)
        assert after & set(range(first, first + 100_000)) == chosen, "the first set is unchanged"
        assert 0.24 <= len(after) / 120_000 <= 0.26, len(after)
        expected_new = {r[0] for r in admin_db.execute(
            "select g from generate_series(%s, %s) g where segments._auto_bucket(g, %s) < 2500",
            (first + 100_000, first + 119_999, slug))}
        assert after - chosen == expected_new, "later users get it by the same rule"
        adds = {u: n for u, n in exported_adds(admin_db, slug, created).items()
                if first <= u <= first + 119_999}
        assert adds == dict.fromkeys(after, 1), "every automatic membership has one add row"
    finally:
        started = time.monotonic()
        await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug))
        assert time.monotonic() - started < 60


async def test_delete_segment_racing_updates_leaves_no_orphan(stub, admin_db):
    """DeleteSegment while 30 updates add the same segment: every add either lands before
    the deletion (and is removed by it, with history) or fails NOT_FOUND."""
    slug = new_slug("race")
    await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    users = [new_user_id() for _ in range(30)]
    for u in users:
        await stub.CreateUser(pb.CreateUserRequest(user_id=u))

    async def add(u: int) -> bool:
        try:
            await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
                user_id=u, add=[pb.SegmentToAdd(slug=slug)]))
            return True
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()
            return False

    calls = [add(u) for u in users[:15]]
    calls.append(stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug)))
    calls += [add(u) for u in users[15:]]
    results = await asyncio.gather(*calls)
    deleted = results[15]
    added = [*results[:15], *results[16:]]
    assert admin_db.execute(
        "select count(*) from segments.memberships m join segments.segments s"
        " on s.id = m.segment_id where s.slug = %s", (slug,)).fetchone()[0] == 0
    assert deleted.memberships_ended == sum(added)
    for u, ok in zip(users, added, strict=True):
        ops = [r[0] for r in admin_db.execute(
            "select operation::text from segments.history where user_id = %s and slug = %s"
            " order by at, id", (u, slug))]
        assert ops == (["add", "remove"] if ok else [])


def test_expiry_job_runs_as_the_job_runners_role(database_url):
    """The declared job's SQL runs as tally_jobs with the scheduled time as $1, twice."""
    from server.core.config import JOBS_ROLE, with_user
    from server.domains.segments import JOBS

    (job,) = JOBS
    assert job.name == "segments.expire_memberships" and job.every is not None
    with psycopg.connect(with_user(database_url, JOBS_ROLE), autocommit=True) as conn:
        sql = job.sql.replace("$1", "%s")
        for _ in range(2):
            ended = conn.execute(sql, (datetime.now(UTC),)).fetchone()[0]
            assert ended >= 0


async def test_update_waits_for_a_segment_being_deleted(stub, admin_db, database_url):
    """Deterministic form of the race above: while a DeleteSegment transaction is open,
    an update adding that segment waits for it, then finds it gone. (Without the
    FOR SHARE lock the update would add a membership the deletion never sees.)"""
    from server.core.config import APP_ROLE, with_user

    slug = new_slug("held")
    await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    user_id = new_user_id()
    await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    with psycopg.connect(with_user(database_url, APP_ROLE)) as deleter:
        deleter_pid = deleter.execute("select pg_backend_pid()").fetchone()[0]
        deleter.execute("select segments.delete_segment(%s)", (slug,))  # not committed
        update = asyncio.ensure_future(stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
            user_id=user_id, add=[pb.SegmentToAdd(slug=slug)])))
        deadline = time.monotonic() + 30
        while not update.done():
            blocked = admin_db.execute(
                "select count(*) from pg_stat_activity where %s = any(pg_blocking_pids(pid))",
                (deleter_pid,)).fetchone()[0]
            if blocked:
                break
            assert time.monotonic() < deadline, "the update neither finished nor waited"
            await asyncio.sleep(0.01)
        assert not update.done(), "the update did not wait for the deletion"
        deleter.commit()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await update
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert admin_db.execute(
        "select count(*) from segments.memberships where user_id = %s",
        (user_id,)).fetchone()[0] == 0


async def test_users_created_during_an_automatic_segment_never_miss_it(stub, admin_db):
    """CreateSegment(auto 50 %) racing 40 CreateUser: every one of those users ends up
    with the segment exactly when its bucket says so, with one history row."""
    slug = new_slug("autorace")
    users = [new_user_id() for _ in range(40)]
    calls = [stub.CreateUser(pb.CreateUserRequest(user_id=u)) for u in users[:20]]
    calls.append(stub.CreateSegment(pb.CreateSegmentRequest(slug=slug, auto_percent="50")))
    calls += [stub.CreateUser(pb.CreateUserRequest(user_id=u)) for u in users[20:]]
    replies = await asyncio.gather(*calls)
    created = replies[20].segment.created_at.ToDatetime(tzinfo=UTC)
    try:
        # Users present at the creation have a derived add row, later ones a stored one:
        # either way exactly one, whichever side of the creation each call landed on.
        adds = exported_adds(admin_db, slug, created)
        members = members_of(admin_db, slug, min(users), max(users))
        rows = admin_db.execute(
            "select u, segments._auto_bucket(u, %s) < 5000 from unnest(%s::bigint[]) u",
            (slug, users)).fetchall()
        for user, should in rows:
            has = user in members
            assert has == should, f"user {user}: member {has}, bucket says {should}"
            assert adds.get(user, 0) == (1 if should else 0)
    finally:
        await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug))


async def test_delete_user_waits_for_an_automatic_segment_being_created(
        stub, admin_db, database_url):
    """While a CreateSegment (auto) transaction is open, DeleteUser of a user in its share
    waits for it, then ends that membership after it began: its history is the add at
    the creation, then the remove, never the other way round."""
    from server.core.config import APP_ROLE, with_user

    slug = new_slug("held")
    user_id = next(u for u in iter(new_user_id, None) if admin_db.execute(
        "select segments._auto_bucket(%s, %s) < 5000", (u, slug)).fetchone()[0])
    await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    with psycopg.connect(with_user(database_url, APP_ROLE)) as creator:
        creator_pid = creator.execute("select pg_backend_pid()").fetchone()[0]
        created = creator.execute("select created_at from segments.create_segment(%s, 50)",
                                  (slug,)).fetchone()[0]  # not committed
        deletion = asyncio.ensure_future(stub.DeleteUser(pb.DeleteUserRequest(user_id=user_id)))
        deadline = time.monotonic() + 30
        while not admin_db.execute(
                "select count(*) from pg_stat_activity where %s = any(pg_blocking_pids(pid))",
                (creator_pid,)).fetchone()[0]:
            assert not deletion.done(), "the deletion did not wait for the creation"
            assert time.monotonic() < deadline, "the deletion neither finished nor waited"
            await asyncio.sleep(0.01)
        creator.commit()
    try:
        assert (await deletion).memberships_ended == 1
        rows = [r for year, month in months_since(created)
                for r in await export_rows(stub, year, month, user_id) if r[1] == slug]
        assert [r[2] for r in rows] == ["add", "remove"]
        assert rows[0][3] == created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert rows[0][3] < rows[1][3]
    finally:
        await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug))
