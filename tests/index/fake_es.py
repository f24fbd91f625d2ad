"""A loopback stand-in for an Elasticsearch 8 node, for tests when no real one is configured.

It answers the REST calls the Python client makes for yuqing's post index (index templates, index
create/exists/delete, aliases, document index/get/update with a partial doc, _bulk, _search, _count, _refresh) with the documented
response shapes, enforces `dynamic: strict` mappings and field types, and — like the real server — only
shows documents to search after a refresh. Unknown calls and unsupported query parts answer 400.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import threading
import uuid
from typing import Any

from tests.index.fake_es_query import (
    Mapping,
    aggregate,
    filter_source,
    matches,
    sorted_hits,
    to_millis,
)


class EsError(Exception):
    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason

    def body(self) -> dict[str, Any]:
        err = {"type": self.kind, "reason": self.reason}
        return {"error": {"root_cause": [err], **err}, "status": self.status}


class Index:
    def __init__(self, name: str, mappings: dict[str, Any], settings: dict[str, Any]) -> None:
        self.name, self.raw_mappings, self.settings = name, mappings, settings
        self.mapping = Mapping(mappings, settings)
        self.docs: dict[str, dict[str, Any]] = {}  # id -> {"_source", "_seq_no"}
        self.visible: dict[str, dict[str, Any]] = {}
        self.seq = 0

    def add_properties(self, props: dict[str, Any]) -> None:
        """PUT _mapping: new fields are added; a field whose type changes is refused (400), as by the server."""
        current = self.raw_mappings.setdefault("properties", {})
        for name, spec in props.items():
            if name in current and current[name].get("type") != spec.get("type"):
                raise EsError(400, "illegal_argument_exception",
                              f"mapper [{name}] cannot be changed from type [{current[name].get('type')}] "
                              f"to [{spec.get('type')}]")
        current.update({k: v for k, v in props.items() if k not in current})
        self.mapping = Mapping(self.raw_mappings, self.settings)

    def check(self, doc: dict[str, Any], prefix: str = "") -> None:
        """Strict mappings and field types, as the real server checks them on write."""
        if not self.mapping.strict and not self.mapping.props:
            return
        for key, value in doc.items():
            field = prefix + key
            if field not in self.mapping.props:
                if self.mapping.strict:
                    raise EsError(400, "strict_dynamic_mapping_exception",
                                  f"[1:1] mapping set to strict, dynamic introduction of [{key}] within [_doc] "
                                  "is not allowed")
                continue
            kind = self.mapping.type_of(field)
            for v in value if isinstance(value, list) else [value]:
                self._check_value(field, kind, v)

    def _check_value(self, field: str, kind: str, v: Any) -> None:
        if v is None:
            return
        bad = False
        if kind == "date":
            try:
                to_millis(v)
            except (TypeError, ValueError):
                bad = True
        elif kind in ("long", "integer"):
            bad = isinstance(v, bool) or not isinstance(v, int)
        elif kind in ("float", "double"):
            bad = isinstance(v, bool) or not isinstance(v, (int, float))
        elif kind == "boolean":
            bad = not isinstance(v, bool)
        elif kind in ("keyword", "text"):
            bad = isinstance(v, (dict, list))
        if bad:
            raise EsError(400, "document_parsing_exception", f"failed to parse field [{field}] of type [{kind}]: {v!r}")

    def put(self, doc_id: str, source: dict[str, Any]) -> str:
        if len(doc_id.encode()) > 512:
            raise EsError(400, "illegal_argument_exception", f"id [{doc_id[:40]}...] is too long, must be no longer "
                          "than 512 bytes")
        self.check(source)
        result = "updated" if doc_id in self.docs else "created"
        self.seq += 1
        self.docs[doc_id] = {"_source": source, "_seq_no": self.seq}
        return result

    def delete(self, doc_id: str) -> str:
        if self.docs.pop(doc_id, None) is None:
            raise EsError(404, "not_found", f"[{doc_id}]: not found")
        self.seq += 1
        return "deleted"

    def refresh(self) -> None:
        self.visible = copy.deepcopy(self.docs)


class FakeElasticsearch:
    """The cluster state and the operations; `handle` maps one HTTP request to (status, body)."""

    def __init__(self) -> None:
        self.indices: dict[str, Index] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        self.item_faults: dict[str, list[int]] = {}  # doc id -> statuses its next bulk items answer (429, 400...)
        self.status_fault = 0  # when set, every request answers this status (e.g. 503)

    # --- indices
    def aliases(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name, idx in self.indices.items():
            for alias in idx.settings.get("_aliases", {}):
                out.setdefault(alias, set()).add(name)
        return out

    def resolve(self, expr: str, *, must_exist: bool = True) -> list[Index]:
        names: list[str] = []
        aliases = self.aliases()
        for part in expr.split(","):
            if "*" in part:
                names += [n for n in self.indices if fnmatch.fnmatchcase(n, part)]
            elif part in aliases:
                names += sorted(aliases[part])
            elif part in self.indices:
                names.append(part)
            elif must_exist:
                raise EsError(404, "index_not_found_exception", f"no such index [{part}]")
        return [self.indices[n] for n in dict.fromkeys(names)]

    def create_index(self, name: str, body: dict[str, Any]) -> Index:
        if name in self.indices or name in self.aliases():
            raise EsError(400, "resource_already_exists_exception", f"index [{name}] already exists")
        mappings, settings, aliases = body.get("mappings", {}), dict(body.get("settings", {})), body.get("aliases", {})
        for tpl in sorted(self.templates.values(), key=lambda t: -t.get("priority", 0)):
            if any(fnmatch.fnmatchcase(name, p) for p in tpl["index_patterns"]):
                t = tpl.get("template", {})
                mappings = mappings or t.get("mappings", {})
                settings = {**t.get("settings", {}), **settings}
                aliases = {**t.get("aliases", {}), **aliases}
                break
        settings["_aliases"] = aliases
        idx = self.indices[name] = Index(name, mappings, settings)
        return idx

    def index_for_write(self, name: str) -> Index:
        if name in self.indices:
            return self.indices[name]
        if name in self.aliases():
            raise EsError(400, "illegal_argument_exception", f"no write index is defined for alias [{name}]")
        return self.create_index(name, {})

    # --- documents
    def update(self, idx: Index, doc_id: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        cur = idx.docs.get(doc_id)
        if cur is None:
            if "upsert" in body:
                idx.put(doc_id, copy.deepcopy(body["upsert"]))
            elif body.get("doc_as_upsert") and "doc" in body:
                idx.put(doc_id, copy.deepcopy(body["doc"]))
            else:
                raise EsError(404, "document_missing_exception", f"[{doc_id}]: document missing")
            return "created", idx.docs[doc_id]["_source"]
        new = copy.deepcopy(cur["_source"])
        if "doc" not in body:  # the post index sends no scripts
            raise EsError(400, "action_request_validation_exception", "the stand-in updates with a partial doc only")
        _merge(new, body["doc"])
        op = "noop" if new == cur["_source"] else "index"
        if op == "noop":
            return "noop", cur["_source"]
        idx.put(doc_id, new)
        return "updated", new

    def bulk(self, lines: list[str]) -> dict[str, Any]:
        items, i = [], 0
        while i < len(lines):
            action, meta = _one(json.loads(lines[i]))
            body = json.loads(lines[i + 1]) if action != "delete" else {}
            i += 1 if action == "delete" else 2
            doc_id = str(meta.get("_id") or uuid.uuid4().hex)
            try:
                if self.item_faults.get(doc_id):
                    status = self.item_faults[doc_id].pop(0)
                    kind = "es_rejected_execution_exception" if status == 429 else "document_parsing_exception"
                    raise EsError(status, kind, f"injected fault for [{doc_id}]")
                idx = self.index_for_write(meta["_index"])
                if action == "index":
                    result = idx.put(doc_id, body)
                elif action == "update":
                    result, _ = self.update(idx, doc_id, body)
                elif action == "delete":
                    result = idx.delete(doc_id)
                else:
                    raise EsError(400, "illegal_argument_exception", f"unknown bulk action {action}")
                status = 201 if result == "created" else 200
                items.append({action: {"_index": idx.name, "_id": doc_id, "result": result, "status": status,
                                       "_seq_no": idx.seq, "_primary_term": 1}})
            except EsError as exc:
                items.append({action: {"_index": meta.get("_index"), "_id": doc_id, "status": exc.status,
                                       "error": {"type": exc.kind, "reason": exc.reason}}})
        return {"took": 1, "errors": any("error" in next(iter(it.values())) for it in items), "items": items}

    def search(self, expr: str, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        hits, mapping = [], None
        for idx in self.resolve(expr):
            mapping = mapping or idx.mapping
            for doc_id, doc in idx.visible.items():
                score = matches(idx.mapping, doc_id, doc["_source"], body.get("query", {"match_all": {}}))
                if score:
                    hits.append({"_index": idx.name, "_id": doc_id, "_score": score, "_source": doc["_source"]})
        if mapping is None:
            mapping = Mapping({}, {})
        total = len(hits)
        ranked = sorted_hits(mapping, hits, body.get("sort"), body.get("search_after"))
        start, size = int(body.get("from", params.get("from", 0))), int(body.get("size", params.get("size", 10)))
        source_spec = body.get("_source", _bool_param(params.get("_source")))
        page = []
        for h in ranked[start:start + size]:
            out = {k: v for k, v in h.items() if k != "_source"}
            src = filter_source(h["_source"], source_spec)
            if src is not None:
                out["_source"] = src
            if "highlight" in body:
                out["highlight"] = _highlight(h["_source"], body["highlight"])
            page.append(out)
        resp: dict[str, Any] = {"took": 1, "timed_out": False,
                                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                                "hits": {"max_score": None, "hits": page}}
        if body.get("track_total_hits", True) is not False:
            resp["hits"]["total"] = {"value": total, "relation": "eq"}
        if body.get("aggs") or body.get("aggregations"):
            resp["aggregations"] = aggregate(mapping, hits, body.get("aggs") or body["aggregations"])
        return resp


def _one(d: dict[str, Any]) -> tuple[str, Any]:
    return next(iter(d.items()))


def _bool_param(value: str | None) -> Any:
    return None if value is None else value == "true"


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = copy.deepcopy(v)


def _highlight(src: dict[str, Any], spec: dict[str, Any]) -> dict[str, list[str]]:
    """Wrap every query term found in the highlighted fields with the pre/post tags."""
    terms = [_one(c["match_phrase"])[1] for c in spec.get("highlight_query", {}).get("bool", {}).get("should", [])
             if "match_phrase" in c]
    pre, post = spec.get("pre_tags", ["<em>"])[0], spec.get("post_tags", ["</em>"])[0]
    out = {}
    for field in spec.get("fields", {}):
        text = src.get(field) or ""
        found = [t for t in dict.fromkeys(terms) if t and t in text]
        for t in found:
            text = text.replace(t, f"{pre}{t}{post}")
        if found:
            out[field] = [text]
    return out
