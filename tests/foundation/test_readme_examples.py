"""README.md's examples, run as written, in README order, against a new server and database.

What runs (README says the same under "Examples"):
- every command of a ```sh block, one at a time with `bash -c`, the virtualenv's bin
  (grpcurl, tally-export-history) first on PATH, in a scratch directory;
- every ```sql block, typed into `psql -v ON_ERROR_STOP=1` as tally_app on the example
  database, one psql session per block (so `\\c - postgres` and `set role` hold within it);
- every ```python block, run whole by the test's Python.
The AMQP bridge runs beside the server, on a RabbitMQ virtual host of its own (made with
rabbitmqctl, removed after); AMQP_URL names it to the examples.
Blocks tagged otherwise (```text for output, ```console for set-up commands) are not run.

The server listens on 127.0.0.1:50051, README's address, when that port is free. When it
is not (another server on this machine), the server takes a free port and the address
`127.0.0.1:50051` in a command is replaced by that one: the only change made to any text.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from psycopg.conninfo import conninfo_to_dict

from server.core.config import APP_ROLE, Settings
from tests.support import (
    ROOT,
    TEST_REDIS_URL,
    BridgeProcess,
    ServerProcess,
    rabbitmqctl,
    recreate_database,
    scratch_database_url,
)

README = ROOT / "README.md"
README_ADDR = "127.0.0.1:50051"
RUN = {"sh", "sql", "python"}
NOT_RUN = {"text", "console"}
FENCE = re.compile(r"^```(\S*)\s*$")
# Inline code that is a whole example: it must also be in a block that runs.
INLINE = re.compile(r"`([^`\n]+)`")
INLINE_EXAMPLE = re.compile(r"^(grpcurl\s|(select|update|insert|delete|call)\s.*;$)", re.I)


@dataclass(frozen=True)
class Example:
    line: int      # README line of the command, or of the block's first line
    kind: str      # "sh", "sql" or "python"
    text: str

    @property
    def statements(self) -> int:
        """Statements in a sql block (what the example count counts); 1 for a command in
        sh and for a python block."""
        if self.kind != "sql":
            return 1
        return sum(1 for ln in self.text.splitlines()
                   if ln.rstrip().endswith(";") or ln.lstrip().startswith("\\"))


def fenced_blocks(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """(info string, line of the first content line, content lines) for each block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i + 1
        j = start
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        if j == len(lines):
            raise AssertionError(f"README.md:{i + 1}: code block never closed")
        yield m.group(1), start + 1, lines[start:j]
        i = j + 1


def extract(text: str) -> list[Example]:
    examples: list[Example] = []
    for lang, first, body in fenced_blocks(text):
        if lang in ("sql", "python"):
            examples.append(Example(first, lang, "\n".join(body) + "\n"))
        elif lang == "sh":
            pending: list[str] = []
            start = first
            for n, raw in enumerate(body, first):
                if not pending:
                    if not raw.strip() or raw.lstrip().startswith("#"):
                        continue
                    start = n
                pending.append(raw)
                if raw.endswith("\\"):
                    continue
                examples.append(Example(start, "sh", "\n".join(pending)))
                pending = []
            assert not pending, f"README.md:{start}: command continues past its block"
    return examples


EXAMPLES = extract(README.read_text())


def test_every_block_says_whether_it_runs():
    """A block without a known tag would be skipped silently: refuse it."""
    for lang, first, _ in fenced_blocks(README.read_text()):
        assert lang in RUN | NOT_RUN, (
            f"README.md:{first - 1}: code block tagged {lang!r}; use sh or sql for an "
            f"example (it runs in the suite), text or console for one that does not")


def test_inline_examples_are_also_run():
    """A whole grpcurl command or SQL statement quoted in prose or a table is an example
    a reader may type; it must be one of the blocks the suite runs, verbatim."""
    text = README.read_text()
    in_blocks = "\n".join(lines for lang, _, body in fenced_blocks(text) if lang in RUN
                          for lines in body)
    outside = re.sub(r"^```\S*\s*$.*?^```\s*$", "", text, flags=re.S | re.M)
    missing = [code for code in INLINE.findall(outside)
               if INLINE_EXAMPLE.match(code.strip()) and code.strip() not in in_blocks]
    assert not missing, "inline examples not in any sh/sql block:\n" + "\n".join(missing)


def test_readme_has_examples_of_both_kinds():
    grpcurl = [e for e in EXAMPLES if e.kind == "sh" and e.text.lstrip().startswith("grpcurl")]
    sql = [e for e in EXAMPLES if e.kind == "sql"]
    assert len(grpcurl) >= 40 and sum(e.statements for e in sql) >= 40, (len(grpcurl), len(sql))


def port_is_free(port: int) -> bool:
    # No SO_REUSEPORT here: gRPC servers set it, and a bind that shares their port would
    # succeed and split the calls between two servers.
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Stage:
    addr: str
    env: dict[str, str]
    cwd: Path
    psql: list[str]
    failed_at: int | None = None


@pytest.fixture(scope="module")
def stage(tmp_path_factory) -> Iterator[Stage]:
    url = scratch_database_url("readme")
    recreate_database(url)
    # The booking and shop caches use keys by id; ids of another test database must not
    # answer for this one.
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for pattern in ("tally:booking:event:*", "tally:shop:user:*", "tally:shop:product:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    client.close()
    # As `make run` starts it: the default rate limit (ServerProcess turns it off) and jobs.
    server = ServerProcess(url, RATE_LIMIT_MAX=str(Settings.rate_limit_max))
    if port_is_free(50051):
        server.port, server.addr = 50051, README_ADDR
        server.env["GRPC_ADDR"] = README_ADDR
    server.start()
    vhost = f"tally-readme-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    bridge = BridgeProcess(amqp_url, url)
    try:
        bridge.start()
    except BaseException:
        server.stop()
        rabbitmqctl("delete_vhost", vhost)
        raise
    info = conninfo_to_dict(url)
    bin_dir = str(Path(sys.executable).parent)
    assert shutil.which("grpcurl", path=bin_dir), "grpcurl is not installed in the virtualenv"
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "PGHOST": info.get("host") or "127.0.0.1", "PGPORT": str(info.get("port") or 5432),
           "PGUSER": APP_ROLE, "PGDATABASE": info["dbname"], "PGOPTIONS": "",
           "PSQLRC": os.devnull, "REDIS_URL": TEST_REDIS_URL, "AMQP_URL": amqp_url}
    env.pop("PGPASSWORD", None)
    # `-f -` rather than plain stdin: psql then names the failing line (`psql:<stdin>:3:`).
    psql = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "--no-password", "-f", "-"]
    try:
        yield Stage(server.addr, env, tmp_path_factory.mktemp("readme"), psql)
    finally:
        bridge.stop()
        server.stop()
        rabbitmqctl("delete_vhost", vhost)


def example_id(example: Example) -> str:
    if example.kind in ("sql", "python"):
        return f"L{example.line}-{example.kind}"
    first = example.text.strip().splitlines()[0]
    words = first.split()
    rpc = words[-1].rsplit("/", 1)[-1] if words and "/" in words[-1] else words[0]
    return f"L{example.line}-{example.kind}-{rpc}"[:60]


@pytest.mark.parametrize("example", EXAMPLES, ids=[example_id(e) for e in EXAMPLES])
def test_readme_example(stage: Stage, example: Example):
    # The first failing example fails the suite by itself (below); the ones after it run on
    # what it should have made, so they are skipped, not reported as failures of their own.
    if stage.failed_at is not None:
        pytest.skip(f"the example at README.md:{stage.failed_at} failed; later ones build on it")
    if example.kind == "sh":
        command = example.text.replace(README_ADDR, stage.addr)
        done = subprocess.run(["bash", "-c", command], cwd=stage.cwd, env=stage.env,
                              capture_output=True, text=True, timeout=60)
    elif example.kind == "python":
        done = subprocess.run([sys.executable, "-"], input=example.text, cwd=stage.cwd,
                              env=stage.env, capture_output=True, text=True, timeout=60)
    else:
        done = subprocess.run(stage.psql, input=example.text, cwd=stage.cwd, env=stage.env,
                              capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        where = example.line
        m = re.search(r"psql:<stdin>:(\d+):", done.stderr)
        if example.kind == "sql" and m:
            where = example.line + int(m.group(1)) - 1
        stage.failed_at = where
        pytest.fail(f"README.md:{where}: example exited {done.returncode}\n"
                    f"$ {example.text}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}",
                    pytrace=False)
    if example.kind == "sql":
        # psql goes on after a notice or warning; an example should not need one.
        assert "WARNING" not in done.stderr, done.stderr
