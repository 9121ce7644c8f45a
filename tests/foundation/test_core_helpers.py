"""The helpers in server/core that the domains share, on their own: outcome rows of batch
functions (rows made by PostgreSQL), request values to SQL and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2

from server.core import convert, errors

OUTCOME_SQL = """
select v.*
  from (values ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text))
       as v (id, error_sqlstate, error_reason, error_message, error_field, error_hint)
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(database_url)
    yield c
    await c.close()


async def outcome_row(conn: asyncpg.Connection, sqlstate: str | None = None,
                      reason: str | None = None, message: str | None = None,
                      field: str | None = None, hint: str | None = None) -> asyncpg.Record:
    return await conn.fetchrow(OUTCOME_SQL, 7, sqlstate, reason, message, field, hint)


async def test_an_outcome_row_without_error_is_the_value(conn):
    row = await outcome_row(conn)
    assert errors.outcome(row, lambda r: r["id"] * 2) == 14


async def test_an_outcome_row_with_a_domain_error_keeps_its_reason_and_field(conn):
    row = await outcome_row(conn, "TLIA1", "USER_ID_INVALID", "user_id is too long",
                            "user_id")
    error = errors.outcome(row, lambda r: r["id"])
    assert isinstance(error, errors.RpcError)
    assert (error.code, error.reason, error.message, error.field, error.sqlstate) == (
        grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID", "user_id is too long",
        "user_id", "TLIA1")


async def test_an_outcome_row_hint_becomes_precondition_failure(conn):
    hint = ('{"precondition_failure": [{"type": "STOCK", "subject": "product/3",'
            ' "description": "2 left"}]}')
    error = errors.from_outcome(await outcome_row(
        conn, "TLFP1", "INSUFFICIENT_STOCK", "not enough stock", None, hint))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    [details] = error.details
    assert isinstance(details, error_details_pb2.PreconditionFailure)
    assert [(v.type, v.subject, v.description) for v in details.violations] == [
        ("STOCK", "product/3", "2 left")]


async def test_an_outcome_row_without_a_hint_column_is_read_too(conn):
    row = await conn.fetchrow("select 'TLNF1' as error_sqlstate, 'EVENT_NOT_FOUND' as"
                              " error_reason, 'no such event' as error_message,"
                              " 'event_id' as error_field")
    error = errors.from_outcome(row)
    assert (error.code, error.reason, error.details) == (
        grpc.StatusCode.NOT_FOUND, "EVENT_NOT_FOUND", [])


async def test_an_unknown_sqlstate_in_an_outcome_row_is_internal_and_generic(conn, caplog):
    row = await outcome_row(conn, "XX000", "SECRET_REASON", "secret table t_1 is broken",
                            "secret_column")
    error = errors.outcome(row, lambda r: r["id"])
    assert isinstance(error, errors.RpcError)
    assert (error.code, error.message, error.reason, error.field) == (
        grpc.StatusCode.INTERNAL, "internal error", "INTERNAL", None)
    assert "secret table t_1 is broken" in caplog.text, "the detail goes to the log"


async def test_timestamps_from_sql_keep_the_instant_and_null_stays_unset(conn):
    when, nothing = await conn.fetchrow(
        "select timestamptz '2026-03-01 10:00:00.123456+02', null::timestamptz")
    ts = convert.timestamp(when)
    assert (ts.seconds, ts.nanos) == (
        int(datetime(2026, 3, 1, 8, tzinfo=UTC).timestamp()), 123_456_000)
    assert convert.timestamp(nothing) is None


def test_a_request_timestamp_becomes_an_aware_utc_datetime():
    ts = Timestamp(seconds=1_772_359_200, nanos=5_000)
    got = convert.to_datetime("ts_from", ts, "RANGE_INVALID")
    assert got == datetime(2026, 3, 1, 10, 0, 0, 5, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(timezone(timedelta(hours=2))).hour == 12


def test_a_request_timestamp_out_of_range_is_the_callers_mistake():
    with pytest.raises(errors.RpcError) as caught:
        convert.to_datetime("ts_to", Timestamp(seconds=10**12), "RANGE_INVALID")
    assert (caught.value.code, caught.value.reason, caught.value.field) == (
        grpc.StatusCode.INVALID_ARGUMENT, "RANGE_INVALID", "ts_to")


def test_text_with_nul_is_refused_naming_the_field():
    assert convert.text("name", "fine") == "fine"
    assert convert.text("description", None) is None
    with pytest.raises(errors.RpcError) as caught:
        convert.text("zip_code", "12\x0034")
    assert (caught.value.code, caught.value.reason, caught.value.field) == (
        grpc.StatusCode.INVALID_ARGUMENT, "ZIP_CODE_INVALID", "zip_code")
    with pytest.raises(errors.RpcError) as caught:
        convert.text("add", "\x00", "SLUG_INVALID")
    assert (caught.value.reason, caught.value.field) == ("SLUG_INVALID", "add")
