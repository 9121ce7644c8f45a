"""tests/schema.sql is what a fresh migrate creates (see tests/schema_snapshot.py)."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests import schema_snapshot


def test_fresh_migrate_matches_the_committed_schema() -> None:
    current = schema_snapshot.fresh_schema()
    committed = (schema_snapshot.SNAPSHOT.read_text()
                 if schema_snapshot.SNAPSHOT.exists() else "")
    if current != committed:
        pytest.fail("the schema a fresh migrate creates differs from tests/schema.sql:\n"
                    + schema_snapshot.diff(committed, current)
                    + "\n\nIf the change is intended, regenerate the snapshot with "
                    + schema_snapshot.REGENERATE + " and commit it with the change.",
                    pytrace=False)


def test_normalising_leaves_out_what_varies(admin_db: psycopg.Connection,
                                            database_url: str) -> None:
    # The test database has the test-only extensions and today's daily partitions.
    installed = {r[0] for r in admin_db.execute("select extname from pg_extension")}
    assert {"pgtap", "plpgsql_check"} <= installed
    raw = schema_snapshot.dump(database_url)
    assert "CREATE EXTENSION IF NOT EXISTS pgtap" in raw
    assert re.search(r"^SET ", raw, re.MULTILINE)

    text = schema_snapshot.normalise(raw)
    for extension in ("pgtap", "plpgsql_check"):
        assert f"EXTENSION IF NOT EXISTS {extension}" not in text
        assert f"ON EXTENSION {extension}" not in text
    assert not re.search(r"^(SET |\\restrict|\\unrestrict|-- Dumped )", text, re.MULTILINE)
    assert not re.search(r"minute_counts_p\d{8}", text)
    assert "\n\n\n" not in text
    assert "CREATE TABLE clicks.minute_counts_default" in text
    assert "CREATE FUNCTION booking.reserve_seats(" in text
