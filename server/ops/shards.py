"""The sharded mode: N partition databases behind a PL/Proxy proxy database.

    SHARDS=2 python -m server.ops.migrate      (or: make run SHARDS=2)

DATABASE_URL names the proxy, `<db>`; the partitions are `<db>_p0` .. `<db>_p<N-1>` on the
same server. Each partition is a whole tally database, migrated as usual, whose banner,
event and booking ids are allocated so that `id % N` is the partition's number. The proxy
is a whole tally database too (segments, shop, API keys and job runs stay there), except
that the clicks and booking API functions (sql/proxy/) route each call to the partition
that owns its key, through the PL/Proxy cluster `tally`:

    select * from plproxy.get_cluster_partitions('tally');   -- the partitions, in order

The cluster is configured by functions (plproxy.get_cluster_partitions, _version, _config)
over the table plproxy.partitions, not by SQL/MED (CREATE SERVER ... OPTIONS p0 ...): the
partition list is then plain data that migrate writes, that tally_app can read to route a
batch, and that tests and operators query with the function the PL/Proxy manuals name.

Resharding (a different N for an existing cluster) is refused: every id's partition is
fixed by `id % N`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..core.config import OWNER_ROLE, with_database
from . import migrate

log = logging.getLogger("tally.shards")

PROXY_SQL_DIR = migrate.SQL_DIR / "proxy"
# The proxy's routing SQL, schema by schema: the cluster's configuration first.
PROXY_SCHEMAS = ("plproxy", "tally", "clicks", "booking")
CLUSTER = "tally"
# Tables whose ids say which partition owns the row (id % N).
ROUTED_IDS = ("clicks.banners", "booking.events", "booking.bookings")


def partition_url(database_url: str, index: int) -> str:
    """The URL of partition `index`: the proxy's database name with `_p<index>`."""
    dbname = conninfo_to_dict(database_url).get("dbname") or "postgres"
    return with_database(database_url, f"{dbname}_p{index}")


def partition_urls(database_url: str, shards: int) -> list[str]:
    return [partition_url(database_url, i) for i in range(shards)]


def partition_conninfo(database_url: str, index: int) -> str:
    """The partition's connection string as plproxy.partitions holds it: no user (the
    cluster adds tally_app or tally_jobs, sql/proxy/plproxy/10_cluster.sql) and no
    password (give passwords in the proxy server's ~/.pgpass, or trust a local pooler)."""
    params = conninfo_to_dict(partition_url(database_url, index))
    kept = {k: v for k, v in params.items() if k in ("host", "port", "dbname", "sslmode")}
    return make_conninfo("", **kept)


def allocate_ids(database_url: str, index: int, shards: int) -> None:
    """Make the partition's id sequences hand out ids with id % shards == index, from above
    any id already given out. Idempotent: a sequence already stepping by `shards` on the
    right residue is left alone."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in ROUTED_IDS:
            seq = conn.execute("select pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
            if seq is None or seq[0] is None:
                raise RuntimeError(f"{table}.id has no sequence")
            row = conn.execute(
                "select s.seqincrement, s.seqstart, q.last_value"
                "  from pg_sequence s join pg_sequences q"
                "    on format('%%I.%%I', q.schemaname, q.sequencename)::regclass = s.seqrelid"
                " where s.seqrelid = %s::regclass", (seq[0],)).fetchone()
            if row is None:
                raise RuntimeError(f"no sequence {seq[0]}")
            increment, start_value, last = row  # last: null until the first id is taken
            if increment == shards and (start_value if last is None else last) % shards == index:
                continue
            top = conn.execute(
                sql.SQL("select coalesce(max(id), 0) from {}").format(
                    sql.Identifier(*table.split(".")))).fetchone()
            floor = max(last or 0, top[0] if top else 0)
            start = floor + 1 + (index - (floor + 1)) % shards
            conn.execute(sql.SQL("alter table {} alter column id set increment by {}"
                                 " set minvalue 1 set start with {} restart with {}").format(
                sql.Identifier(*table.split(".")), sql.Literal(shards), sql.Literal(start),
                sql.Literal(start)))
            log.info("%s on partition %d: ids from %d, step %d", table, index, start, shards)


def _proxy_files() -> list[Path]:
    return [p for schema in PROXY_SCHEMAS for p in sorted((PROXY_SQL_DIR / schema).glob("*.sql"))]


def proxy_overlay(database_url: str, shards: int) -> migrate.Overlay:
    """What turns a migrated tally database into the proxy, run at the end of its
    repeatable SQL's transaction (migrate.apply_repeatable): PL/Proxy, the cluster's
    configuration and partitions, and the routing functions of sql/proxy/ in place of
    the local clicks and booking functions."""
    conninfos = [partition_conninfo(database_url, i) for i in range(shards)]

    def overlay(conn: psycopg.Connection) -> None:
        # PL/Proxy is an untrusted language: the session's own (superuser) role creates
        # the extension and the routing functions, and hands them to the owner role.
        conn.execute("set local role none")
        conn.execute("create extension if not exists plproxy")
        conn.execute(sql.SQL("create schema if not exists plproxy authorization {}").format(
            sql.Identifier(OWNER_ROLE)))
        for path in _proxy_files():
            try:
                conn.execute(path.read_text())
            except psycopg.Error as exc:
                raise SystemExit(f"{path.relative_to(migrate.SQL_DIR.parent)}: {exc}") from exc
        present = [r[0] for r in conn.execute(
            "select conninfo from plproxy.partitions order by partition")]
        if present and len(present) != shards:
            raise SystemExit(
                f"this proxy routes to {len(present)} partitions, not {shards}: resharding "
                "moves rows between partitions and is not something migrate does")
        if not present and conn.execute(
                "select exists (select 1 from clicks.banners)"
                "    or exists (select 1 from booking.events)").fetchone() != (False,):
            raise SystemExit(
                "this database holds banners or events of its own: turning it into a proxy "
                "would hide them (moving rows to partitions is not something migrate does)")
        if present != conninfos:
            conn.execute("delete from plproxy.partitions")
            conn.execute("insert into plproxy.partitions (partition, conninfo)"
                         " select n - 1, c from unnest(%s::text[]) with ordinality u (c, n)",
                         (conninfos,))
            conn.execute("update plproxy.cluster set version = version + 1")
        # Everything in the routing schemas created above belongs to the owner role, as
        # the rest of the schema does (so the next migrate's owner can drop it), and is
        # not PUBLIC's to execute (the owner role's default privileges, which a function
        # created by another role does not get).
        for (signature,) in conn.execute(
                "select p.oid::regprocedure::text from pg_proc p"
                " where p.pronamespace = any(%s::regnamespace[])"
                "   and pg_get_userbyid(p.proowner) <> %s"
                "   and not exists (select 1 from pg_depend d where d.objid = p.oid"
                "                   and d.deptype = 'e')",
                (list(PROXY_SCHEMAS), OWNER_ROLE)).fetchall():
            conn.execute(sql.SQL("revoke execute on function {} from public").format(
                sql.SQL(signature)))
            conn.execute(sql.SQL("alter function {} owner to {}").format(
                sql.SQL(signature), sql.Identifier(OWNER_ROLE)))
        for table in ("plproxy.partitions", "plproxy.cluster"):
            conn.execute(sql.SQL("alter table {} owner to {}").format(
                sql.Identifier(*table.split(".")), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))

    return overlay


def routed_partitions(database_url: str) -> int | None:
    """How many partitions the proxy at `database_url` routes to; None when there is no
    such database yet, or it is no proxy."""
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            if conn.execute("select to_regclass('plproxy.partitions')").fetchone() == (None,):
                return None
            row = conn.execute("select count(*) from plproxy.partitions").fetchone()
            return int(row[0]) if row else None
    except psycopg.OperationalError:
        return None  # no database yet (or not reachable: migrate says so next)


def migrate_sharded(database_url: str, shards: int) -> None:
    """Every partition migrated and numbering its ids, then the proxy."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    routed = routed_partitions(database_url)
    if routed and routed != shards:
        # Before any partition is touched: their ids are numbered for `routed`.
        raise SystemExit(
            f"this proxy routes to {routed} partitions, not {shards}: resharding moves rows "
            "between partitions and is not something migrate does")
    for index, url in enumerate(partition_urls(database_url, shards)):
        migrate.migrate(url)
        allocate_ids(url, index, shards)
    migrate.migrate(database_url, overlay=proxy_overlay(database_url, shards))
    log.info("proxy %s routes to %d partition(s)",
             conninfo_to_dict(database_url).get("dbname"), shards)
