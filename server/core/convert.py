"""Values that every domain converts the same way: timestamps between protobuf and
PostgreSQL, request text that PostgreSQL could not store, and protobuf messages to and
from the JSON the cache holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, overload

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from . import errors

M = TypeVar("M", bound=Message)


@overload
def timestamp(value: datetime) -> Timestamp: ...
@overload
def timestamp(value: None) -> None: ...
def timestamp(value: datetime | None) -> Timestamp | None:
    """A timestamptz from SQL as a Timestamp; a null stays None (the field stays unset)."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


# google.protobuf.Timestamp's range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z,
# and Duration's, +-10,000 years (both from their .proto definitions).
TIMESTAMP_MIN_SECONDS = -62_135_596_800
TIMESTAMP_MAX_SECONDS = 253_402_300_799
DURATION_MAX_SECONDS = 315_576_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Decimal exponents beyond this are nowhere valid (the widest numeric column is
# numeric(14,2)).
DECIMAL_MAX_EXPONENT = 1000


def check_timestamp(field: str, ts: Timestamp, reason: str) -> None:
    if not (TIMESTAMP_MIN_SECONDS <= ts.seconds <= TIMESTAMP_MAX_SECONDS
            and 0 <= ts.nanos <= 999_999_999):
        raise errors.invalid_argument(
            field, f"{field} is not a valid timestamp (0001-01-01 to 9999-12-31 UTC,"
                   " nanos 0 to 999999999)", reason)


def to_datetime(field: str, ts: Timestamp, reason: str) -> datetime:
    """A request's Timestamp as an aware UTC datetime (nanos truncated to microseconds).
    A value outside Timestamp's own range is the caller's mistake (INVALID_ARGUMENT with
    `reason`), not an internal error. Not for SQL parameters: see `timestamptz`."""
    check_timestamp(field, ts, reason)
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def timestamptz(field: str, ts: Timestamp, reason: str) -> str:
    """A request's Timestamp as a SQL parameter: text for `$n::text::timestamptz`.

    asyncpg sends datetime.min and datetime.max (0001-01-01T00:00:00Z and
    9999-12-31T23:59:59.999999Z, both valid Timestamps) as -infinity and infinity, so a
    datetime parameter would turn those two instants into times no rule expects. Text
    with an explicit offset is exact whatever the session's time zone."""
    return to_datetime(field, ts, reason).isoformat()


def to_timedelta(field: str, d: Duration, reason: str) -> timedelta:
    """A request's Duration as a timedelta (nanos truncated to microseconds); outside
    Duration's range, nanos of 1 second or more, or nanos whose sign differs from the
    seconds' are INVALID_ARGUMENT with `reason`."""
    if not (-DURATION_MAX_SECONDS <= d.seconds <= DURATION_MAX_SECONDS
            and -999_999_999 <= d.nanos <= 999_999_999
            and (d.seconds == 0 or d.nanos == 0 or (d.seconds > 0) == (d.nanos > 0))):
        raise errors.invalid_argument(
            field, f"{field} is not a valid duration (at most 10000 years, nanos below one"
                   " second with the sign of the seconds)", reason)
    return d.ToTimedelta()


def day(field: str, value: str, reason: str) -> str:
    """A request's date string (`YYYY-MM-DD`) as a SQL parameter: text for
    `$n::text::date`, for the same reason as `timestamptz` (asyncpg sends date.min and
    date.max, 0001-01-01 and 9999-12-31, as -infinity and infinity)."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise errors.invalid_argument(field, f"{field} must be a date like 2025-08-01",
                                      reason) from None


def decimal(field: str, value: str, reason: str) -> Decimal:
    """A request's decimal string as a numeric parameter. NaN, infinities and exponents
    far beyond any rule's range are refused here (INVALID_ARGUMENT with `reason`): asyncpg
    cannot send an exponent past numeric's own range faithfully (1e131072 arrived as 0).
    The rules of the value itself (range, decimals) stay in SQL."""
    try:
        parsed = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        parsed = Decimal("NaN")
    if not parsed.is_finite() or (parsed and abs(parsed.adjusted()) > DECIMAL_MAX_EXPONENT):
        raise errors.invalid_argument(field, f"{field} must be a decimal number", reason)
    return parsed


@overload
def text(field: str, value: str, reason: str | None = None) -> str: ...
@overload
def text(field: str, value: None, reason: str | None = None) -> None: ...
def text(field: str, value: str | None, reason: str | None = None) -> str | None:
    """`value` for a text parameter (None passes as null). PostgreSQL text cannot hold NUL:
    a NUL is refused here as INVALID_ARGUMENT naming the field (reason `<FIELD>_INVALID`
    unless given), as the SQL rules would, rather than as the driver's encoding error -
    which in a batched statement would fail every call of the batch."""
    if value is not None and "\x00" in value:
        raise errors.invalid_argument(field, f"{field} must not contain NUL characters",
                                      reason or f"{field.upper()}_INVALID")
    return value


def to_json(msg: Message) -> dict[str, Any]:
    """A flat message (scalar and Timestamp fields) as a JSON-ready dict: the fields that are
    set, by name, a Timestamp as {"seconds", "nanos"}. Read back by `from_json` several
    times faster than protobuf's own JSON mapping; any other field kind raises TypeError
    when the dict is serialized, so a message this does not fit is noticed, not mangled."""
    return {field.name: ({"seconds": value.seconds, "nanos": value.nanos}
                         if isinstance(value, Timestamp) else value)
            for field, value in msg.ListFields()}


def from_json(cls: type[M], value: dict[str, Any]) -> M:
    """The message `to_json` made the dict from (fields left out stay unset)."""
    return cls(**value)
