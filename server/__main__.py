"""`python -m server [--workers N] [--no-jobs]`: run the gRPC server in the foreground.

With one worker the server runs in this process. With N > 1 this process becomes a
supervisor: it starts N worker processes that share GRPC_ADDR (SO_REUSEPORT), serves
their combined metrics, passes SIGTERM/SIGINT on to them and waits for them to finish.
If a worker dies unexpectedly the supervisor stops the others and exits non-zero, so the
process manager that runs it can restart the whole.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time

from .core.config import Settings
from .worker import run_worker

log = logging.getLogger("tally.main")


def _supervise(settings: Settings) -> int:
    from .core import metrics  # noqa: F401 - imported before the workers, after the env is set

    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=run_worker, args=(settings, i, True), name=f"tally-worker-{i}")
        for i in range(settings.workers)
    ]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for w in workers:
            if w.is_alive() and w.pid:
                os.kill(w.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for w in workers:
        w.start()
    from prometheus_client import multiprocess

    from .core import metrics as m

    m.serve(settings.metrics_addr)
    exit_code = 0
    reaped: set[int] = set()
    while True:
        for w in workers:
            if w.pid and w.pid not in reaped and not w.is_alive():
                reaped.add(w.pid)
                # prometheus-client leaves this function unannotated
                multiprocess.mark_process_dead(w.pid)  # type: ignore[no-untyped-call]
                if not stopping:  # a worker never exits on its own
                    log.error("worker %s exited with %s; stopping the others", w.name,
                              w.exitcode)
                    exit_code = 1
                    stop(signal.SIGTERM, None)
                elif w.exitcode:
                    exit_code = 1
        if len(reaped) == len(workers):
            return exit_code
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, help="worker processes (default: WORKERS or 1)")
    parser.add_argument("--no-jobs", action="store_true",
                        help="do not run the scheduled jobs here (for extra replicas)")
    parser.add_argument("--addr", help="listen address (default: GRPC_ADDR)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    settings = dataclasses.replace(
        settings,
        workers=settings.workers if args.workers is None else max(1, args.workers),
        jobs=settings.jobs and not args.no_jobs,
        grpc_addr=args.addr or settings.grpc_addr,
    )

    from .core import logs

    logs.setup(settings.log_level)
    if settings.workers == 1:
        from .core import metrics

        metrics.serve(settings.metrics_addr)
        run_worker(settings, 0, False)
        return
    metrics_dir = tempfile.mkdtemp(prefix="tally-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        code = _supervise(settings)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
