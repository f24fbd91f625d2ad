"""The OpsDB on both of its databases: SQLite (a file under tmp_path) and a real PostgreSQL (tests/pgserver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BACKENDS = ["sqlite", "postgresql"]


def make_ops(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    from yuqing.ops.sql import SqlOps

    if backend == "sqlite":
        return SqlOps(f"sqlite:///{tmp_path / 'ops.db'}")
    url = request.getfixturevalue("pg_url")
    return SqlOps(url.replace("postgresql://", "postgresql+psycopg://"))


@pytest.fixture(params=BACKENDS)
def ops(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    db = make_ops(request.param, tmp_path, request)
    yield db
    db.close()
