"""`python -m tests.bench [NAME ...]`: run the named benchmarks (default: all).

Each benchmark is a module in this package with `run(args: list[str]) -> None`; it prints
its setup, throughput and latency percentiles, and the reference it is compared with.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["booking", "guard"]


def main() -> None:
    names = [a for a in sys.argv[1:] if not a.startswith("-")] or BENCHMARKS
    extra = [a for a in sys.argv[1:] if a.startswith("-")]
    for name in names:
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        print(f"\n===== {name} =====", flush=True)
        importlib.import_module(f"tests.bench.{name}").run(extra)


if __name__ == "__main__":
    main()
