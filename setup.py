"""Build steps pyproject.toml cannot declare: a built (non-editable) tally carries its
generated gRPC stubs (package `tally`, from proto/) and its SQL (`server/sql`, from sql/),
so an installed `tally-migrate` and `tally-server` need no source tree. Editable installs
(`make deps`) skip both: there the Makefile generates the stubs into .gen/ and migrate
reads sql/ in place."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithStubsAndSql(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        from grpc_tools import protoc

        out = Path(self.build_lib)
        protos = sorted(str(p.relative_to(HERE / "proto")) for p in (HERE / "proto").rglob("*.proto"))
        code = protoc.main(["grpc_tools.protoc", f"-I{HERE / 'proto'}",
                            f"-I{Path(protoc.__file__).parent / '_proto'}",
                            f"--python_out={out}", f"--grpc_python_out={out}", *protos])
        if code != 0:
            raise SystemExit(f"protoc failed ({code})")
        for package in {Path(p).parent for p in protos}:  # tally/<domain>/v1 and parents
            for d in [package, *package.parents]:
                if str(d) != ".":
                    (out / d / "__init__.py").touch()
        target = out / "server" / "sql"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(HERE / "sql", target, ignore=shutil.ignore_patterns("Dockerfile"))


setup(cmdclass={"build_py": BuildWithStubsAndSql})
