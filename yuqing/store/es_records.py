"""The small records of the Elasticsearch store: alerts, silences, subscribers, outbox, cases, audit,
crawl runs and source health, state, rejected items and users, each in its own index."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from yuqing.post import Alert, Case, CrawlRun, Rejected, SourceHealth, Subscriber, User, now_utc
from yuqing.store.base import EMAIL_LEASE, AuditEntry, OutboxMessage, Silence
from yuqing.store.es_client import EsBase, es_errors
from yuqing.store.es_docs import record_doc, record_from_doc

ALL = 1_000_000
MAX_KEYWORD = 2000  # characters; an indexed keyword term is limited to 32766 bytes
MAX_ID_BYTES = 512  # Elasticsearch's limit on _id


def _doc_id(prefix: str, name: str) -> str:
    """`prefix + name`, or a digest of it when it would exceed the _id limit."""
    doc_id = prefix + name
    if len(doc_id.encode()) <= MAX_ID_BYTES:
        return doc_id
    return prefix + "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def _latest(fields: list[str]) -> dict[str, Any]:
    return {"top_hits": {"size": 1, "sort": [{"run_id": {"order": "desc"}}], "_source": {"includes": fields}}}


def _finished(extra: dict[str, Any]) -> dict[str, Any]:
    return {"filter": {"bool": {"filter": [extra, {"exists": {"field": "finished_at"}}]}},
            "aggs": {"latest": _latest(["finished_at"])}}


# per source: totals, the latest run (by run_id), the latest finished healthy run and delivering run, errors
HEALTH_AGGS: dict[str, Any] = {"sources": {
    "terms": {"field": "source", "size": 10_000, "order": {"_key": "asc"}},
    "aggs": {
        **{name: {"sum": {"field": name}} for name in ("pages", "posts_found", "posts_new", "rejected")},
        "last": _latest(["started_at", "finished_at", "healthy", "reason"]),
        "ok": _finished({"term": {"healthy": True}}),
        "delivered": _finished({"range": {"posts_new": {"gt": 0}}}),
        "errors": {"nested": {"path": "error_counts"}, "aggs": {"kinds": {
            "terms": {"field": "error_counts.kind", "size": 1000},
            "aggs": {"n": {"sum": {"field": "error_counts.n"}}}}}},
    },
}}


def _hit_time(agg: dict[str, Any], field: str) -> datetime | None:
    hits = agg["latest"]["hits"]["hits"] if "latest" in agg else agg["hits"]["hits"]
    value = hits[0]["_source"].get(field) if hits else None
    return datetime.fromisoformat(value) if value else None


def health_from_bucket(b: dict[str, Any]) -> SourceHealth:
    """One SourceHealth from a `sources` bucket of HEALTH_AGGS (the embedded store's rules)."""
    last = b["last"]["hits"]["hits"][0]["_source"]
    last_at = last.get("finished_at") or last["started_at"]
    errors = {k["key"]: int(k["n"]["value"]) for k in b["errors"]["kinds"]["buckets"]}
    return SourceHealth(
        source=b["key"], last_run_at=datetime.fromisoformat(last_at),
        last_success_at=_hit_time(b["ok"], "finished_at"), last_post_at=_hit_time(b["delivered"], "finished_at"),
        healthy=bool(last["healthy"]), reason=last.get("reason") or "", runs=int(b["doc_count"]),
        pages=int(b["pages"]["value"]), posts_found=int(b["posts_found"]["value"]),
        posts_new=int(b["posts_new"]["value"]), rejected=int(b["rejected"]["value"]), errors=errors,
    )


def _terms(field: str, values: Sequence[str]) -> list[dict[str, Any]]:
    return [{"terms": {field: list(values)}}] if values else []


def _query(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


CLAIM_SCRIPT = ("if (ctx._source.sent || ctx._source.next_attempt_at != params.seen) { ctx.op = 'noop'; } "
                "else { ctx._source.next_attempt_at = params.until; }")


class EsRecords(EsBase):
    """Everything but posts and events."""

    def _save_numbered(self, suffix: str, id_field: str, record: Any, **extra: Any) -> Any:
        """Insert (id None: take the next id) or overwrite by id; returns the record with its id."""
        rid = getattr(record, id_field)
        if rid is None:
            rid = self.next_ids(suffix)
            record = dataclasses.replace(record, **{id_field: rid})
        else:
            self.bump_ids(suffix, int(rid))
        self.put(suffix, str(rid), record_doc(suffix, record, **extra))
        return record

    # --- alerts
    def save_alert(self, alert: Alert) -> Alert:
        return self._save_numbered("alerts", "alert_id", alert,
                                   touched_at=(alert.updated_at or alert.opened_at).isoformat())

    def get_alert(self, alert_id: int) -> Alert | None:
        src = self.get_source("alerts", str(alert_id))
        return record_from_doc(Alert, src) if src else None

    def find_alert(self, rule: str, key: str) -> Alert | None:
        rows = self.sources("alerts", _query([{"term": {"rule": rule}}, {"term": {"key": key}}]),
                            [{"alert_id": "desc"}], 1)
        return record_from_doc(Alert, rows[0]) if rows else None

    def list_alerts(self, *, statuses: tuple[str, ...] = (), since: datetime | None = None,
                    limit: int = 100) -> list[Alert]:
        filters = _terms("status", statuses)
        if since:
            filters.append({"range": {"touched_at": {"gte": since.isoformat()}}})
        rows = self.sources("alerts", _query(filters), [{"touched_at": "desc"}, {"alert_id": "desc"}], limit)
        return [record_from_doc(Alert, r) for r in rows]

    def add_silence(self, silence: Silence) -> None:
        sid = self.next_ids("silences")
        self.put("silences", str(sid), record_doc("silences", silence))

    def active_silences(self, now: datetime) -> list[Silence]:
        rows = self.hits(self.idx("silences"), {"range": {"until": {"gt": now.isoformat()}}},
                         [{"until": "asc"}, {"rule": "asc"}, {"key": "asc"}], ALL)
        return [record_from_doc(Silence, h["_source"]) for h in rows]

    # --- subscribers
    def save_subscriber(self, sub: Subscriber) -> Subscriber:
        if not sub.token:
            sub = dataclasses.replace(sub, token=secrets.token_urlsafe(24))
        return self._save_numbered("subscribers", "subscriber_id", sub)

    def list_subscribers(self, *, active_only: bool = False) -> list[Subscriber]:
        query = _query([{"term": {"active": True}}] if active_only else [])
        return [record_from_doc(Subscriber, r) for r in self.sources("subscribers", query,
                                                                      [{"subscriber_id": "asc"}], ALL)]

    def delete_subscriber(self, subscriber_id: int) -> None:
        self.ensure()
        with es_errors("delete subscriber"):
            self.es.options(ignore_status=404).delete(index=self.idx("subscribers"), id=str(subscriber_id),
                                                      refresh=self._refresh_param())

    def unsubscribe(self, token: str) -> bool:
        if not token:
            return False
        rows = self.sources("subscribers", _query([{"term": {"token": token}}]), [{"subscriber_id": "asc"}], 1)
        if not rows:
            return False
        self.put("subscribers", str(rows[0]["subscriber_id"]), dict(rows[0], active=False))
        return True

    # --- outbox: the document id is the dedup key, so a second enqueue is refused by the `create` op
    def enqueue_email(self, msg: OutboxMessage) -> int | None:
        from elasticsearch import ConflictError

        mid = self.next_ids("outbox")
        created = msg.created_at or now_utc()
        msg = dataclasses.replace(msg, message_id=mid, created_at=created, next_attempt_at=msg.next_attempt_at or created,
                                  attempts=0, sent_at=None, last_error="")
        doc_id = _doc_id("d:", msg.dedup_key) if msg.dedup_key else f"m:{mid}"
        with es_errors("enqueue email"):
            try:
                self.es.create(index=self.idx("outbox"), id=doc_id, refresh=self._refresh_param(),
                               document=record_doc("outbox", msg, sent=msg.sent_at is not None))
            except ConflictError:
                return None
        return mid

    def _outbox_hit(self, message_id: int) -> dict[str, Any]:
        hits = self.hits(self.idx("outbox"), {"term": {"message_id": message_id}}, [{"message_id": "asc"}], 1)
        if not hits:
            raise KeyError(f"no outbox message {message_id}")
        return hits[0]

    def due_emails(self, now: datetime, *, limit: int = 50) -> list[OutboxMessage]:
        due = {"range": {"next_attempt_at": {"lte": now.isoformat()}}}
        rows = self.sources("outbox", _query([{"term": {"sent": False}}, due]), [{"message_id": "asc"}], limit)
        return [record_from_doc(OutboxMessage, r) for r in rows]

    def claim_emails(self, now: datetime, *, limit: int = 50, lease: timedelta = EMAIL_LEASE) -> list[OutboxMessage]:
        """Each due message is claimed by a scripted update that only moves next_attempt_at on from the value
        this search saw: the update reads the live document, so of two claimers one gets "updated", one "noop"."""
        from elasticsearch import ConflictError, NotFoundError

        due = {"range": {"next_attempt_at": {"lte": now.isoformat()}}}
        hits = self.hits(self.idx("outbox"), _query([{"term": {"sent": False}}, due]), [{"message_id": "asc"}], limit)
        until = (now + lease).isoformat()
        claimed = []
        for hit in hits:
            with es_errors("claim email"):
                try:
                    resp = self.es.update(index=hit["_index"], id=hit["_id"], retry_on_conflict=0,
                                          script={"source": CLAIM_SCRIPT, "params": {
                                              "seen": hit["_source"]["next_attempt_at"], "until": until}},
                                          refresh=self._refresh_param())
                except (ConflictError, NotFoundError):  # changed or gone meanwhile: someone else has it
                    continue
            if resp["result"] == "updated":
                claimed.append(record_from_doc(OutboxMessage, hit["_source"]))
        return claimed

    def _update_outbox(self, message_id: int, script: str, params: dict[str, Any]) -> None:
        hit = self._outbox_hit(message_id)
        with es_errors("update email"):
            self.es.update(index=self.idx("outbox"), id=hit["_id"], retry_on_conflict=5,
                           script={"source": script, "params": params}, refresh=self._refresh_param())

    def mark_email_sent(self, message_id: int, at: datetime) -> None:
        self._update_outbox(message_id, "if (ctx._source.sent) { ctx.op = 'noop'; } else { ctx._source.sent = true; "
                                        "ctx._source.sent_at = params.at; ctx._source.attempts += 1; "
                                        "ctx._source.last_error = ''; }",
                            {"at": at.isoformat()})

    def mark_email_failed(self, message_id: int, error: str, next_attempt_at: datetime) -> None:
        self._update_outbox(message_id, "ctx._source.attempts += 1; ctx._source.last_error = params.error; "
                                        "ctx._source.next_attempt_at = params.next;",
                            {"error": error[:2000], "next": next_attempt_at.isoformat()})

    def list_outbox(self, *, limit: int = 100) -> list[OutboxMessage]:
        rows = self.sources("outbox", {"match_all": {}}, [{"message_id": "desc"}], limit)
        return [record_from_doc(OutboxMessage, r) for r in rows]

    # --- cases and audit
    def save_case(self, case: Case) -> Case:
        """Insert or update; one case per post, so a new case for a post that has one updates it."""
        if case.created_at is None:
            case = dataclasses.replace(case, created_at=now_utc())
        if case.case_id is None:
            old = self.find_case(case.platform, case.post_id)
            if old is not None:
                case = dataclasses.replace(case, case_id=old.case_id)
        return self._save_numbered("cases", "case_id", case, key=case.key)

    def get_case(self, case_id: int) -> Case | None:
        src = self.get_source("cases", str(case_id))
        return record_from_doc(Case, src) if src else None

    def find_case(self, platform: str, post_id: str) -> Case | None:
        rows = self.sources("cases", _query([{"term": {"key": f"{platform}:{post_id}"}}]), [{"case_id": "desc"}], 1)
        return record_from_doc(Case, rows[0]) if rows else None

    def list_cases(self, *, statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 200) -> list[Case]:
        filters = _terms("status", statuses) + ([{"term": {"assignee": assignee}}] if assignee else [])
        rows = self.sources("cases", _query(filters),
                            [{"priority": "desc"}, {"case_id": "asc"}], limit)
        return [record_from_doc(Case, r) for r in rows]

    def add_audit(self, entry: AuditEntry) -> None:
        seq = self.next_ids("audit")
        self.put("audit", str(seq), record_doc("audit", entry, seq=seq))

    def list_audit(self, *, target: str = "", limit: int = 200) -> list[AuditEntry]:
        query = _query([{"term": {"target": target}}] if target else [])
        rows = self.sources("audit", query, [{"seq": "desc"}], limit)
        return [record_from_doc(AuditEntry, r) for r in rows]

    # --- sources
    def record_crawl_run(self, run: CrawlRun) -> CrawlRun:
        """Insert (run_id None) or update a run; source health is aggregated from the runs when read."""
        counts = [{"kind": k, "n": int(n)} for k, n in sorted(run.errors.items())]
        return self._save_numbered("crawl-runs", "run_id", run, error_counts=counts)

    def source_health(self) -> list[SourceHealth]:
        self.ensure()
        with es_errors("source health"):
            resp = self.es.search(index=self.idx("crawl-runs"), size=0, aggs=HEALTH_AGGS)
        return [health_from_bucket(b) for b in resp["aggregations"]["sources"]["buckets"]]

    def list_crawl_runs(self, *, source: str = "", limit: int = 1000) -> list[CrawlRun]:
        """The latest runs, newest first (for the sources page and migration)."""
        query = _query([{"term": {"source": source}}] if source else [])
        rows = self.sources("crawl-runs", query, [{"started_at": "desc"}, {"run_id": "desc"}], limit)
        return [record_from_doc(CrawlRun, r) for r in rows]

    def get_state(self, name: str) -> str | None:
        src = self.get_source("state", _doc_id("", name))
        return None if src is None else str(src["value"])

    def set_state(self, name: str, value: str) -> None:
        self.put("state", _doc_id("", name), {"name": name, "value": value})

    def list_state(self) -> dict[str, str]:
        rows = self.sources("state", {"match_all": {}}, [{"name": "asc"}], ALL)
        return {r["name"]: r["value"] for r in rows}

    def record_rejected(self, items: Sequence[Rejected]) -> None:
        from elasticsearch import helpers

        if not items:
            return
        last = self.next_ids("rejected", len(items))
        now = now_utc()
        actions = [{"_op_type": "index", "_index": self.idx("rejected"), "_id": str(seq),
                    "_source": record_doc("rejected", dataclasses.replace(r, at=r.at or now, sample=r.sample[:500],
                                                                     reason=r.reason[:MAX_KEYWORD]), seq=seq)}
                   for seq, r in zip(range(last - len(items) + 1, last + 1), items, strict=True)]
        with es_errors("bulk rejected"):
            _, failures = helpers.bulk(self.es, actions, raise_on_error=False, max_retries=self.max_retries,
                                       initial_backoff=self.backoff,
                                       refresh=self._refresh_param() or False)
        if failures:
            raise RuntimeError(f"elasticsearch refused {len(failures)} rejected items: {json.dumps(failures[:2])}")

    def rejected_counts(self, *, since: datetime | None = None) -> dict[tuple[str, str, str], int]:
        self.ensure()
        query = {"range": {"at": {"gte": since.isoformat()}}} if since else {"match_all": {}}
        aggs = {"source": {"terms": {"field": "source", "size": 1000}, "aggs": {
            "stage": {"terms": {"field": "stage", "size": 100}, "aggs": {
                "reason": {"terms": {"field": "reason", "size": 1000}}}}}}}
        with es_errors("rejected counts"):
            resp = self.es.search(index=self.idx("rejected"), query=query, aggs=aggs, size=0)
        out = {}
        for src in resp["aggregations"]["source"]["buckets"]:
            for stage in src["stage"]["buckets"]:
                for reason in stage["reason"]["buckets"]:
                    out[(src["key"], stage["key"], reason["key"])] = int(reason["doc_count"])
        return out

    def list_rejected(self, *, limit: int = 100) -> list[Rejected]:
        rows = self.sources("rejected", {"match_all": {}}, [{"seq": "desc"}], limit)
        return [record_from_doc(Rejected, r) for r in rows]

    # --- users
    def save_user(self, user: User) -> None:
        self.put("users", user.username, record_doc("users", user))

    def get_user(self, username: str) -> User | None:
        src = self.get_source("users", username)
        return record_from_doc(User, src) if src else None

    def delete_user(self, username: str) -> bool:
        self.ensure()
        with es_errors("delete user"):
            resp = self.es.options(ignore_status=404).delete(index=self.idx("users"), id=username,
                                                             refresh=self._refresh_param())
        return str(resp.get("result", "")) == "deleted"

    def list_users(self) -> list[User]:
        return [record_from_doc(User, r) for r in self.sources("users", {"match_all": {}}, [{"username": "asc"}], ALL)]
