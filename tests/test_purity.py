"""The pure packages stay pure: no I/O layers, no drivers, no ambient time or randomness.

Walks the AST of every module under arco_grpc/partitions, arco_grpc/planning
and arco_grpc/domain (those that exist) and fails on forbidden imports and on
references to clock, uuid and random functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ("arco_grpc/partitions", "arco_grpc/planning", "arco_grpc/domain")

FORBIDDEN_MODULES = (
    "grpc",
    "arco_grpc._gen",
    "arco_grpc.store",
    "arco_grpc.service",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "asyncio",
    "random",
    "secrets",
    "contextvars",
)
# (module, name) pairs that read the clock or draw randomness.
FORBIDDEN_NAMES = {
    ("time", "time"),
    ("time", "time_ns"),
    ("uuid", "uuid1"),
    ("uuid", "uuid4"),
}
CLOCK_ATTRIBUTES = {"now", "utcnow", "today"}
CLOCK_OWNERS = {"datetime", "date"}


def is_forbidden_module(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES)


def module_name_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``from ... import`` names (resolving relative levels)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def final_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def violations_in(source: str, module: str = "arco_grpc.partitions.example", is_package: bool = False) -> list[str]:
    """Every purity violation in ``source``, as ``line: what`` strings."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_forbidden_module(alias.name):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            source_module = resolve_from(node, module, is_package)
            if is_forbidden_module(source_module):
                found.append(f"{node.lineno}: from {source_module} import ...")
            for alias in node.names:
                if is_forbidden_module(f"{source_module}.{alias.name}"):
                    found.append(f"{node.lineno}: from {source_module} import {alias.name}")
                if (source_module, alias.name) in FORBIDDEN_NAMES or alias.name == "ContextVar":
                    found.append(f"{node.lineno}: from {source_module} import {alias.name}")
        elif isinstance(node, ast.Attribute):
            owner = final_name(node.value)
            if node.attr in CLOCK_ATTRIBUTES and owner in CLOCK_OWNERS:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
            if (owner, node.attr) in FORBIDDEN_NAMES:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in {"uuid4", "uuid1", "ContextVar"}:
            found.append(f"{node.lineno}: {node.id}")
    return found


def pure_modules() -> list[Path]:
    return sorted(p for package in PURE_PACKAGES if (ROOT / package).is_dir() for p in (ROOT / package).rglob("*.py"))


def test_there_are_pure_modules_to_check() -> None:
    assert len(pure_modules()) >= 5


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_has_no_forbidden_imports_or_ambient_time(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations_in(source, module_name_of(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "import grpc",
        "import grpc.aio",
        "from grpc import aio",
        "import asyncio",
        "from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2",
        "from arco_grpc import _gen",
        "from arco_grpc import store",
        "from arco_grpc.service import servicer",
        "from ..store import events",
        "from ..service.servicer import x",
        "from .. import service",
        "import aiosqlite",
        "import asyncpg",
        "import sqlite3",
        "import random",
        "from random import choice",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "clock = datetime.now",
        "import time\nx = time.time()",
        "from time import time",
        "import uuid\nx = uuid.uuid4()",
        "from uuid import uuid4",
        "from contextvars import ContextVar",
    ],
)
def test_the_checker_catches(source: str) -> None:
    assert violations_in(source, "arco_grpc.partitions.example") != []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, timezone\nx = datetime(2024, 1, 1, tzinfo=timezone.utc)",
        "import hashlib, json",
        "from arco_grpc.errors import InvalidArgument",
        "from arco_grpc.partitions.subset import PartitionSubset",
        "from . import subset",
        "import time\nx = time.strftime('%Y')",
    ],
)
def test_the_checker_allows(source: str) -> None:
    assert violations_in(source, "arco_grpc.partitions.example") == []
