"""Moving the operational records of an older Elasticsearch deployment into the OpsDB, once, resumably.

Before the store split, Elasticsearch also held alerts, silences, subscribers, the outbox, cases, audit, crawl
runs, a key/value state, rejected items and users, one index each (`<prefix>-alerts` …). The post index no
longer reads them; `yuqing store migrate --from es --to sql` copies them into the OpsDB with their ids (the
state keys into their tables, as yuqing.ops.legacy does for an old SQLite file). Rows already there are
skipped, so a copy stopped half-way is simply run again. The old indices are left in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from yuqing.index.elastic.client import es_errors
from yuqing.index.elastic.docs import record_from_doc
from yuqing.ops import tables as T
from yuqing.ops.legacy import state_rows
from yuqing.ops.outbox import _payload
from yuqing.ops.sql import SqlOps
from yuqing.ops.transfer import fix_sequences, import_rows
from yuqing.records import (
    Alert,
    AuditEntry,
    Case,
    CrawlRun,
    OutboxMessage,
    Rejected,
    Silence,
    Subscriber,
    User,
)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
PAGE = 1000

# old index suffix -> (record type, the field whose value orders and identifies it)
INDICES: dict[str, tuple[type, str]] = {
    "alerts": (Alert, "alert_id"), "subscribers": (Subscriber, "subscriber_id"), "cases": (Case, "case_id"),
    "crawl-runs": (CrawlRun, "run_id"), "users": (User, "username"), "silences": (Silence, "_id"),
    "audit": (AuditEntry, "seq"), "rejected": (Rejected, "seq"), "outbox": (OutboxMessage, "message_id"),
}


def _hits(es: Any, index: str, sort_field: str) -> Iterator[dict[str, Any]]:
    """Every document of an index, in `sort_field` order (search_after), with its _id."""
    from elasticsearch import NotFoundError

    after: list[Any] | None = None
    if sort_field == "_id":  # silences: few, and no field to page by (_id has no doc values in ES 8)
        with es_errors(f"read {index}"):
            try:
                resp = es.search(index=index, query={"match_all": {}}, sort=[{"until": "asc"}], size=10_000)
            except NotFoundError:
                return
        yield from ({**h["_source"], "_id": h["_id"]} for h in resp["hits"]["hits"])
        return
    sort = [{sort_field: "asc"}]
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        with es_errors(f"read {index}"):
            try:
                resp = es.search(index=index, query={"match_all": {}}, sort=sort, size=PAGE, **kwargs)
            except NotFoundError:
                return
        hits = resp["hits"]["hits"]
        for hit in hits:
            yield {**hit["_source"], "_id": hit["_id"]}
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def _count(es: Any, index: str) -> int:
    from elasticsearch import NotFoundError

    with es_errors(f"count {index}"):
        try:
            return int(es.count(index=index)["count"])
        except NotFoundError:
            return 0


def _rows(suffix: str, source: dict[str, Any]) -> dict[str, Any]:
    """The OpsDB row of one old document."""
    cls, key = INDICES[suffix]
    record = record_from_doc(cls, {k: v for k, v in source.items() if k != "_id"})
    if suffix == "silences":
        return T.to_row(record, T.silences, id=int(source["_id"]) if str(source["_id"]).isdigit() else None)
    if suffix == "audit":
        return T.to_row(record, T.audit, id=int(source["seq"]))
    if suffix == "rejected":
        return T.to_row(record, T.rejected, id=int(source["seq"]))
    if suffix == "outbox":
        msg: OutboxMessage = record
        return {"message_id": msg.message_id, "channel": "email", "dedup_key": msg.dedup_key or None,
                "recipients": list(msg.to), "subject": msg.subject, "payload": _payload(msg),
                "created_at": msg.created_at or datetime.now(UTC), "attempts": msg.attempts,
                "next_attempt_at": msg.next_attempt_at or msg.created_at or datetime.now(UTC), "sent_at": msg.sent_at,
                "last_error": msg.last_error, "owner": ""}
    table = {"alerts": T.alerts, "subscribers": T.subscribers, "cases": T.cases, "crawl-runs": T.crawl_runs,
             "users": T.users}[suffix]
    return T.to_row(record, table)


TABLES = {"alerts": T.alerts, "subscribers": T.subscribers, "cases": T.cases, "crawl-runs": T.crawl_runs,
          "users": T.users, "silences": T.silences, "audit": T.audit, "rejected": T.rejected, "outbox": T.outbox}


def import_es_ops(es: Any, prefix: str, ops: SqlOps, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy the old operational indices of `prefix` into `ops`; rows newly written per kind."""
    copied: dict[str, int] = {}
    for suffix in ("users", "subscribers", "alerts", "silences", "cases", "audit", "crawl-runs", "rejected",
                   "outbox"):
        index = f"{prefix}-{suffix}"
        total = _count(es, index)
        sort_field = INDICES[suffix][1]
        done = 0

        def rows(index: str = index, suffix: str = suffix, total: int = total,
                 sort_field: str = sort_field) -> Iterator[dict[str, Any]]:
            nonlocal done
            for source in _hits(es, index, sort_field):
                done += 1
                if progress and (done % PAGE == 0 or done == total):
                    progress(suffix, done, total)
                yield _rows(suffix, source)

        copied[suffix] = import_rows(ops, TABLES[suffix], rows())
    pairs = [(s["name"], str(s["value"])) for s in _hits(es, f"{prefix}-state", "name")]
    subscribers = {s.subscriber_id for s in ops.list_subscribers() if s.subscriber_id is not None}
    for table, rows in state_rows(pairs, subscribers).items():
        copied[table] = import_rows(ops, getattr(T, table), rows)
    fix_sequences(ops)
    return copied
