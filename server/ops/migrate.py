"""Bring a database to the current schema.

Three steps, each safe to repeat:
1. bootstrap (as the DATABASE_URL user): the owner and application roles, the database
   itself (owned by the owner role), CONNECT for the application role;
2. versioned migrations from sql/migrations (yoyo), run as the owner role;
3. repeatable SQL from sql/<schema>/*.sql (functions, triggers, views, grants), re-applied
   on every run in one transaction: every function and view in those schemas is dropped
   and created again, so a file's current text is always what the database runs, and a
   removed function does not linger.

Tables must not depend on repeatable objects (no repeatable function in a CHECK or a
DEFAULT); step 3 refuses to run if one does rather than let CASCADE drop a constraint.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..core.config import APP_ROLE, JOBS_ROLE, OPERATOR_ROLE, OWNER_ROLE, Settings

log = logging.getLogger("tally.migrate")

# A built tally carries its SQL as server/sql (setup.py); a source tree has it at the top.
_PACKAGED_SQL = Path(__file__).resolve().parents[1] / "sql"
SQL_DIR = _PACKAGED_SQL if _PACKAGED_SQL.is_dir() else Path(__file__).resolve().parents[2] / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
# Schemas whose repeatable SQL runs first (others follow in name order).
FIRST_SCHEMAS = ("tally",)
# Directories of sql/ that are not a schema's repeatable SQL: the versioned migrations, and
# the sharded mode's routing functions (applied to the proxy database by server.ops.shards).
NOT_SCHEMAS = ("migrations", "proxy")
# Work done at the end of the repeatable SQL's transaction (the proxy's routing functions).
Overlay = Callable[[psycopg.Connection], None]


def repeatable_schemas(sql_dir: Path = SQL_DIR) -> list[str]:
    names = sorted(p.name for p in sql_dir.iterdir() if p.is_dir() and p.name not in NOT_SCHEMAS)
    return [n for n in FIRST_SCHEMAS if n in names] + [n for n in names if n not in FIRST_SCHEMAS]


def _as_owner(conninfo: str) -> str:
    """The same connection, working as the owner role from its first statement."""
    return make_conninfo(conninfo, options=f"-c role={OWNER_ROLE}")


def _maintenance(database_url: str) -> str:
    """The same server and credentials, on the maintenance database `postgres`."""
    return make_conninfo(database_url, dbname="postgres")


def bootstrap(database_url: str) -> None:
    """Roles, the database and its ownership, from whatever the admin left.

    Starting points: no database yet; an empty database the admin created (the postgres
    image's POSTGRES_DB, a DBA, a managed service); a database tally already owns. In
    each, the database ends owned by the owner role, so the owner role may create in
    schema public (PostgreSQL 15 gives CREATE there to the database owner only) and the
    privileges end the same whoever created it. The admin needs SUPERUSER, or CREATEDB
    and CREATEROLE (a managed PostgreSQL's admin).
    """
    params = conninfo_to_dict(database_url)
    # Typed str | int, but every value parsed from a connection string is a str.
    dbname = str(params.get("dbname") or "postgres")
    with psycopg.connect(_maintenance(database_url), autocommit=True) as conn:
        # Roles are cluster-wide and several migrators may race: tolerate "already exists".
        conn.execute(
            sql.SQL(
                """
                do $boot$ begin
                  begin create role {owner} nologin;
                  exception when duplicate_object or unique_violation then null; end;
                  begin create role {app} login;
                  exception when duplicate_object or unique_violation then null; end;
                  begin create role {jobs} login;
                  exception when duplicate_object or unique_violation then null; end;
                  begin create role {operator} nologin;
                  exception when duplicate_object or unique_violation then null; end;
                end $boot$
                """
            ).format(owner=sql.Identifier(OWNER_ROLE), app=sql.Identifier(APP_ROLE),
                     jobs=sql.Identifier(JOBS_ROLE), operator=sql.Identifier(OPERATOR_ROLE))
        )
        # An operator may do by hand what the job runner does, and nothing more.
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(JOBS_ROLE),
                                                      sql.Identifier(OPERATOR_ROLE)))
        role = conn.execute(
            "select rolsuper from pg_roles where rolname = current_user").fetchone()
        if role is None:
            raise RuntimeError("the current user has no row in pg_roles")
        if not role[0]:
            # A non-superuser admin acts through membership in the owner role.
            conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(OWNER_ROLE)))
        owner = conn.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = %s", (dbname,)
        ).fetchone()
        if owner is None:
            try:
                conn.execute(
                    sql.SQL("create database {} owner {}").format(
                        sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                    )
                )
                log.info("created database %s", dbname)
            except psycopg.errors.DuplicateDatabase:
                pass
        elif owner[0] != OWNER_ROLE:
            try:
                conn.execute(
                    sql.SQL("alter database {} owner to {}").format(
                        sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                    )
                )
            except psycopg.errors.InsufficientPrivilege as exc:
                raise SystemExit(
                    f"database {dbname} is owned by {owner[0]}, and {params.get('user')} "
                    f"may not hand it to {OWNER_ROLE}: migrate as a superuser or as the "
                    f"database's owner with CREATEDB ({exc})"
                ) from exc
            log.info("database %s was owned by %s; now owned by %s", dbname, owner[0],
                     OWNER_ROLE)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Only tally's login roles may connect. psql users (tally_app) may stage data in
        # temporary tables; the job runner needs none.
        database = sql.Identifier(dbname)
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public")
                     .format(database))
        conn.execute(sql.SQL("grant connect, temporary on database {} to {}").format(
            database, sql.Identifier(APP_ROLE)))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(
            database, sql.Identifier(JOBS_ROLE)))
        # Where the server logs in with passwords (docker-compose), set them.
        for login, variable in ((APP_ROLE, "TALLY_APP_PASSWORD"),
                                (JOBS_ROLE, "TALLY_JOBS_PASSWORD")):
            password = os.environ.get(variable)
            if password:
                conn.execute(sql.SQL("alter role {} password {}").format(
                    sql.Identifier(login), sql.Literal(password)))


def _yoyo_uri(database_url: str) -> str:
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"-c role={OWNER_ROLE}"
    scheme = "postgresql+psycopg"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))


def apply_migrations(database_url: str) -> int:
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_uri(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        for m in pending:
            log.info("applying migration %s", m.id)
        backend.apply_migrations(pending)
    backend.connection.close()
    return len(pending)


_DEPENDENT_TABLE_OBJECTS = """
select distinct format('%%s depends on %%s', pg_describe_object(d.classid, d.objid, d.objsubid),
                       p.oid::regprocedure)
  from pg_depend d
  join pg_proc p on d.refclassid = 'pg_proc'::regclass and d.refobjid = p.oid
 where p.pronamespace = any(%s::regnamespace[])
   and (d.classid in ('pg_constraint'::regclass, 'pg_attrdef'::regclass)
        or (d.classid = 'pg_class'::regclass
            and (select relkind from pg_class where oid = d.objid) in ('i', 'I')))
"""


def apply_repeatable(database_url: str, sql_dir: Path = SQL_DIR, overlay: Overlay | None = None
                     ) -> str:
    """Drop and re-create every function and view of the domain schemas; returns a digest.
    `overlay`, if given, runs last in the same transaction, so no other session ever sees
    the schemas between the two (the sharded mode's proxy replaces functions there)."""
    schemas = repeatable_schemas(sql_dir)
    digest = hashlib.sha256()
    with psycopg.connect(_as_owner(database_url)) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('tally.migrate.repeatable'))")
        if overlay is None and conn.execute(
                "select to_regclass('plproxy.partitions') is not null").fetchone() == (True,):
            # Its own (empty) clicks and booking functions would hide the partitions' rows.
            raise SystemExit("this database is the proxy of a sharded tally: migrate it with "
                             "SHARDS set to its number of partitions")
        present = [
            r[0]
            for r in conn.execute(
                "select nspname from pg_namespace where nspname = any(%s)", (schemas,)
            )
        ]
        blockers = [r[0] for r in conn.execute(_DEPENDENT_TABLE_OBJECTS, (present,))]
        if blockers:
            raise SystemExit(
                "tables depend on repeatable functions (move these into a migration):\n  "
                + "\n  ".join(blockers)
            )
        for schema in present:
            views = conn.execute(
                "select format('%%I.%%I', n.nspname, c.relname) from pg_class c"
                " join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = %s and c.relkind in ('v', 'm')",
                (schema,),
            ).fetchall()
            for (view,) in views:
                conn.execute(f"drop view if exists {view} cascade")
            funcs = conn.execute(
                "select p.oid::regprocedure::text, p.prokind from pg_proc p"
                " where p.pronamespace = %s::regnamespace and p.prokind in ('f', 'p')"
                "   and not exists (select 1 from pg_depend d where d.objid = p.oid"
                "                    and d.deptype = 'e')",
                (schema,),
            ).fetchall()
            for signature, kind in funcs:
                what = "procedure" if kind == "p" else "function"
                conn.execute(f"drop {what} if exists {signature} cascade")
        for schema in schemas:
            for path in sorted((sql_dir / schema).glob("*.sql")):
                text = path.read_text()
                digest.update(path.name.encode() + b"\0" + text.encode())
                try:
                    conn.execute(text)
                except psycopg.Error as exc:
                    raise SystemExit(f"{path.relative_to(sql_dir.parent)}: {exc}") from exc
        if overlay is not None:
            overlay(conn)
    return digest.hexdigest()[:12]


def migrate(database_url: str, overlay: Overlay | None = None) -> None:
    """All three steps, under one lock per database: a second migrate started meanwhile
    waits for the first and then finds nothing left to do. `overlay`: see apply_repeatable."""
    dbname = conninfo_to_dict(database_url).get("dbname") or "postgres"
    with psycopg.connect(_maintenance(database_url), autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(hashtext('tally.migrate'), hashtext(%s))",
                     (dbname,))
        bootstrap(database_url)
        pending = apply_migrations(database_url)
        digest = apply_repeatable(database_url, overlay=overlay)
    log.info("schema up to date (%d migration(s) applied, repeatable SQL %s)", pending, digest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Apply tally's migrations and repeatable SQL.")
    parser.add_argument("--database-url", help="defaults to DATABASE_URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    try:
        if settings.shards > 0:
            from .shards import migrate_sharded

            migrate_sharded(url, settings.shards)
        else:
            migrate(url)
    except psycopg.OperationalError as exc:
        sys.exit(f"cannot reach PostgreSQL at {url}: {exc}")


if __name__ == "__main__":
    main()
