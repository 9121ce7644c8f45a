"""The schema a fresh migrate creates, as committed in tests/schema.sql.

  python -m tests.schema_snapshot           exit 1 and print a diff if the snapshot is stale
  python -m tests.schema_snapshot --write   migrate a scratch database and rewrite it

The snapshot is `pg_dump --schema-only` of a database migrated from nothing, with what
varies from run to run taken out: pg_dump's version lines, its `\\restrict` keys, the SET
lines of its preamble, the daily partitions of clicks.minute_counts (named after the
dates they cover), yoyo's own bookkeeping tables, and the test-only extensions (pgTAP,
plpgsql_check). Everything else (tables, constraints, indexes, functions with their
bodies, triggers, views, owners and grants) is compared as pg_dump writes it.
"""

from __future__ import annotations

import argparse
import difflib
import glob
import itertools
import re
import shutil
import subprocess
import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.support import ROOT, recreate_database, scratch_database_url

SNAPSHOT = ROOT / "tests" / "schema.sql"
REGENERATE = "make schema-snapshot (or: python -m tests.schema_snapshot --write)"
TEST_ONLY_EXTENSIONS = ("pgtap", "plpgsql_check")
EXCLUDED_TABLES = (
    "clicks.minute_counts_p????????",  # one partition per day, created by date
    "public._yoyo_*",  # the migration tool's own tables
    "public.yoyo_lock",
)
HEADER = f"""\
-- The schema that `python -m server.ops.migrate` creates in an empty database, as
-- pg_dump --schema-only writes it (normalised, see tests/schema_snapshot.py).
-- Compared by tests/foundation/test_schema_snapshot.py. Do not edit: regenerate with
-- {REGENERATE}
-- and review the diff with the change that caused it.
"""

_TOC_ENTRY = re.compile(r"^-- Name: (?P<name>.*?); Type: (?P<type>.*?); Schema: ")
_NOISE = (
    re.compile(r"^\\(un)?restrict \S+$"),  # a random key per dump (pg_dump 15.14 on)
    re.compile(r"^SET \w+ = .*;$"),
    re.compile(r"^SELECT pg_catalog\.set_config\('search_path', '', false\);$"),
    re.compile(r"^-- Dumped (from database|by pg_dump) version "),
)


def pg_dump_binary(conn: psycopg.Connection) -> str:
    """pg_dump of the server's major version if installed, else the one on PATH."""
    major = int(conn.execute("show server_version_num").fetchone()[0]) // 10000
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/{major}/bin/pg_dump")):
        return candidate
    found = shutil.which("pg_dump")
    if not found:
        raise RuntimeError("pg_dump is not installed (postgresql-client)")
    return found


def dump(url: str) -> str:
    with psycopg.connect(url) as conn:
        binary = pg_dump_binary(conn)
    cmd = [binary, "--schema-only", "--no-password", f"--dbname={url}"]
    cmd += [f"--exclude-table={pattern}" for pattern in EXCLUDED_TABLES]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _toc_blocks(text: str) -> list[tuple[str | None, str | None, list[str]]]:
    """The dump cut at pg_dump's `--` / `-- Name: ...` / `--` entry headers:
    (name, type, lines) per entry; the preamble has no name."""
    lines = text.splitlines()
    starts = [i - 1 for i, line in enumerate(lines)
              if _TOC_ENTRY.match(line) and i > 0 and lines[i - 1] == "--"]
    blocks: list[tuple[str | None, str | None, list[str]]] = []
    bounds = [0, *starts, len(lines)]
    for lo, hi in itertools.pairwise(bounds):
        if lo == hi:
            continue
        entry = _TOC_ENTRY.match(lines[lo + 1]) if lo in starts else None
        blocks.append((entry["name"] if entry else None, entry["type"] if entry else None,
                       lines[lo:hi]))
    return blocks


def _test_only(name: str | None, type_: str | None) -> bool:
    return any((type_ == "EXTENSION" and name == ext)
               or (type_ == "COMMENT" and name == f"EXTENSION {ext}")
               for ext in TEST_ONLY_EXTENSIONS)


def normalise(text: str) -> str:
    kept: list[str] = []
    for name, type_, lines in _toc_blocks(text):
        if _test_only(name, type_):
            continue
        kept.extend(line.rstrip() for line in lines
                    if not any(p.match(line) for p in _NOISE))
    body = "\n".join(kept)
    # pg_dump's opening and closing banners, and the blank runs the removals leave.
    body = re.sub(r"^--\n-- PostgreSQL database dump( complete)?\n--\n", "", body,
                  flags=re.MULTILINE)
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    return HEADER + "\n" + body + "\n"


def fresh_schema() -> str:
    """Migrate a scratch database from nothing and return its normalised dump."""
    url = scratch_database_url("schema")
    recreate_database(url)
    try:
        return normalise(dump(url))
    finally:
        with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(conninfo_to_dict(url)["dbname"])))


def diff(expected: str, actual: str, limit: int = 300) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                      "tests/schema.sql (committed)",
                                      "fresh migrate", lineterm=""))
    more = len(lines) - limit
    return "\n".join(lines[:limit]) + (f"\n... {more} more diff lines" if more > 0 else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite tests/schema.sql")
    args = parser.parse_args(argv)
    current = fresh_schema()
    if args.write:
        SNAPSHOT.write_text(current)
        print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
        return
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if committed != current:
        print(diff(committed, current))
        sys.exit(f"tests/schema.sql is stale; regenerate: {REGENERATE}")
    print("tests/schema.sql is up to date")


if __name__ == "__main__":
    main()
