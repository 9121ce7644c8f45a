"""Migrations: an empty database gets the full schema; migrating again is a no-op;
repeatable SQL is re-applied even when no migration is pending."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from server import migrate
from tests.support import recreate_database, scratch_database_url

FINGERPRINT = """
with owned as (select oid, nspname from pg_namespace
                where pg_get_userbyid(nspowner) = 'tally_owner')
select (select string_agg(x, E'\\n' order by x) from (
            select format('%s.%s(%s) %s %s', n.nspname, p.proname,
                          pg_get_function_identity_arguments(p.oid),
                          md5(pg_get_functiondef(p.oid)), p.proacl::text) as x
              from pg_proc p join owned n on n.oid = p.pronamespace) f),
       (select string_agg(x, E'\\n' order by x) from (
            select format('%s.%s %s %s', table_schema, table_name, column_name, data_type) as x
              from information_schema.columns
             where table_schema in (select nspname from owned)) c),
       (select string_agg(x, E'\\n' order by x) from (
            select format('%s %s', conname, pg_get_constraintdef(oid)) as x
              from pg_constraint where connamespace in (select oid from owned)) k),
       (select string_agg(x, E'\\n' order by x) from (
            select format('%s %s', tgname, tgrelid::regclass) as x
              from pg_trigger where not tgisinternal) t)
"""


@pytest.fixture(scope="module")
def scratch_url() -> str:
    url = scratch_database_url("migrate")
    recreate_database(url)  # drop, then migrate an empty database
    return url


def fingerprint(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(FINGERPRINT).fetchone()


def test_empty_database_gets_the_full_schema(scratch_url):
    with psycopg.connect(scratch_url) as conn:
        tables = {r[0] for r in conn.execute(
            "select format('%s.%s', schemaname, tablename) from pg_tables"
            " where tableowner = 'tally_owner'")}
        assert {"booking.events", "booking.bookings"} <= tables
        applied = conn.execute("select count(*) from _yoyo_migration").fetchone()[0]
    assert applied == len(list(migrate.MIGRATIONS_DIR.glob("*.sql")))


def test_migrating_twice_is_a_no_op(scratch_url):
    before = fingerprint(scratch_url)
    migrate.migrate(scratch_url)
    assert migrate.apply_migrations(scratch_url) == 0
    assert fingerprint(scratch_url) == before


def test_repeatable_sql_is_reapplied_without_a_pending_migration(scratch_url, tmp_path: Path):
    changed = tmp_path / "sql"
    shutil.copytree(migrate.SQL_DIR, changed)
    target = changed / "booking" / "20_get_event.sql"
    target.write_text(target.read_text().replace(
        "-- get_event(id)", "-- get_event(id) [changed]"))
    (changed / "booking" / "99_gone_next_time.sql").write_text(
        "create function booking.gone_next_time() returns int language sql as $fn$ select 1 $fn$;")
    migrate.apply_repeatable(scratch_url, changed)
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("select to_regproc('booking.gone_next_time') is not null").fetchone()[0]
    # Back to the real files: the extra function is gone, everything else as before.
    migrate.apply_repeatable(scratch_url)
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("select to_regproc('booking.gone_next_time') is null").fetchone()[0]


def test_tables_may_not_depend_on_repeatable_functions(scratch_url, tmp_path: Path):
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute("set role tally_owner")
        conn.execute("create function booking.tmp_default() returns int language sql"
                     " as $fn$ select 1 $fn$")
        conn.execute("create table booking.scratch (x int default booking.tmp_default())")
    try:
        with pytest.raises(SystemExit, match="depend"):
            migrate.apply_repeatable(scratch_url)
    finally:
        with psycopg.connect(scratch_url, autocommit=True) as conn:
            conn.execute("drop table booking.scratch")
        migrate.apply_repeatable(scratch_url)
