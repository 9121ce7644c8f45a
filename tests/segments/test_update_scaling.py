"""segments.update_user_segments is linear in its slugs, generic plans included (what a
pooled connection uses after a few calls): 8 times the slugs may cost at most about 8
times the time, with a wide margin for a noisy machine, where a slug compared with
every other would cost 64 times. Run in a transaction that is rolled back."""

from __future__ import annotations

import time

import psycopg

SMALL = 1_000
FACTOR = 8
# Linear: about FACTOR; quadratic: about FACTOR ** 2. Between the two, with room for noise.
MAX_RATIO = 3 * FACTOR


def _timed_call(conn: psycopg.Connection, user_id: int, prefix: str, n: int) -> float:
    adds = [f"{prefix}_a{i}" for i in range(n)]
    removes = [f"{prefix}_r{i}" for i in range(n)]
    conn.execute("select count(*) from unnest(%s::text[]) s, lateral segments.create_segment(s)",
                 (adds + removes,))
    conn.execute("select segments.create_user(%s)", (user_id,))
    expiries = [None if i % 2 else "2100-01-01T00:00:00Z" for i in range(n)]
    started = time.perf_counter()
    rows = conn.execute("select count(*) from segments.update_user_segments(%s, %s, %s, %s)",
                        (user_id, adds, removes, expiries)).fetchone()[0]
    elapsed = time.perf_counter() - started
    assert rows == 2 * n
    return elapsed


def test_update_user_segments_is_linear(database_url):
    with psycopg.connect(database_url) as conn:
        try:
            conn.execute("set local plan_cache_mode = force_generic_plan")
            _timed_call(conn, 9_100_000_001, "lin_warm", 50)
            # The best of two of each, so one stall of a shared machine does not decide.
            small = min(_timed_call(conn, 9_100_000_010 + i, f"lin_small{i}", SMALL)
                        for i in range(2))
            large = min(_timed_call(conn, 9_100_000_020 + i, f"lin_large{i}", SMALL * FACTOR)
                        for i in range(2))
        finally:
            conn.rollback()
    print(f"update_user_segments: {SMALL} + {SMALL} slugs {small:.3f} s,"
          f" {SMALL * FACTOR} + {SMALL * FACTOR} slugs {large:.3f} s, x{large / small:.1f}")
    assert large < MAX_RATIO * small
