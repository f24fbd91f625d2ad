"""The SQLAlchemy engine of the OpsDB: SQLite (WAL, explicit BEGIN IMMEDIATE for writes) or PostgreSQL
(psycopg 3), transactions with errors mapped to StoreError / StoreUnavailable, and the dialect's upsert."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.ops.protocol import holder_is_dead, owner_id

__all__ = ["Transactions", "describe", "errors", "holder_is_dead", "make_engine", "owner_id"]

WRITE = "yuqing_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def make_engine(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for a SQLite file (created with its folder; a write waits `busy_timeout` s for another process's
    lock) or a PostgreSQL database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below emits BEGIN itself
            dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            _wal(dbapi_conn, busy_timeout)
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800,
                         connect_args={"connect_timeout": 10})


def _wal(dbapi_conn: Any, patience: float) -> None:
    """Put the file in WAL mode (once; it persists). Switching answers "database is locked" at once, without waiting
    for the busy timeout, while another process holds the file exclusively (its last connection closing, a legacy
    upgrade): several processes opening one file together then failed at open. Retried for `patience` seconds."""
    import sqlite3
    import time

    deadline = time.monotonic() + patience
    pause = 0.02
    while True:
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def describe(url: str) -> str:
    """The URL with any password masked, for messages and `store status`."""
    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def errors(what: str, url: str) -> Iterator[None]:
    """Driver errors as the stores' errors: cannot connect, locked or corrupt -> StoreUnavailable."""
    try:
        yield
    except (StoreError, KeyError, ValueError, LookupError):
        raise
    except (OperationalError, DatabaseError) as exc:
        if isinstance(exc, IntegrityError):
            raise StoreError(f"OpsDB {what} refused: {exc.orig}") from exc
        raise StoreUnavailable(f"OpsDB {describe(url)} unavailable ({what}): {exc.orig}") from exc
    except DBAPIError as exc:
        raise StoreError(f"OpsDB {what} failed: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"OpsDB {what} failed: {exc}") from exc


class Transactions:
    """Mixed into the OpsDB: `self.engine`, `self.url`; `_tx()` for a transaction, `_write()` for a writing one."""

    engine: Engine
    url: str

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def _tx(self, what: str = "read", *, write: bool = False) -> Iterator[Connection]:
        with errors(what, self.url), self.engine.connect() as conn:
            if write:
                conn = conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def _write(self, what: str = "write") -> contextlib.AbstractContextManager[Connection]:
        return self._tx(what, write=True)

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT (with on_conflict_do_update / on_conflict_do_nothing)."""
        if self.postgres:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)
