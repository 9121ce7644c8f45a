"""One server process (a worker): its own event loop, pool and gRPC server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from .core.config import Settings


def run_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is pinned, but optional
        asyncio.run(main())
    else:
        uvloop.run(main())


def run_worker(settings: Settings, index: int, reuse_port: bool) -> None:
    from .app import serve
    from .core import logs

    logs.setup(settings.log_level)
    # SIGTERM and SIGINT both stop a worker gracefully (app.serve); under the supervisor,
    # Ctrl-C reaches the whole process group and the forwarded SIGTERM is then a no-op.
    run_loop(lambda: serve(settings, worker_index=index, reuse_port=reuse_port))
