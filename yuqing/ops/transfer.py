"""Moving operational records into an OpsDB with their ids: from another SQL database (one machine's SQLite
file to the PostgreSQL server several hosts share) or, as rows, from an older Elasticsearch deployment
(yuqing.storage.es_ops).

Every row keeps its primary key and is written with ON CONFLICT DO NOTHING, batch by batch, each batch its own
transaction: stopped half-way and run again, it skips what moved and copies the rest. On PostgreSQL the id
sequences are moved past the copied ids afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table, func, select, text

from yuqing.ops import tables as T
from yuqing.ops.engine import errors
from yuqing.ops.sql import SqlOps

Progress = Callable[[str, int, int], None]
BATCH = 1000
SERIAL = {"alerts": "alert_id", "silences": "id", "subscribers": "subscriber_id", "outbox": "message_id",
          "cases": "case_id", "audit": "id", "crawl_runs": "run_id", "rejected": "id", "hot_tracks": "track_id",
          "hot_ranks": "id"}
SKIPPED = {"apscheduler_jobs", "job_leases"}  # a schedule and leases belong to the processes of one deployment


def import_rows(ops: SqlOps, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows keeping their keys; rows whose key is already there are skipped. Returns how many were new."""
    added = 0
    batch: list[dict[str, Any]] = []

    def flush() -> int:
        if not batch:
            return 0
        key = list(table.primary_key.columns)[0]
        stmt = ops._insert(table).on_conflict_do_nothing().returning(key)
        with ops._write(f"import {table.name}") as conn:
            n = len(conn.execute(stmt, batch).all())  # the rows written (a key already there returns none)
        batch.clear()
        return n

    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            added += flush()
    added += flush()
    return added


def fix_sequences(ops: SqlOps) -> None:
    """PostgreSQL: make every id sequence continue after the largest id (rows were inserted with their ids)."""
    if not ops.postgres:
        return
    with ops._write("fix sequences") as conn:
        for table, column in SERIAL.items():
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                              f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"))


def copy_database(source_url: str, target: SqlOps, *, progress: Progress | None = None) -> dict[str, int]:
    """Every operational table of the OpsDB at `source_url` (migrated first) into `target`: rows per table."""
    source = SqlOps(source_url)
    copied: dict[str, int] = {}
    try:
        for table in T.OPS_TABLES:
            if table.name in SKIPPED:
                continue
            with errors(f"count {table.name}", source.url), source.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(table)).scalar_one()
            done = 0
            copied[table.name] = 0
            key = list(table.primary_key.columns)
            with errors(f"read {table.name}", source.url), source.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table).order_by(*key))
                for part in result.partitions(BATCH):
                    rows = [dict(r._mapping) for r in part]
                    copied[table.name] += import_rows(target, table, rows)
                    done += len(rows)
                    if progress:
                        progress(table.name, done, total)
            if progress and total == 0:
                progress(table.name, 0, 0)
        fix_sequences(target)
    finally:
        source.close()
    return copied
