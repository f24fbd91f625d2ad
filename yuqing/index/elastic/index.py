"""The Elasticsearch post index: posts in monthly indices behind an alias, events in their own index.

Chosen by yuqing.wiring when YUQING_ES_URL is set. Writes are idempotent (`_id` = platform:post_id) and
go through `helpers.streaming_bulk` with retries; every failed item is counted in the WriteResult.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from yuqing.errors import StoreError
from yuqing.index.elastic import queries as Q
from yuqing.index.elastic.client import EsBase, es_errors, kw
from yuqing.index.elastic.docs import post_upsert_actions, record_doc, record_from_doc, stored_post_from_doc
from yuqing.index.elastic.mappings import EVENTS, posts_index
from yuqing.index.protocol import Bucket, PostQuery, WriteResult
from yuqing.records import Analysis, Event, Post, StoredPost, now_utc
from yuqing.vocab import LABELS

log = logging.getLogger(__name__)

MAX_ERRORS = 20


class ElasticIndex(EsBase):
    """PostIndex on Elasticsearch 8.x."""

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> ElasticIndex:
        from elasticsearch import Elasticsearch

        st = settings.store
        client = Elasticsearch(st.es_url, api_key=st.es_api_key or None, request_timeout=30,
                               max_retries=2, retry_on_timeout=True)
        kwargs.setdefault("shards", st.es_shards)
        kwargs.setdefault("replicas", st.es_replicas)
        return cls(client, prefix=st.es_prefix, **kwargs)

    # --- posts
    def _existing(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """key -> {"_index", "corrected_label"} for the keys already stored."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            with es_errors("lookup posts"):
                resp = self.es.search(index=self.alias, **kw(Q.ids_body(chunk, source=["corrected_label"])))
            for hit in resp["hits"]["hits"]:
                out[hit["_id"]] = {"_index": hit["_index"], **hit.get("_source", {})}
        return out

    def upsert_posts(self, items: Sequence[tuple[Post, Analysis | None]]) -> WriteResult:
        from elasticsearch import helpers

        if not items:
            return WriteResult()
        self.ensure()
        existing = self._existing(list(dict.fromkeys(p.key for p, _ in items)))
        first_seen = now_utc()
        actions = []
        for post, analysis in items:
            old = existing.get(post.key, {})
            index = old.get("_index") or posts_index(self.prefix, post.published_at)
            actions.append(post_upsert_actions(index, post, analysis, corrected=old.get("corrected_label") or "",
                                               first_seen=first_seen))
        inserted = updated = failed = 0
        errors: list[str] = []
        with es_errors("bulk"):
            for ok, item in helpers.streaming_bulk(
                self.es, actions, chunk_size=self.chunk_size, max_retries=self.max_retries, initial_backoff=self.backoff,
                max_backoff=30, raise_on_error=False, raise_on_exception=True, yield_ok=True,
            ):
                info = next(iter(item.values()))
                if ok and info.get("result") == "created":
                    inserted += 1
                elif ok:
                    updated += 1
                else:
                    failed += 1
                    err = info.get("error") or {}
                    reason = err.get("reason", err) if isinstance(err, dict) else err
                    msg = f"{info.get('_id')}: {err.get('type', '') if isinstance(err, dict) else ''} {reason}"
                    log.warning("elasticsearch rejected post %s", msg)
                    if len(errors) < MAX_ERRORS:
                        errors.append(msg.strip())
            if self.refresh:
                self.es.indices.refresh(index=self.alias)
        return WriteResult(inserted=inserted, updated=updated, failed=failed, errors=tuple(errors))

    def get_post(self, platform: str, post_id: str) -> StoredPost | None:
        self.ensure()
        with es_errors("get post"):
            resp = self.es.search(index=self.alias, **kw(Q.ids_body([f"{platform}:{post_id}"])))
        hits = resp["hits"]["hits"]
        return stored_post_from_doc(hits[0]["_source"]) if hits else None

    def seen_ids(self, platform: str, post_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return set()
        self.ensure()
        found = self._existing([f"{platform}:{i}" for i in ids])
        return {key.split(":", 1)[1] for key in found}

    def search_hits(self, query: PostQuery, *, limit: int = 50, offset: int = 0,
                    order: str = "published_at_desc") -> list[tuple[StoredPost, list[str]]]:
        """Posts with their highlighted fragments (<em>…</em>) when the query has text."""
        self.ensure()
        body = Q.search_body(query, limit=limit, offset=offset, order=order)
        with es_errors("search"):
            resp = self.es.search(index=self.alias, **kw(body))
        out = []
        for hit in resp["hits"]["hits"]:
            hl = hit.get("highlight", {})
            out.append((stored_post_from_doc(hit["_source"]), list(hl.get("title", [])) + list(hl.get("text", []))))
        return out

    def search_posts(self, query: PostQuery, *, limit: int = 50, offset: int = 0,
                     order: str = "published_at_desc") -> list[StoredPost]:
        return [sp for sp, _ in self.search_hits(query, limit=limit, offset=offset, order=order)]

    def count_posts(self, query: PostQuery) -> int:
        self.ensure()
        with es_errors("count"):
            return int(self.es.count(index=self.alias, **kw(Q.count_body(query)))["count"])

    def volume(self, query: PostQuery, *, bucket_seconds: int, by: str = "label") -> list[Bucket]:
        self.ensure()
        body = Q.volume_body(query, bucket_seconds=bucket_seconds, by=by)
        with es_errors("volume"):
            resp = self.es.search(index=self.alias, **kw(body))
        out = []
        for b in resp["aggregations"]["over_time"]["buckets"]:
            start = datetime.fromtimestamp(b["key"] / 1000, UTC)
            for sub in b["by"]["buckets"]:
                out.append(Bucket(start=start, key=str(sub["key"]), count=int(sub["doc_count"])))
        return out

    def facet(self, query: PostQuery, field: str, *, size: int = 20) -> dict[str, int]:
        self.ensure()
        body = Q.facet_body(query, field, size=size)
        with es_errors("facet"):
            resp = self.es.search(index=self.alias, **kw(body))
        counts = {str(b["key"]): int(b["doc_count"]) for b in resp["aggregations"]["facet"]["buckets"] if b["key"] != ""}
        return dict(list(counts.items())[:size])

    def iter_posts(self, *, after: str = "", batch: int = 1000) -> Iterator[list[StoredPost]]:
        self.ensure()
        while True:
            with es_errors("iterate posts"):
                resp = self.es.search(index=self.alias, **kw(Q.iter_body(after=after, batch=batch)))
            hits = resp["hits"]["hits"]
            if not hits:
                return
            yield [stored_post_from_doc(h["_source"]) for h in hits]
            after = hits[-1]["_source"]["key"]
            if len(hits) < batch:
                return

    def correct_label(self, platform: str, post_id: str, label: str, *, by: str) -> None:
        """A human label that wins over the model's; "" removes the correction."""
        if label not in LABELS and label != "":
            raise ValueError(f"unknown label {label!r}")
        key = f"{platform}:{post_id}"
        self.ensure()
        with es_errors("correct label"):
            resp = self.es.search(index=self.alias, **kw(Q.ids_body([key], source=["model_label"])))
        hits = resp["hits"]["hits"]
        if not hits:
            raise KeyError(f"no post {key}")
        effective = label or hits[0]["_source"].get("model_label") or ""
        with es_errors("correct label"):
            self.es.update(index=hits[0]["_index"], id=key, refresh=self._refresh_param(), retry_on_conflict=3,
                           doc={"corrected_label": label, "corrected_by": by, "corrected_at": now_utc().isoformat(),
                                "label": effective})

    def list_corrections(self) -> list[dict[str, Any]]:
        """Every corrected post, oldest correction first: platform, post_id, text, model_label, label, by, at."""
        query = {"bool": {"filter": [{"exists": {"field": "corrected_label"}}],
                          "must_not": [{"term": {"corrected_label": ""}}]}}
        fields = ["platform", "post_id", "text", "model_label", "corrected_label", "corrected_by", "corrected_at"]
        hits = self.hits(self.alias, query, [{"corrected_at": "asc"}, {"key": "asc"}], 10_000_000, source=fields)
        return [{"platform": s["platform"], "post_id": s["post_id"], "text": s.get("text", ""),
                 "model_label": s.get("model_label") or "", "label": s["corrected_label"],
                 "by": s.get("corrected_by") or "", "at": datetime.fromisoformat(s["corrected_at"])}
                for s in (h["_source"] for h in hits)]

    # --- events
    def upsert_events(self, events: Sequence[Event]) -> None:
        from elasticsearch import helpers

        if not events:
            return
        self.ensure()
        actions = [{"_op_type": "index", "_index": self.idx(EVENTS), "_id": e.event_id,
                    "_source": record_doc(EVENTS, e)} for e in events]
        with es_errors("bulk events"):
            _, failures = helpers.bulk(self.es, actions, max_retries=self.max_retries, raise_on_error=False,
                                       initial_backoff=self.backoff,
                                       refresh=self._refresh_param() or False)
        if failures:
            raise StoreError(f"elasticsearch refused {len(failures)} events: {failures[:3]}")

    def merge_events(self, survivor: Event, absorbed: Sequence[str]) -> int:
        from elasticsearch import helpers

        ids = [a for a in dict.fromkeys(absorbed) if a and a != survivor.event_id]
        hits = self.hits(self.alias, {"terms": {"event_id": ids}}, [{"key": "asc"}], 10_000_000,
                         source=["analysis_json"]) if ids else []
        actions: list[dict[str, Any]] = [{"_op_type": "update", "_index": h["_index"], "_id": h["_id"],
                                          "doc": _moved(h["_source"], survivor.event_id)} for h in hits]
        actions.append({"_op_type": "index", "_index": self.idx(EVENTS), "_id": survivor.event_id,
                        "_source": record_doc(EVENTS, survivor)})
        actions += [{"_op_type": "delete", "_index": self.idx(EVENTS), "_id": a} for a in ids]
        with es_errors("merge events"):
            _, failures = helpers.bulk(self.es, actions, max_retries=self.max_retries, raise_on_error=False,
                                       initial_backoff=self.backoff, refresh=self._refresh_param() or False)
        failures = [f for f in failures if f.get("delete", {}).get("status") != 404]  # merged by another run
        if failures:
            raise StoreError(f"elasticsearch refused {len(failures)} event merge items: {failures[:3]}")
        return len(hits)

    def get_event(self, event_id: str) -> Event | None:
        src = self.get_source(EVENTS, event_id)
        return record_from_doc(Event, src) if src else None

    def list_events(self, *, since: datetime | None = None, limit: int = 20, order: str = "size_desc") -> list[Event]:
        sorts = {"size_desc": [{"size": "desc"}, {"last_seen": "desc"}, {"event_id": "asc"}],
                 "last_seen_desc": [{"last_seen": "desc"}, {"event_id": "asc"}]}
        if order not in sorts:
            raise ValueError(f"unknown order {order!r}")
        query = {"range": {"last_seen": {"gte": since.isoformat()}}} if since else {"match_all": {}}
        return [record_from_doc(Event, s) for s in self.sources(EVENTS, query, sorts[order], limit)]


def _moved(source: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The partial doc that puts a post in another event (its field and its stored analysis)."""
    doc: dict[str, Any] = {"event_id": event_id}
    if source.get("analysis_json"):
        analysis = json.loads(source["analysis_json"])
        analysis["event_id"] = event_id
        doc["analysis_json"] = json.dumps(analysis, ensure_ascii=False, sort_keys=True)
    return doc
