"""`launch-many -n N -- COMMAND...`: start N copies of a command so they contend at once.

Every copy gets the launch's random id in LAUNCH_MANY_ID (so a command can tell a copy of
this launch from a later run) and inherits two pipe ends, named in its environment:
  LAUNCH_MANY_READY_FD    it writes one byte here when it is ready to contend
                          (imported, connected), then
  LAUNCH_MANY_BARRIER_FD  it blocks reading here. The launcher holds the write end and
                          closes it once all N are ready, so the kernel wakes every copy
                          at the same moment (EOF), with no polling.
A copy that exits before signalling counts as ready, so a failing command cannot hang
the launch; a command that knows nothing of the protocol just runs at once (the launcher
releases after --ready-timeout at the latest).

The launcher relays every line the copies print (unless --quiet) and ends with a summary:
    launch-many: n=1000 started=1 skipped=999 failed=0 wall=21.30s ...
A copy failed if it exited non-zero; it was skipped if it exited 0 and printed a line
containing --skip-marker (default "skipped:"); otherwise it started. Exit status 0 when no
copy failed, else 1.
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import subprocess
import sys
import time


def _raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="launch-many", description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=1000, help="copies to start (default 1000)")
    p.add_argument("--ready-timeout", type=float, default=300.0,
                   help="release the barrier after this many seconds even if not all copies"
                        " signalled (default 300)")
    p.add_argument("--skip-marker", default="skipped:",
                   help='output that marks a copy as skipped (default "skipped:")')
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = p.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        p.error("give the command after --")
    if args.n < 1:
        p.error("-n must be at least 1")
    return args


class Child:
    __slots__ = ("buf", "eof", "proc", "skipped")

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.buf = b""
        self.eof = False
        self.skipped = False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _raise_fd_limit(args.n + 256)
    out = sys.stdout.buffer
    marker = args.skip_marker.encode()
    ready_r, ready_w = os.pipe()
    barrier_r, barrier_w = os.pipe()
    env = {**os.environ, "LAUNCH_MANY_READY_FD": str(ready_w),
           "LAUNCH_MANY_BARRIER_FD": str(barrier_r), "LAUNCH_MANY_ID": os.urandom(8).hex()}
    sel = selectors.DefaultSelector()
    children: list[Child] = []
    t0 = time.monotonic()
    for _ in range(args.n):
        try:
            proc = subprocess.Popen(args.command, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    pass_fds=(ready_w, barrier_r), env=env)
        except OSError as exc:
            print(f"launch-many: cannot start {args.command[0]!r}: {exc}", file=sys.stderr)
            break
        child = Child(proc)
        children.append(child)
        os.set_blocking(proc.stdout.fileno(), False)
        sel.register(proc.stdout, selectors.EVENT_READ, child)
    os.close(ready_w)
    os.close(barrier_r)
    spawned = time.monotonic()
    sel.register(ready_r, selectors.EVENT_READ, None)

    ready = 0
    exited = 0
    released_at: float | None = None

    def release() -> None:
        nonlocal released_at
        os.close(barrier_w)
        released_at = time.monotonic()
        sel.unregister(ready_r)
        os.close(ready_r)

    def drain(child: Child) -> None:
        nonlocal exited
        try:
            data = os.read(child.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if data:
            child.buf += data
            if marker in child.buf:
                child.skipped = True
            cut = child.buf.rfind(b"\n") + 1
            if cut:
                if not args.quiet:
                    out.write(child.buf[:cut])
                # keep only what may still hold a partial marker
                child.buf = child.buf[cut:]
            return
        if child.buf and not args.quiet:
            out.write(child.buf + b"\n")
        child.eof = True
        exited += 1
        sel.unregister(child.proc.stdout)
        child.proc.stdout.close()

    open_children = len(children)
    while open_children or released_at is None:
        if released_at is None:
            remaining = args.ready_timeout - (time.monotonic() - t0)
            if ready + exited >= len(children) or remaining <= 0:
                if remaining <= 0:
                    print(f"launch-many: only {ready} of {len(children)} copies signalled"
                          f" ready after {args.ready_timeout:.0f}s; releasing anyway",
                          file=sys.stderr)
                release()
                continue
            events = sel.select(timeout=remaining)
        else:
            events = sel.select()
        for key, _ in events:
            if key.data is None:
                got = os.read(ready_r, 65536)
                ready += len(got)
                if not got:  # every copy closed its ready end
                    ready = max(ready, len(children) - exited)
                continue
            drain(key.data)
        open_children = len(children) - exited
        out.flush()
    codes = [c.proc.wait() for c in children]
    done = time.monotonic()
    failed = sum(1 for code in codes if code != 0) + (args.n - len(children))
    skipped = sum(1 for c, code in zip(children, codes, strict=True) if code == 0 and c.skipped)
    started = len(children) - failed + (args.n - len(children)) - skipped
    assert released_at is not None
    out.flush()
    print(f"launch-many: n={args.n} started={started} skipped={skipped} failed={failed}"
          f" wall={done - t0:.2f}s (spawned in {spawned - t0:.2f}s, all ready after"
          f" {released_at - t0:.2f}s, released to all done {done - released_at:.2f}s)",
          flush=True)
    return 0 if failed == 0 else 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
