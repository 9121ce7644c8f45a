"""Fixtures for the segments tests: a stub and fresh ids and slugs."""

from __future__ import annotations

import itertools
import uuid

import grpc
import pytest
from tally.segments.v1 import segments_pb2_grpc as pb_grpc

# User ids of the gRPC tests start here, far from the pgTAP tests' 91xxxxxxxx.
_ids = itertools.count(3_000_000_000 + (uuid.uuid4().int % 1000) * 1_000_000)


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> pb_grpc.SegmentServiceStub:
    return pb_grpc.SegmentServiceStub(channel)


def new_user_id() -> int:
    return next(_ids)


def new_slug(prefix: str = "seg") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
