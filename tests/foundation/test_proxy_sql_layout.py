"""sql/proxy/ keeps the layout of sql/<schema>/ (tests/foundation/test_sql_layout.py), for
the sharded mode's proxy (server/ops/shards.py applies it after the repeatable SQL):

    sql/proxy/plproxy/     the PL/Proxy cluster's configuration
    sql/proxy/tally/       the routing's private helpers (10__<name>), and a job's routed
                           form (50_<name>, in place of sql/tally/'s file of that name)
    sql/proxy/<domain>/    for clicks and booking: NN_<name>.sql replaces sql/<domain>/'s
                           file of the same name with <domain>.<name> of the same
                           signature, routed through its PL/Proxy helper <domain>._<name>_on

Every function clicks and booking grant must have its routed form here, or the proxy
would answer it from its own, empty, tables (tests/sharded checks the same on a migrated
proxy). Read from the files as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

SQL = ROOT / "sql"
PROXY = SQL / "proxy"
ROUTED = ("clicks", "booking")
CREATED = re.compile(r"^create or replace function (?P<schema>\w+)\.(?P<name>\w+)\(", re.M)
GRANTED = re.compile(r"^grant execute on function (\w+)\.(\w+)\(([^)]*)\) to (\w+);", re.M)
SIGNATURE = re.compile(r"^create (?:or replace )?function (\w+)\.(\w+)\((.*?)\)\s*\nreturns",
                       re.M | re.S)


def types_of(params: str) -> list[str]:
    """The argument types of a parameter list (names and defaults dropped)."""
    out = []
    for param in filter(None, (p.strip() for p in params.split(","))):
        words = param.split(" default ")[0].split()
        out.append(" ".join(words[1:]))
    return out


def test_only_the_known_directories():
    assert sorted(p.name for p in PROXY.iterdir()) == ["booking", "clicks", "plproxy", "tally"]


@pytest.mark.parametrize("schema", ROUTED)
def test_every_granted_function_is_routed(schema):
    granted = {m[2] for p in (SQL / schema).glob("*.sql")
               for m in GRANTED.finditer(p.read_text()) if m[1] == schema}
    routed = {m["name"] for p in (PROXY / schema).glob("*.sql")
              for m in CREATED.finditer(p.read_text()) if m["schema"] == schema}
    assert granted and granted <= routed, granted - routed


@pytest.mark.parametrize("path", [PROXY / s for s in ROUTED], ids=lambda p: p.name)
def test_a_routed_file_replaces_its_namesake_with_the_same_signature(path: Path):
    for file in sorted(path.glob("*.sql")):
        original = SQL / path.name / file.name
        assert original.exists(), f"{file.name}: no sql/{path.name}/{file.name} to replace"
        name = file.stem.split("_", 1)[1]
        created = [(m["schema"], m["name"]) for m in CREATED.finditer(file.read_text())]
        assert (path.name, name) in created, f"{file.name} does not create {path.name}.{name}"
        for schema, helper in created:
            assert schema == path.name
            assert helper == name or re.fullmatch(rf"_{name}_on(_all)?", helper), helper
        signatures = {(m[1], m[2]): types_of(m[3])
                      for m in SIGNATURE.finditer(original.read_text())}
        routed = {(m[1], m[2]): types_of(m[3]) for m in SIGNATURE.finditer(file.read_text())}
        assert routed[(path.name, name)] == signatures[(path.name, name)], file.name
        assert GRANTED.findall(file.read_text()) == GRANTED.findall(original.read_text()), (
            f"{file.name}: grants differ from sql/{path.name}/{file.name}")


def test_tally_files_are_helpers_or_routed_jobs():
    for file in sorted((PROXY / "tally").glob("*.sql")):
        prefix, name = file.stem.split("_", 1)
        created = [(m["schema"], m["name"]) for m in CREATED.finditer(file.read_text())]
        assert ("tally", name) in created, file.name
        if prefix == "10":
            assert name.startswith("_") and not GRANTED.findall(file.read_text()), file.name
        else:
            assert (SQL / "tally" / file.name).exists(), file.name
