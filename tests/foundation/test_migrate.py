"""Migrations: an empty database gets the full schema; migrating again is a no-op;
repeatable SQL is re-applied even when no migration is pending; every starting point
(no database, one the admin created, a non-superuser admin, a re-run, two at once) ends
in the same schema and privileges."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.core.config import with_database, with_user
from server.ops import migrate
from tests.support import (
    ROOT,
    TEST_DATABASE_URL,
    recreate_database,
    scratch_database_url,
)

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


# --- Starting points ---------------------------------------------------------------
# Every way a database can be handed to migrate ends in the same schema and the same
# privileges: FINGERPRINT above, plus who owns and may use what.

PRIVILEGES = """
select (select format('%s %s', pg_get_userbyid(datdba), datacl) from pg_database
         where datname = current_database()),
       (select string_agg(format('%s %s %s', nspname, pg_get_userbyid(nspowner), nspacl),
                          E'\\n' order by nspname)
          from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'),
       (select string_agg(format('%s %s %s', c.oid::regclass, pg_get_userbyid(c.relowner),
                                 c.relacl), E'\\n' order by c.oid::regclass::text)
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'),
       (select string_agg(format('%s %s', pg_get_userbyid(defaclrole), defaclacl),
                          E'\\n' order by defaclrole, defaclobjtype) from pg_default_acl)
"""


def privileges(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(PRIVILEGES).fetchone()


def drop_database(url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


def create_database_as(url: str, admin_url: str) -> None:
    """An empty database owned by the admin, as `POSTGRES_DB` or a DBA leaves it."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(admin_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def reference(scratch_url) -> tuple:
    """What migrating a database that did not exist gives (the scratch database)."""
    return fingerprint(scratch_url), privileges(scratch_url)


@pytest.fixture
def limited_admin() -> Iterator[str]:
    """A login role with CREATEDB and CREATEROLE but not SUPERUSER: a managed service's
    admin. Yields its URL on the test server."""
    name = conninfo_to_dict(scratch_database_url("admin"))["dbname"]
    with psycopg.connect(make_conninfo(TEST_DATABASE_URL, dbname="postgres"),
                         autocommit=True) as conn:
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create role {} login createdb createrole").format(
            sql.Identifier(name)))
    yield with_user(TEST_DATABASE_URL, name)
    with psycopg.connect(make_conninfo(TEST_DATABASE_URL, dbname="postgres"),
                         autocommit=True) as conn:
        for db in conn.execute("select datname from pg_database"
                               " where pg_get_userbyid(datdba) = %s", (name,)).fetchall():
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(db[0])))
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def test_existing_empty_database_owned_by_the_admin(reference):
    url = scratch_database_url("precreated")
    drop_database(url)
    create_database_as(url, TEST_DATABASE_URL)
    try:
        migrate.migrate(url)
        assert (fingerprint(url), privileges(url)) == reference
    finally:
        drop_database(url)


@pytest.mark.parametrize("precreated", [False, True], ids=["no-database", "precreated"])
def test_admin_with_createdb_and_createrole_only(reference, limited_admin, precreated):
    name = conninfo_to_dict(scratch_database_url("managed"))["dbname"]
    url = with_database(limited_admin, name)
    drop_database(with_database(TEST_DATABASE_URL, name))
    if precreated:
        create_database_as(url, limited_admin)
    try:
        migrate.migrate(url)
        migrate.migrate(url)  # and again, as that admin
        assert (fingerprint(url), privileges(url)) == reference
    finally:
        drop_database(with_database(TEST_DATABASE_URL, name))


def test_rerun_after_each_step_is_idempotent(reference):
    url = scratch_database_url("rerun")
    drop_database(url)
    try:
        migrate.bootstrap(url)
        migrate.bootstrap(url)
        migrate.apply_migrations(url)
        migrate.migrate(url)
        migrate.migrate(url)
        assert (fingerprint(url), privileges(url)) == reference
    finally:
        drop_database(url)


def test_two_migrations_started_at_once(reference):
    """Both succeed: the second waits for the first, then finds nothing to do."""
    url = scratch_database_url("twice")
    drop_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    try:
        procs = [subprocess.Popen([sys.executable, "-m", "server.ops.migrate"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        every = f"{len(list(migrate.MIGRATIONS_DIR.glob('*.sql')))} migration(s) applied"
        applied = sorted(every in o for o in outputs)
        assert applied == [False, True], outputs
        assert (fingerprint(url), privileges(url)) == reference
    finally:
        drop_database(url)
