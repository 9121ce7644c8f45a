"""tests/sharded runs in the sharded mode only (`pytest --shards 2`, part of `make test`)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _sharded_mode_only(shards: int) -> None:
    if shards < 2:
        pytest.skip("the sharded mode's own tests: run with --shards 2 (make test does)")
