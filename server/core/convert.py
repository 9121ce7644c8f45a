"""Values that every domain converts the same way: timestamps between protobuf and
PostgreSQL, request text that PostgreSQL could not store, and protobuf messages to and
from the JSON the cache holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar, overload

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
