"""server/ is layered, and imports only point down the layers:

    server.app (composition root), server.__main__, server.worker   the process
    server.amqp (server.amqp.bridge: a second composition root)     the AMQP bridge process
    server.domains.<domain>                                         one module per domain
    server.jobs                                                     job, runner, lock
    server.core                                                     what every call shares
    server.ops                                                      tools run beside the server

A domain never imports another domain, only the composition roots import the domains
(server.app for the gRPC server; server.amqp.bridge for the AMQP bridge, a process of its
own that serves the shop's handlers from queues, so it composes them as server.app does),
and core
imports nothing above itself. Imports under `if TYPE_CHECKING:` count too: a type-only
import upward is still a dependency in the reader's head.

clients/ may use server/ modules that need nothing but the standard library (run-once
shares server.jobs.lock_protocol with the server's lock), so a command-line tool never
pays for the server's dependencies.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.support import ROOT

SERVER = ROOT / "server"

# The modules that build processes out of the domains.
COMPOSITION_ROOTS = frozenset({"server.app", "server.amqp.bridge"})

# layer -> the layers it may import from (besides itself)
ALLOWED = {
    "core": set(),
    "jobs": {"core"},
    "domains": {"core", "jobs"},
    "ops": {"core"},
    "process": {"core", "jobs", "domains", "ops"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("core", "jobs", "domains", "ops"):
        return parts[1]
    return "process"


def server_imports(path: Path) -> set[str]:
    """The server.* modules `path` imports, with relative imports resolved."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from server.core import errors` imports the module server.core.errors
            found.update(f"{target}.{a.name}" for a in node.names
                         if (ROOT / Path(*f"{target}.{a.name}".split("."))).with_suffix(".py")
                         .exists())
    return {m for m in found if m == "server" or m.startswith("server.")}


def violations() -> list[str]:
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        here = module_name(path)
        mine = layer(here)
        for target in sorted(server_imports(path)):
            theirs = layer(target)
            if target in ("server", "server.core", "server.jobs", "server.domains", "server.ops"):
                continue  # a package's own docstring module
            if theirs == "domains" and here not in COMPOSITION_ROOTS:
                if here != target:
                    found.append(f"{here} imports {target}: only the composition roots"
                                 f" ({', '.join(sorted(COMPOSITION_ROOTS))}) import domains")
            elif theirs != mine and theirs not in ALLOWED[mine]:
                found.append(f"{here} ({mine}) imports {target} ({theirs})")
    return found


def test_imports_point_down_the_layers():
    assert violations() == []


def test_the_check_sees_an_upward_import():
    """The rule above can fail: a core module importing a domain is reported."""
    bad = SERVER / "core" / "_layout_probe.py"
    bad.write_text("from ..domains import booking\nfrom ..app import serve\n")
    try:
        assert violations() == [
            "server.core._layout_probe (core) imports server.app (process)",
            "server.core._layout_probe imports server.domains.booking: only the composition "
            "roots (server.amqp.bridge, server.app) import domains",
        ]
    finally:
        bad.unlink()


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else (node.module or "").split(".")[0])
    return names


def test_clients_take_no_dependency_through_server_modules():
    """A client may use a server module only if that adds nothing to what the client
    imports itself: run-once, started a thousand times at once, imports the standard
    library alone, so whatever it uses of server/ must too; tally-export-history, a gRPC
    client, may use a server module that needs grpc. Checked through every server module
    the used ones import in turn."""
    used = set()
    for path in sorted((ROOT / "clients").glob("*.py")):
        own = top_level_imports(path) - {".", "server", "tally"}
        allowed = set(sys.stdlib_module_names) | own | {".", "server"}
        pending = sorted(server_imports(path))
        seen: set[str] = set()
        while pending:
            target = pending.pop()
            module = (ROOT / Path(*target.split("."))).with_suffix(".py")
            if target in seen or not module.exists():
                continue
            seen.add(target)
            extra = top_level_imports(module) - allowed
            assert extra == set(), f"{path.name} uses {target}, which imports {extra}"
            pending.extend(server_imports(module))
        used |= {(path.name, t) for t in seen}
    assert ("run_once.py", "server.jobs.lock_protocol") in used, "run-once's import was seen"


def test_every_domain_has_the_same_four_places():
    domains = sorted(p.stem for p in (SERVER / "domains").glob("*.py") if p.stem != "__init__")
    assert domains == ["booking", "clicks", "segments", "shop"]
    for name in domains:
        assert (ROOT / "sql" / name).is_dir(), name
        assert (ROOT / "tests" / "sql" / name).is_dir(), name
        assert (ROOT / "tests" / name).is_dir(), name
        assert list((ROOT / "proto" / "tally" / name / "v1").glob("*.proto")), name
