"""The repeatable SQL files keep the layout README's "Repeatable SQL files" states.

sql/<schema>/NN_<name>.sql holds one object, <schema>.<name> (a private helper's file has a
second underscore: 10__check_slug.sql holds segments._check_slug), and the prefix says
what it is:

    10  private helpers and trigger functions (tally's shared error helpers too); no grant
    20  API functions that only read (declared stable); EXECUTE to tally_app (in tally:
        to the role whose duty it is: tally_jobs, tally_operator or tally_app)
    30  API functions that write; granted as 20
    40  API functions built on other API functions of their schema; EXECUTE to tally_app
    50  what the scheduled jobs run (a server.domains JOBS statement calls it); EXECUTE to
        tally_jobs
    60  published views; SELECT to tally_app or tally_jobs
    90  statements run at every migrate; no object

Read from the files as text, so a misplaced file fails here with its name, before any
database is involved.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

SQL = ROOT / "sql"
FILES = sorted(p for p in SQL.glob("*/*.sql") if p.parent.name != "migrations")
FILE_NAME = re.compile(r"^(?P<prefix>\d\d)_(?P<name>_?[a-z0-9_]+)\.sql$")
CREATED = re.compile(r"^create (?P<kind>function|view) (?P<schema>\w+)\.(?P<name>\w+)", re.M)
# tally's helpers that every schema's functions call by their plain names
SHARED_HELPERS = {("tally", "raise_error"), ("tally", "check_id"), ("tally", "raise_not_found")}
# tally's own API serves every role by its duty: the job runner (job runs, fencing), the
# operators (API keys), the server (authenticating a key)
TALLY_ROLES = {"tally_jobs", "tally_operator", "tally_app"}
# Jobs are declared by the domains, and the shared schema's by server/jobs/shared.py.
JOB_STATEMENTS = "\n".join(p.read_text() for p in [*(ROOT / "server" / "domains").glob("*.py"),
                                                    ROOT / "server" / "jobs" / "shared.py"])


def api_functions(schema: str) -> set[str]:
    """The schema's API functions: what its 20_ and 30_ files create."""
    return {
        m["name"]
        for p in (SQL / schema).glob("[23]0_*.sql")
        for m in CREATED.finditer(p.read_text())
    }


def test_there_are_files() -> None:
    assert len(FILES) > 40


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_holds_what_its_name_and_prefix_say(path: Path) -> None:
    schema = path.parent.name
    named = FILE_NAME.match(path.name)
    assert named, f"{path.name}: not NN_<name>.sql"
    prefix, name = named["prefix"], named["name"]
    text = path.read_text()
    created = [(m["kind"], m["schema"], m["name"]) for m in CREATED.finditer(text)]
    grants = re.findall(r"^grant (\w+) on (?:function )?([\w.]+)[^;]*? to (\w+);", text,
                        re.M | re.S)

    if prefix == "90":
        assert not created, f"{path.name}: a 90_ file runs statements, it defines nothing"
        return
    assert len(created) == 1, f"{path.name}: one object per file, found {created}"
    kind, in_schema, object_name = created[0]
    assert (in_schema, object_name) == (schema, name), (
        f"{path.name} holds {in_schema}.{object_name}, not {schema}.{name}")

    if prefix == "10":
        assert kind == "function"
        assert name.startswith(("_", "tg_")) or (schema, name) in SHARED_HELPERS, (
            f"{path.name}: 10_ holds private helpers (_name) and trigger functions (tg_)")
        assert not grants, f"{path.name}: a private helper gets no grant"
    elif prefix in ("20", "30", "40", "50"):
        assert kind == "function" and not name.startswith("_"), f"{path.name}: an API function"
        roles = ({"tally_jobs"} if prefix == "50"
                 else TALLY_ROLES if schema == "tally" else {"tally_app"})
        assert len(grants) == 1 and grants[0][:2] == ("execute", f"{schema}.{name}") and (
            grants[0][2] in roles), (
            f"{path.name}: an API function grants EXECUTE on itself to one of {sorted(roles)}")
        stable = re.search(r"^(stable|immutable)$", text, re.M) is not None
        if prefix == "20":
            assert stable, f"{path.name}: 20_ holds functions that only read (stable)"
        else:
            assert not stable, f"{path.name}: {prefix}_ holds functions that write"
        if prefix == "40":
            called = set(re.findall(rf"\b{schema}\.(\w+)\(", text)) - {name}
            assert called & api_functions(schema), (
                f"{path.name}: 40_ holds API functions built on other API functions")
        if prefix == "50":
            assert f"{schema}.{name}(" in JOB_STATEMENTS, (
                f"{path.name}: 50_ holds what a scheduled job runs")
    elif prefix == "60":
        assert kind == "view", f"{path.name}: 60_ holds published views"
        assert len(grants) == 1 and grants[0][:2] == ("select", f"{schema}.{name}") and (
            grants[0][2] in ("tally_app", "tally_jobs")), (
            f"{path.name}: a published view grants SELECT on itself to who reads it")
    else:
        pytest.fail(f"{path.name}: prefix {prefix}_ has no stated meaning")
