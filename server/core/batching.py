"""Group commit: concurrent calls gathered into one SQL statement.

Callers `submit` an item and wait. While fewer than `max_inflight` flushes are running,
the items waiting so far go out together as one batch (at most `max_size`); while the
flushes are busy, new items queue up and leave with the next one. So an idle server
answers a lone call at once, and a busy one sends fewer, larger statements - the batch
grows with the load, and no timer adds latency.

`flush` receives the items and returns one result per item, in order: a value, or an
exception for that item alone. If `flush` itself raises, every caller of that batch gets
the error (nothing of a failed batch counts: it was one statement).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("tally.batching")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        name: str,
        flush: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        max_size: int = 256,
        max_inflight: int = 2,
        on_batch: Callable[[str, int], None] | None = None,
    ) -> None:
        self.name = name
        self._flush = flush
        self._max_size = max_size
        self._max_inflight = max_inflight
        self._on_batch = on_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._idle.clear()
        self._start_flushes()
        return await future

    def _start_flushes(self) -> None:
        while self._pending and self._inflight < self._max_inflight:
            batch = self._pending[: self._max_size]
            del self._pending[: self._max_size]
            self._inflight += 1
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            if self._on_batch is not None:
                self._on_batch(self.name, len(batch))
            try:
                results = await self._flush([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(
                        f"{self.name}: flush returned {len(results)} results for {len(batch)}"
                    )
            except BaseException as exc:  # every caller of the batch learns of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the caller went away (deadline, cancel)
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        finally:
            self._inflight -= 1
            if self._pending:
                self._start_flushes()
            elif self._inflight == 0:
                self._idle.set()

    async def drain(self) -> None:
        """Wait until everything submitted so far has been flushed."""
        await self._idle.wait()
