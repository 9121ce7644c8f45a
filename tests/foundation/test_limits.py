"""Every repeated field and string of every request has a limit (server/core/limits.py),
enforced before SQL: one entry or character past it is INVALID_ARGUMENT naming the field
and the limit."""

from __future__ import annotations

import grpc
import pytest
from tally.booking.v1 import booking_pb2
from tally.clicks.v1 import clicks_pb2
from tally.segments.v1 import segments_pb2
from tally.shop.v1 import shop_pb2

from server.core import limits
from tests.support import expect_error, status_details

FILES = (booking_pb2.DESCRIPTOR, clicks_pb2.DESCRIPTOR, segments_pb2.DESCRIPTOR,
         shop_pb2.DESCRIPTOR)
METHODS = [m for f in FILES for s in f.services_by_name.values() for m in s.methods]
CLASSES = {f.message_types_by_name[n].full_name: getattr(mod, n)
           for f, mod in zip(FILES, (booking_pb2, clicks_pb2, segments_pb2, shop_pb2), strict=True)
           for n in f.message_types_by_name}


def _path(method) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _repeated_cases():
    for method in METHODS:
        for field in method.input_type.fields:
            if field.is_repeated:
                yield pytest.param(method, field, id=f"{method.name}.{field.name}")


def _string_cases():
    for method in METHODS:
        for field in method.input_type.fields:
            if field.type == field.TYPE_STRING and not field.is_repeated:
                yield pytest.param(method, field, id=f"{method.name}.{field.name}")


def test_every_repeated_request_field_has_a_limit():
    for method in METHODS:
        assert limits.checker(CLASSES[method.input_type.full_name]) is not None or not any(
            f.is_repeated or f.type == f.TYPE_STRING for f in method.input_type.fields)
    unknown = {k for k in limits.REPEATED} - {
        (m.input_type.full_name, f.name) for m in METHODS for f in m.input_type.fields
        if f.is_repeated}
    assert not unknown, f"limits for fields that do not exist: {unknown}"


def test_a_repeated_field_without_a_limit_is_refused():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(name="t.proto", package="t")
    msg = proto.message_type.add(name="R")
    msg.field.add(name="xs", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
                  label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
    pool.Add(proto)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("t.R"))
    with pytest.raises(RuntimeError, match="no limit"):
        limits.checker(cls)


def _fill(request, field, count):
    values = getattr(request, field.name)
    if field.type == field.TYPE_MESSAGE:
        for _ in range(count):
            values.add()
    elif field.type == field.TYPE_STRING:
        values.extend(["x"] * count)
    else:
        values.extend([1] * count)


@pytest.mark.parametrize("method, field", list(_repeated_cases()))
async def test_one_entry_past_the_limit(channel, method, field):
    limit, reason = limits.REPEATED[(method.input_type.full_name, field.name)]
    request = CLASSES[method.input_type.full_name]()
    _fill(request, field, limit + 1)
    call = channel.unary_unary(_path(method), request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=lambda b: b)
    err = await expect_error(call(request), grpc.StatusCode.INVALID_ARGUMENT, reason)
    info = status_details(err)["ErrorInfo"]
    assert info.metadata["field"] == field.name
    assert info.metadata["limit"] == str(limit)
    # At the limit the call gets past this check: whatever it answers, not this refusal.
    request = CLASSES[method.input_type.full_name]()
    _fill(request, field, limit)
    try:
        await call(request)
    except grpc.aio.AioRpcError as exc:
        assert "limit" not in status_details(exc)["ErrorInfo"].metadata, exc.details()


@pytest.mark.parametrize("method, field", list(_string_cases()))
async def test_one_character_past_the_string_limit(channel, method, field):
    request = CLASSES[method.input_type.full_name]()
    setattr(request, field.name, "é" * (limits.MAX_STRING_CHARS + 1))
    call = (channel.unary_stream if method.server_streaming else channel.unary_unary)(
        _path(method), request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=lambda b: b)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        if method.server_streaming:
            async for _ in call(request):
                pass
        else:
            await call(request)
    err = caught.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = status_details(err)["ErrorInfo"]
    assert (info.reason, info.metadata["field"], info.metadata["limit"]) == (
        limits.TOO_LONG, field.name, str(limits.MAX_STRING_CHARS))


async def test_nested_string_past_the_limit_names_its_entry(channel):
    request = segments_pb2.UpdateUserSegmentsRequest(user_id=1, add=[
        segments_pb2.SegmentToAdd(slug="ok"),
        segments_pb2.SegmentToAdd(slug="s" * (limits.MAX_STRING_CHARS + 1))])
    call = channel.unary_unary("/tally.segments.v1.SegmentService/UpdateUserSegments",
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=lambda b: b)
    err = await expect_error(call(request), grpc.StatusCode.INVALID_ARGUMENT, limits.TOO_LONG)
    assert status_details(err)["ErrorInfo"].metadata["field"] == "add[1].slug"
    request = segments_pb2.UpdateUserSegmentsRequest(
        user_id=1, remove=["a", "r" * (limits.MAX_STRING_CHARS + 1)])
    err = await expect_error(call(request), grpc.StatusCode.INVALID_ARGUMENT, limits.TOO_LONG)
    assert status_details(err)["ErrorInfo"].metadata["field"] == "remove[1]"
