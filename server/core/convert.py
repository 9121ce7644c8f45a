"""Values between protobuf and PostgreSQL that every domain converts the same way:
timestamps both ways, and request text that PostgreSQL could not store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from google.protobuf.timestamp_pb2 import Timestamp

from . import errors


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


def to_datetime(field: str, ts: Timestamp, reason: str) -> datetime:
    """A request's Timestamp as an aware UTC datetime. Seconds outside what a datetime can
    hold are the caller's mistake (INVALID_ARGUMENT with `reason`), not an internal error."""
    try:
        return ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise errors.invalid_argument(field, f"{field} is out of range", reason) from None


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
