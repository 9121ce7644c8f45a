"""`python -m tests.bench [NAME ...] [--option ...]`: run the named benchmarks (default:
all), passing the options to each; each takes the options it knows.

`--only RPC[,RPC]` without a name runs only the RPC benchmark (`rpcs`), for those RPCs.

Each benchmark is a module in this package with `run(args: list[str]) -> None`; it prints
its setup, throughput and latency percentiles, and the references it is judged against.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["rpcs", "booking", "clicks", "segments", "shop", "guard", "shards", "amqp",
              "k6"]


def main() -> None:
    args = sys.argv[1:]
    split = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    names, extra = args[:split], args[split:]
    if not names:
        only = any(a == "--only" or a.startswith("--only=") for a in extra)
        names = ["rpcs"] if only else BENCHMARKS
    for name in names:
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        print(f"\n===== {name} =====", flush=True)
        importlib.import_module(f"tests.bench.{name}").run(extra)


if __name__ == "__main__":
    main()
