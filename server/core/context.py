"""The App context: what the services of one process share. Domains and jobs receive it;
only the composition root (server.app) builds it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg

from . import metrics
from .batching import Batcher
from .cache import RedisStore
from .config import Settings

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class App:
    """What the services share inside one process."""

    settings: Settings
    pool: asyncpg.Pool
    redis: RedisStore
    worker_index: int = 0
    _shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` after the server stopped taking calls, before the pool closes."""
        self._shutdown_hooks.append(hook)

    def batcher(self, name: str, flush: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
                *, max_size: int | None = None) -> Batcher[T, R]:
        """A group-commit batcher with the configured limits, its batch sizes in the
        metrics, drained at shutdown (after the server stops taking calls)."""
        batcher: Batcher[T, R] = Batcher(
            name, flush,
            max_size=min(max_size or self.settings.batch_max_size, self.settings.batch_max_size),
            max_inflight=self.settings.batch_max_inflight,
            on_batch=lambda label, n: metrics.BATCH_SIZE.labels(label).observe(n),
        )
        self.on_shutdown(batcher.drain)
        return batcher

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
