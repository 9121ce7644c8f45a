"""Migration 0007 on a database whose automatic segment was stored row by row (as
create_segment did before it): the same members, removals still stick, no add twice."""

from __future__ import annotations

import psycopg
import pytest

from server.ops import migrate
from tests.support import legacy_database, scratch_database_url

LEGACY = "0007.segments_derived_auto"
USERS = range(1, 401)
SERIES = f"generate_series({USERS[0]}::bigint, {USERS[-1]}::bigint) u"
REMOVED = 10  # users of the share who had removed the segment before the migration


@pytest.fixture(scope="module")
def legacy_url() -> str:
    url = legacy_database(scratch_database_url("seg_legacy"), LEGACY)
    bucket = "(hashint8extended(u, hashtext('LEG')) % 10000 + 10000) % 10000"
    with psycopg.connect(url, autocommit=True) as conn:
        # What the old create_segment('LEG', 50) left: a row and an add per member...
        conn.execute("insert into segments.users (id, created_at)"
                     f" select u, '2024-05-01 10:00+00' from {SERIES}")
        conn.execute("insert into segments.segments (slug, auto_percent, created_at)"
                     " values ('LEG', 50, '2024-05-02 10:00+00')")
        conn.execute(
            "insert into segments.memberships (user_id, segment_id, added_at)"
            f" select u, 1, '2024-05-02 10:00+00' from {SERIES} where {bucket} < 5000")
        conn.execute("insert into segments.history (user_id, segment_id, slug, operation, at)"
                     " select user_id, 1, 'LEG', 'add', added_at from segments.memberships")
        # ... and what the old update_user_segments left for users who removed it.
        conn.execute(
            "with gone as (delete from segments.memberships where user_id in"
            " (select user_id from segments.memberships order by user_id limit %s)"
            " returning user_id)"
            " insert into segments.history (user_id, segment_id, slug, operation, at)"
            " select user_id, 1, 'LEG', 'remove', '2024-05-03 10:00+00' from gone",
            (REMOVED,))
    migrate.migrate(url)
    return url


def test_members_stay_and_removals_stick(legacy_url):
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        share = {r[0] for r in conn.execute(
            f"select u from {SERIES} where segments._auto_bucket(u, 'LEG') < 5000")}
        removed = {r[0] for r in conn.execute(
            "select user_id from segments.history where operation = 'remove'")}
        assert len(removed) == REMOVED and removed <= share
        members = {r[0] for r in conn.execute(
            f"select u from {SERIES}"
            " where exists (select 1 from segments.user_segments(u) where slug = 'LEG')")}
        assert members == share - removed
        assert conn.execute(
            "select count(*) from segments.opt_outs").fetchone()[0] == REMOVED
        kept = min(share - removed)
        assert conn.execute(
            "select added_at from segments.user_segments(%s)", (kept,)
        ).fetchone()[0].isoformat() == "2024-05-02T10:00:00+00:00", "its stored added_at"


def test_history_is_not_derived_twice(legacy_url):
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        adds = conn.execute(
            "select user_id, count(*) from segments.export_history(2024, 5)"
            " where operation = 'add' group by user_id having count(*) <> 1").fetchall()
        assert adds == []
        total = conn.execute(
            "select count(*) from segments.export_history(2024, 5) where operation = 'add'"
        ).fetchone()[0]
        stored = conn.execute(
            "select count(*) from segments.history where operation = 'add'").fetchone()[0]
        assert total == stored


def test_later_changes_follow_the_new_rules(legacy_url):
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        share = [r[0] for r in conn.execute(
            f"select u from {SERIES} where segments._auto_bucket(u, 'LEG') < 5000"
            " and exists (select 1 from segments.user_segments(u) where slug = 'LEG')"
            " order by u")]
        user = share[0]
        # Removing a stored membership of the automatic segment sticks.
        assert conn.execute(
            "select changed from segments.update_user_segments(%s, '{}', array['LEG'])",
            (user,)).fetchone()[0]
        conn.execute("select segments.create_user(%s)", (user,))
        assert conn.execute("select count(*) from segments.user_segments(%s)",
                            (user,)).fetchone()[0] == 0
        # A new user of the share gets it, derived, with its add stored by create_user.
        newcomer = next(u for u in range(USERS[-1] + 1, USERS[-1] + 1000)
                        if conn.execute("select segments._auto_bucket(%s, 'LEG') < 5000",
                                        (u,)).fetchone()[0])
        conn.execute("select segments.create_user(%s)", (newcomer,))
        assert [r[0] for r in conn.execute(
            "select slug from segments.user_segments(%s)", (newcomer,))] == ["LEG"]
        assert conn.execute("select count(*) from segments.memberships where user_id = %s",
                            (newcomer,)).fetchone()[0] == 0
        # Deleting the segment ends stored and derived memberships alike, once each.
        live = conn.execute(
            "select count(*) from segments.users u where u.deleted_at is null"
            " and exists (select 1 from segments.user_segments(u.id) where slug = 'LEG')"
        ).fetchone()[0]
        assert conn.execute("select segments.delete_segment('LEG')").fetchone()[0] == live
