"""What a message on a request queue holds, and what the bridge answers.

A body is the proto3 JSON of the RPC's request. The original's producers send their own
spelling of the same fields, accepted here: snake_case names (proto3 JSON parsers accept
them anyway), `price` as a JSON number, `status` as the status's name in any case
("paid"). Anything that is not a JSON object of the request's fields is refused, with
reason NOT_JSON or MESSAGE_SHAPE_INVALID, as the RPC refuses a malformed request.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from tally.shop.v1 import shop_pb2 as pb

from ..core import errors

M = TypeVar("M", bound=Message)

# The status names of UpdateOrderStatusRequest without their prefix: PENDING, PAID, ...
_STATUS_PREFIX = "ORDER_STATUS_"


def _not_json(message: str) -> errors.RpcError:
    return errors.RpcError(grpc.StatusCode.INVALID_ARGUMENT, message, "NOT_JSON")


def _shape(message: str, field: str | None = None) -> errors.RpcError:
    return errors.RpcError(grpc.StatusCode.INVALID_ARGUMENT, message[:300],
                           "MESSAGE_SHAPE_INVALID", field=field)


def _plain(value: Any) -> Any:
    """JSON numbers with a fraction were read as Decimal (to keep a price exact); give
    any other field its float back, for json_format to judge."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _status(value: Any) -> Any:
    if isinstance(value, str) and value and not value.upper().startswith(_STATUS_PREFIX):
        return _STATUS_PREFIX + value.upper()
    if isinstance(value, str):
        return value.upper()
    return value


def decode(request_type: type[M], body: bytes) -> M:
    """The request a message body holds; RpcError INVALID_ARGUMENT when it holds none."""
    try:
        data = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _not_json(f"the body is not UTF-8 JSON: {exc}"[:300]) from None
    if not isinstance(data, dict):
        raise _shape(f"the body must be a JSON object of {request_type.DESCRIPTOR.name}")
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name == "price" and isinstance(value, int | Decimal) and not isinstance(value, bool):
            value = str(value)  # the original sends a number; keep its digits exactly
        elif name == "status" and request_type is pb.UpdateOrderStatusRequest:
            value = _status(value)
        fields[name] = _plain(value)
    try:
        return json_format.ParseDict(fields, request_type())
    except json_format.ParseError as exc:
        raise _shape(f"not a {request_type.DESCRIPTOR.name}: {exc}") from None


def ok_body(response: Message) -> bytes:
    """A reply: the RPC's response as proto3 JSON, with the .proto's field names and
    every field (a zero stock too)."""
    return json_format.MessageToJson(response, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True,
                                     indent=None).encode()


def error_body(err: errors.RpcError) -> bytes:
    """A reply for a refused message: what the RPC's status would say."""
    return json.dumps({"code": err.code.name, "reason": err.reason, "message": err.message,
                       "field": err.field}).encode()
