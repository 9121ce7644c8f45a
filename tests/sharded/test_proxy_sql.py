"""plpgsql_check over the proxy's routing functions (sql/proxy/): no errors, as the
proxy runs them (their own search_path, the PL/Proxy functions they call)."""

from __future__ import annotations

import psycopg

CHECKED = """
select p.oid::regprocedure::text, e.level, e.message, e.query
  from pg_proc p
  join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
 cross join lateral plpgsql_check_function_tb(p.oid::regprocedure, fatal_errors => false,
                                              other_warnings => false) e
 where p.pronamespace::regnamespace::text in ('clicks', 'booking', 'tally', 'plproxy')
   and (p.prosrc ~ '\\m_\\w+_on(_all)?\\(' or p.proname = '_raise_remote'
        or p.pronamespace = 'plproxy'::regnamespace)
   and e.level = 'error'
"""


def test_the_routing_functions_check_clean(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create extension if not exists plpgsql_check")
        routed = conn.execute(
            "select count(*) from pg_proc p join pg_language l on l.oid = p.prolang"
            " where l.lanname = 'plpgsql' and p.prosrc ~ '\\m_\\w+_on(_all)?\\('").fetchone()
        assert routed is not None and routed[0] >= 15
        assert conn.execute(CHECKED).fetchall() == []
