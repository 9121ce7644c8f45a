from __future__ import annotations

import grpc
import pytest

from tests.shop.helpers import Stubs


@pytest.fixture(scope="module")
def s(channel: grpc.aio.Channel) -> Stubs:
    return Stubs(channel)
