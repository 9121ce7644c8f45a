"""plpgsql_check over every PL/pgSQL function of the domain schemas.

Each function is checked as PostgreSQL would run it (its own search_path and settings),
trigger functions once per table they are attached to, with that table's transition
tables. Errors, warnings, extra warnings (unused variables and parameters), performance
warnings (hidden casts, volatility) and security warnings all fail the test unless the
finding is in ACCEPTED below, with the reason it is right as it is. An accepted finding
that is no longer reported fails too, so the list only holds what is still true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from server.ops.migrate import SQL_DIR, repeatable_schemas

# (function, message) -> why the function stays as it is. Keep each reason to one line.
ACCEPTED: dict[tuple[str, str], str] = {
    ("segments.expire_memberships(timestamp with time zone,integer)",
     'unused parameter "p_scheduled_at"'):
        "the job runner passes every job its scheduled time; this job names the run by it "
        "and reads the clock",
}

# Functions to check: PL/pgSQL, in the domain schemas, not an extension's. A trigger
# function is paired with each table whose triggers call it (no table: relid stays null).
TARGETS = """
select p.oid::regprocedure::text as function,
       p.oid,
       p.prorettype = 'trigger'::regtype as is_trigger,
       t.tgrelid::regclass::text as relation,
       t.tgrelid as relid,
       array_remove(array_agg(distinct t.tgoldtable), null) as old_tables,
       array_remove(array_agg(distinct t.tgnewtable), null) as new_tables
  from pg_proc p
  join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
  left join pg_trigger t on t.tgfoid = p.oid and not t.tgisinternal
 where p.pronamespace::regnamespace::text = any(%s)
   and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                      and d.deptype = 'e')
 group by p.oid, t.tgrelid
 order by 1, 4
"""

CHECK = """
select coalesce(lineno, 0), level, coalesce(sqlstate, ''), message, detail, hint, query
  from plpgsql_check_function_tb(
         %(oid)s::oid::regprocedure, coalesce(%(relid)s::oid, 0)::regclass,
         fatal_errors => false, other_warnings => true, extra_warnings => true,
         performance_warnings => true, security_warnings => true,
         oldtable => %(oldtable)s, newtable => %(newtable)s)
"""


@dataclass(frozen=True)
class Finding:
    function: str
    relation: str | None
    lineno: int
    level: str
    sqlstate: str
    message: str
    detail: str | None
    hint: str | None
    query: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.function, self.message)

    def describe(self) -> str:
        where = _source_line(self.function, self.lineno)
        on = f" (trigger on {self.relation})" if self.relation else ""
        text = f"{where}: {self.function}{on}: {self.level} {self.sqlstate}: {self.message}"
        for label, value in (("detail", self.detail), ("hint", self.hint),
                             ("query", self.query)):
            if value:
                text += f"\n    {label}: " + " ".join(value.split())
        return text


def _source_line(function: str, lineno: int) -> str:
    """file:line of a function body's line, found in sql/<schema>/*.sql."""
    qualified = function.split("(", 1)[0]
    schema = qualified.split(".", 1)[0]
    create = re.compile(r"create\s+(or\s+replace\s+)?function\s+" + re.escape(qualified)
                        + r"\s*\(", re.IGNORECASE)
    for path in sorted((SQL_DIR / schema).glob("*.sql")):
        lines = path.read_text().splitlines()
        for start, line in enumerate(lines):
            if not create.search(line):
                continue
            # The body's first line is the one its dollar quote opens on.
            for body, text in enumerate(lines[start:], start=start + 1):
                if re.search(r"\bas\s+\$\w*\$", text, re.IGNORECASE):
                    rel = path.relative_to(SQL_DIR.parent)
                    return f"{rel}:{body + max(lineno, 1) - 1}"
            return str(path.relative_to(SQL_DIR.parent))
    return "(source not found)"


def check_functions(conn: psycopg.Connection) -> tuple[list[str], list[Finding]]:
    """Every checked function (with its table, for triggers) and every finding."""
    checked: list[str] = []
    findings: list[Finding] = []
    targets = conn.execute(TARGETS, (repeatable_schemas(),)).fetchall()
    for function, oid, is_trigger, relation, relid, old_tables, new_tables in targets:
        label = f"{function} on {relation}" if relation else function
        if is_trigger and relid is None:
            findings.append(Finding(function, None, 0, "error", "", "trigger function is "
                                    "not attached to any trigger, so it cannot be checked",
                                    None, None, None))
            continue
        if len(old_tables) > 1 or len(new_tables) > 1:
            findings.append(Finding(function, relation, 0, "error", "", "the triggers on "
                                    f"{relation} name its transition tables differently "
                                    f"({old_tables}, {new_tables}); use one name each",
                                    None, None, None))
            continue
        checked.append(label)
        rows = conn.execute(CHECK, {"oid": oid, "relid": relid,
                                    "oldtable": old_tables[0] if old_tables else None,
                                    "newtable": new_tables[0] if new_tables else None})
        for lineno, level, sqlstate, message, detail, hint, query in rows:
            findings.append(Finding(function, relation, lineno, level, sqlstate, message,
                                    detail, hint, query))
    return checked, findings


def test_plpgsql_check_reports_only_accepted_findings(admin_db: psycopg.Connection) -> None:
    checked, findings = check_functions(admin_db)
    # The check must have had something to check: the API functions and the triggers.
    assert "booking.reserve_seats(bigint[],text[],text[],text[])" in checked
    assert "booking.tg_bookings__count_seats() on booking.bookings" in checked
    assert len(checked) >= 50, checked

    new = [f for f in findings if f.key not in ACCEPTED]
    seen = {f.key for f in findings}
    stale = [key for key in ACCEPTED if key not in seen]
    problems = []
    if new:
        problems.append(
            f"plpgsql_check found {len(new)} problem(s). Fix the SQL, or, if the code is "
            "right as it is, add (function, message) with a one-line reason to ACCEPTED in "
            f"{Path(__file__).relative_to(SQL_DIR.parent)}:\n"
            + "\n".join(f.describe() for f in new))
    if stale:
        problems.append(
            "accepted findings that plpgsql_check no longer reports (remove them from "
            "ACCEPTED):\n" + "\n".join(f"  {fn}: {message}" for fn, message in stale))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def test_every_accepted_finding_has_a_reason() -> None:
    for key, reason in ACCEPTED.items():
        assert reason.strip(), key
