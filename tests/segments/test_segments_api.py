"""SegmentService end to end over gRPC: every RPC, every error status and reason."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from tally.segments.v1 import segments_pb2 as pb

from clients import export_history
from tests.segments.conftest import new_slug, new_user_id
from tests.support import expect_error, status_details

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT



async def make_user(stub) -> int:
    user_id = new_user_id()
    reply = await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    assert reply.created and reply.user.user_id == user_id
    return user_id


async def make_segment(stub, prefix: str = "seg") -> str:
    slug = new_slug(prefix)
    await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    return slug


def this_month() -> tuple[int, int]:
    now = datetime.now(UTC)
    return now.year, now.month


async def export(stub, year: int, month: int, user_id: int | None = None) -> tuple[str, list]:
    request = pb.ExportHistoryRequest(year=year, month=month)
    if user_id is not None:
        request.user_id = user_id
    chunks = [c.data async for c in stub.ExportHistory(request)]
    assert all(c.endswith(b"\n") for c in chunks), "every chunk ends at a row boundary"
    return b"".join(chunks).decode(), chunks


def slugs(reply: pb.GetUserSegmentsResponse) -> list[str]:
    return [m.slug for m in reply.segments]


async def test_create_user_is_idempotent(stub):
    user_id = await make_user(stub)
    again = await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))
    assert not again.created and again.user.user_id == user_id
    assert again.user.created_at.seconds > 0
    assert slugs(await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))) == []


@pytest.mark.parametrize("user_id", [0, -7])
async def test_user_id_invalid_everywhere(stub, user_id):
    for call in (stub.CreateUser(pb.CreateUserRequest(user_id=user_id)),
                 stub.DeleteUser(pb.DeleteUserRequest(user_id=user_id)),
                 stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id)),
                 stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(user_id=user_id))):
        err = await expect_error(call, INVALID, "USER_ID_INVALID")
        assert status_details(err)["BadRequest"].field_violations[0].field == "user_id"


async def test_unknown_user_everywhere(stub):
    unknown = new_user_id()
    for call in (stub.DeleteUser(pb.DeleteUserRequest(user_id=unknown)),
                 stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=unknown)),
                 stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(user_id=unknown))):
        await expect_error(call, NOT_FOUND, "USER_NOT_FOUND")
    year, month = this_month()
    await expect_error(
        export(stub, year, month, unknown), NOT_FOUND, "USER_NOT_FOUND")


async def test_create_segment_rules(stub):
    slug = new_slug()
    reply = await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    assert (reply.segment.slug, reply.segment.auto_percent, reply.auto_members) == (slug, "", 0)
    assert reply.segment.id > 0 and reply.segment.created_at.seconds > 0
    await expect_error(stub.CreateSegment(pb.CreateSegmentRequest(slug=slug)),
                       grpc.StatusCode.ALREADY_EXISTS, "SLUG_TAKEN")
    pct = await stub.CreateSegment(pb.CreateSegmentRequest(slug=new_slug(), auto_percent="12.50"))
    assert pct.segment.auto_percent == "12.5"
    # Automatic segments reach the users other tests create: none may outlive its test.
    await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=pct.segment.slug))


@pytest.mark.parametrize("slug", ["", "x" * 129, "with space", "ümlaut", "nul\x00", "a/b"])
async def test_create_segment_slug_invalid(stub, slug):
    err = await expect_error(stub.CreateSegment(pb.CreateSegmentRequest(slug=slug)),
                             INVALID, "SLUG_INVALID")
    assert status_details(err)["BadRequest"].field_violations[0].field == "slug"


@pytest.mark.parametrize("percent", ["100.01", "-1", "1.005", "abc", "NaN", "Infinity", ""])
async def test_create_segment_percent_invalid(stub, admin_db, percent):
    slug = new_slug()
    await expect_error(
        stub.CreateSegment(pb.CreateSegmentRequest(slug=slug, auto_percent=percent)),
        INVALID, "AUTO_PERCENT_INVALID")
    assert admin_db.execute("select count(*) from segments.segments where slug = %s",
                            (slug,)).fetchone()[0] == 0


async def test_delete_segment_ends_memberships_with_history(stub):
    user_id = await make_user(stub)
    slug = await make_segment(stub)
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=slug)]))
    reply = await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug))
    assert reply.memberships_ended == 1
    assert slugs(await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))) == []
    text, _ = await export(stub, *this_month(), user_id)
    assert [r[1:3] for r in csv.reader(io.StringIO(text), delimiter=";")][1:] == [
        [slug, "add"], [slug, "remove"]]
    await expect_error(stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug)),
                       NOT_FOUND, "SEGMENT_NOT_FOUND")
    await expect_error(stub.DeleteSegment(pb.DeleteSegmentRequest(slug="bad slug")),
                       INVALID, "SLUG_INVALID")
    again = await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug))
    assert again.segment.slug == slug, "a deleted slug may be created again"


async def test_delete_user(stub):
    user_id = await make_user(stub)
    a, b = await make_segment(stub), await make_segment(stub)
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=a), pb.SegmentToAdd(slug=b)]))
    assert (await stub.DeleteUser(pb.DeleteUserRequest(user_id=user_id))).memberships_ended == 2
    await expect_error(stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id)),
                       NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(stub.DeleteUser(pb.DeleteUserRequest(user_id=user_id)),
                       NOT_FOUND, "USER_NOT_FOUND")
    text, _ = await export(stub, *this_month(), user_id)
    ops = sorted(tuple(r[1:3]) for r in csv.reader(io.StringIO(text), delimiter=";"))
    assert ops == sorted([(a, "add"), (b, "add"), (a, "remove"), (b, "remove"),
                          ("segment", "operation")])


async def test_update_user_segments_add_remove_and_report(stub):
    user_id = await make_user(stub)
    a, b, c = [await make_segment(stub, p) for p in ("a", "b", "c")]
    later = Timestamp()
    later.FromDatetime(datetime.now(UTC) + timedelta(days=1))
    reply = await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id,
        add=[pb.SegmentToAdd(slug=b, expires_at=later), pb.SegmentToAdd(slug=a)],
        remove=[c]))
    assert [(x.slug, x.added, x.HasField("expires_at")) for x in reply.added] == [
        (b, True, True), (a, True, False)]
    assert reply.added[0].expires_at == later
    assert [(x.slug, x.removed) for x in reply.removed] == [(c, False)]
    got = await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))
    assert got.user_id == user_id
    assert slugs(got) == sorted([a, b])
    assert {m.slug: m.expires_at == later for m in got.segments} == {a: False, b: True}

    # Re-adding keeps the membership and replaces the expiry; no second history row.
    again = await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=a, ttl=Duration(seconds=3600))],
        remove=[b]))
    assert [(x.slug, x.added) for x in again.added] == [(a, False)]
    assert [(x.slug, x.removed) for x in again.removed] == [(b, True)]
    got = await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))
    assert slugs(got) == [a]
    remaining = got.segments[0].expires_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(minutes=59) < remaining <= timedelta(hours=1)
    text, _ = await export(stub, *this_month(), user_id)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert [r[1:3] for r in rows if r[1] == a] == [[a, "add"]]


async def test_update_user_segments_errors_change_nothing(stub, admin_db):
    user_id = await make_user(stub)
    a, b = await make_segment(stub), await make_segment(stub)
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=a)]))
    history = admin_db.execute("select count(*) from segments.history where user_id = %s",
                               (user_id,)).fetchone()[0]
    past = Timestamp()
    past.FromDatetime(datetime.now(UTC) - timedelta(seconds=1))
    missing = new_slug("missing")
    cases = [
        (dict(add=[pb.SegmentToAdd(slug=b), pb.SegmentToAdd(slug=missing)]),
         NOT_FOUND, "SEGMENT_NOT_FOUND"),
        (dict(add=[pb.SegmentToAdd(slug=b)], remove=[missing]), NOT_FOUND, "SEGMENT_NOT_FOUND"),
        (dict(add=[pb.SegmentToAdd(slug=b)], remove=[b]), INVALID, "SLUG_IN_ADD_AND_REMOVE"),
        (dict(add=[pb.SegmentToAdd(slug=b), pb.SegmentToAdd(slug=b)]), INVALID, "SLUG_REPEATED"),
        (dict(add=[pb.SegmentToAdd(slug=b, expires_at=past)]), INVALID, "EXPIRES_AT_IN_PAST"),
        (dict(add=[pb.SegmentToAdd(slug=b, ttl=Duration(seconds=-5))]), INVALID, "TTL_INVALID"),
        (dict(add=[pb.SegmentToAdd(slug=b, ttl=Duration())]), INVALID, "TTL_INVALID"),
        (dict(add=[pb.SegmentToAdd(slug=b, ttl=Duration(seconds=315_000_000_000))]), INVALID,
         "EXPIRY_OUT_OF_RANGE"),
        (dict(add=[pb.SegmentToAdd(slug="no way")], remove=[a]), INVALID, "SLUG_INVALID"),
        (dict(remove=["nul\x00"]), INVALID, "SLUG_INVALID"),
    ]
    for kwargs, code, reason in cases:
        err = await expect_error(stub.UpdateUserSegments(
            pb.UpdateUserSegmentsRequest(user_id=user_id, **kwargs)), code, reason)
        if reason == "SEGMENT_NOT_FOUND":
            assert missing in err.details(), "the message names the unknown segment"
    got = await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id))
    assert slugs(got) == [a] and not got.segments[0].HasField("expires_at")
    assert admin_db.execute("select count(*) from segments.history where user_id = %s",
                            (user_id,)).fetchone()[0] == history


async def test_automatic_segment_reaches_new_users_and_removal_sticks(stub, admin_db):
    slug = new_slug("auto")
    reply = await stub.CreateSegment(pb.CreateSegmentRequest(slug=slug, auto_percent="100"))
    try:
        await _automatic_checks(stub, slug, reply)
    finally:  # a 100 % segment would reach every user the other tests create
        await stub.DeleteSegment(pb.DeleteSegmentRequest(slug=slug))


async def _automatic_checks(stub, slug: str, reply: pb.CreateSegmentResponse) -> None:
    assert reply.segment.auto_percent == "100"
    user_id = await make_user(stub)
    assert slug in slugs(await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id)))
    removed = await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, remove=[slug]))
    assert removed.removed[0].removed
    await stub.CreateUser(pb.CreateUserRequest(user_id=user_id))  # idempotent, not a reset
    await make_user(stub)
    assert slug not in slugs(
        await stub.GetUserSegments(pb.GetUserSegmentsRequest(user_id=user_id)))
    text, _ = await export(stub, *this_month(), user_id)
    assert [r[1:3] for r in csv.reader(io.StringIO(text), delimiter=";") if r[1] == slug] == [
        [slug, "add"], [slug, "remove"]]


async def test_export_history_csv_format(stub):
    user_id = await make_user(stub)
    a = await make_segment(stub, "csv")
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=a)]))
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(user_id=user_id, remove=[a]))
    year, month = this_month()
    text, _ = await export(stub, year, month, user_id)
    lines = text.splitlines()
    assert lines[0] == "user_id;segment;operation;datetime"
    rows = [line.split(";") for line in lines[1:]]
    assert [(int(r[0]), r[1], r[2]) for r in rows] == [(user_id, a, "add"), (user_id, a, "remove")]
    stamps = [datetime.strptime(r[3], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) for r in rows]
    assert stamps == sorted(stamps)
    assert all(abs(datetime.now(UTC) - s) < timedelta(minutes=5) for s in stamps)

    # The whole month: a header, ours among the rest, in time order.
    everything, _ = await export(stub, year, month)
    all_rows = [line.split(";") for line in everything.splitlines()]
    assert all_rows[0] == ["user_id", "segment", "operation", "datetime"]
    assert [r for r in all_rows if r[0] == str(user_id)] == rows
    assert [r[3] for r in all_rows[1:]] == sorted(r[3] for r in all_rows[1:])

    empty, chunks = await export(stub, 1999, 1)
    assert empty == "user_id;segment;operation;datetime\n" and len(chunks) == 1


@pytest.mark.parametrize(
    ("year", "month", "reason"),
    [(2023, 0, "MONTH_INVALID"), (2023, 13, "MONTH_INVALID"), (0, 5, "YEAR_INVALID"),
     (10000, 5, "YEAR_INVALID")])
async def test_export_history_invalid(stub, year, month, reason):
    err = await expect_error(export(stub, year, month), INVALID, reason)
    field = status_details(err)["BadRequest"].field_violations[0].field
    assert field == reason.split("_")[0].lower()


async def test_export_client_writes_the_file(stub, server, tmp_path):
    user_id = await make_user(stub)
    a = await make_segment(stub, "cli")
    await stub.UpdateUserSegments(pb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[pb.SegmentToAdd(slug=a)]))
    year, month = this_month()
    out = tmp_path / "history.csv"
    expected, _ = await export(stub, year, month, user_id)
    export_history.main([str(year), str(month), "--user-id", str(user_id), "-o", str(out),
                         "--addr", server.addr])
    assert out.read_text() == expected
    assert not (tmp_path / "history.csv.partial").exists()
    with pytest.raises(SystemExit, match="INVALID_ARGUMENT"):
        export_history.main([str(year), "13", "-o", str(tmp_path / "bad.csv"),
                             "--addr", server.addr])
    assert not (tmp_path / "bad.csv").exists()
