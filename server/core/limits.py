"""Bounded work per call: how many entries a repeated request field and how many
characters a string may carry, checked before any SQL runs.

One table for every RPC: `REPEATED` names each repeated field of every request message
(a server with a repeated field missing from it refuses to start), and every string
field, at any depth, has `MAX_STRING_CHARS`. The SQL rules stay where they are (a name
of 1-200 characters, a slug of 1-128): these limits are looser than the widest of
them (a value just past a rule still gets the rule's own reason), and a hostile
request is refused before it costs a connection. A refusal is INVALID_ARGUMENT naming
the field, with the limit in ErrorInfo metadata `limit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from . import errors

# Twice the longest string any SQL rule accepts (shop descriptions: 2000 characters), so
# a value just past a rule still gets that rule's own reason (DESCRIPTION_INVALID).
MAX_STRING_CHARS = 4000
TOO_LONG = "TOO_LONG"

# (request message, field) -> (most entries, reason). What each SQL function is built
# for: RecordClicks' bulk ingest and CreateOrder's lines are SQL's own limits too;
# UpdateUserSegments' slugs keep one call's locks and history to a bounded size.
REPEATED: dict[tuple[str, str], tuple[int, str]] = {
    ("tally.clicks.v1.RecordClicksRequest", "clicks"): (10_000, "TOO_MANY_CLICKS"),
    ("tally.shop.v1.CreateOrderRequest", "items"): (100, "TOO_MANY_ITEMS"),
    ("tally.segments.v1.UpdateUserSegmentsRequest", "add"): (1_000, "TOO_MANY_ITEMS"),
    ("tally.segments.v1.UpdateUserSegmentsRequest", "remove"): (1_000, "TOO_MANY_ITEMS"),
}

Check = Callable[[Any, str], None]


def _too_long(field: str) -> errors.RpcError:
    err = errors.invalid_argument(
        field, f"{field} must be at most {MAX_STRING_CHARS} characters", TOO_LONG)
    err.metadata["limit"] = str(MAX_STRING_CHARS)
    return err


def _too_many(field: str, limit: int, reason: str) -> errors.RpcError:
    err = errors.invalid_argument(field, f"{field} must have at most {limit} entries", reason)
    err.metadata["limit"] = str(limit)
    return err


def _field_check(message: Descriptor, fd: Any) -> Check | None:
    name = fd.name
    nested = (_message_check(fd.message_type)
              if fd.message_type is not None else None)
    is_text = fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
    if fd.is_repeated:
        entry = REPEATED.get((message.full_name, name))
        if entry is None:
            raise RuntimeError(f"{message.full_name}.{name} is repeated but has no limit:"
                               " add it to server/core/limits.py REPEATED")
        limit, reason = entry

        def check_repeated(msg: Any, prefix: str) -> None:
            values = getattr(msg, name)
            if len(values) > limit:
                raise _too_many(prefix + name, limit, reason)
            if is_text:
                for i, value in enumerate(values):
                    if len(value) > MAX_STRING_CHARS:
                        raise _too_long(f"{prefix}{name}[{i}]")
            elif nested is not None:
                for i, value in enumerate(values):
                    nested(value, f"{prefix}{name}[{i}].")
        return check_repeated
    if is_text:
        def check_text(msg: Any, prefix: str) -> None:
            if len(getattr(msg, name)) > MAX_STRING_CHARS:
                raise _too_long(prefix + name)
        return check_text
    if nested is not None:
        def check_message(msg: Any, prefix: str) -> None:
            if msg.HasField(name):
                nested(getattr(msg, name), f"{prefix}{name}.")
        return check_message
    return None


def _message_check(message: Any) -> Check | None:
    """The checks of a message's fields, or None when it has nothing to check (numbers,
    Timestamps and Durations only), so such fields cost nothing per call."""
    if message.full_name.startswith("google.protobuf."):
        return None
    checks = [c for fd in message.fields if (c := _field_check(message, fd)) is not None]
    if not checks:
        return None

    def check(msg: Any, prefix: str) -> None:
        for c in checks:
            c(msg, prefix)
    return check


def checker(request_type: type[Message] | None) -> Callable[[Any], None] | None:
    """The limits check of a request message type (None: nothing to check). Raises
    RuntimeError for a repeated field without a limit in REPEATED."""
    if request_type is None:
        return None
    check = _message_check(request_type.DESCRIPTOR)
    if check is None:
        return None
    bound = check

    def apply(request: Any) -> None:
        bound(request, "")
    return apply
