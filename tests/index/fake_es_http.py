"""The HTTP face of the Elasticsearch stand-in: routes REST calls to FakeElasticsearch on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.index.fake_es import EsError, FakeElasticsearch
from tests.index.fake_es_query import QueryError

INFO = {"name": "fake", "cluster_name": "yuqing-test", "version": {"number": "8.15.0", "build_flavor": "default",
                                                                 "lucene_version": "9.11.1"},
        "tagline": "You Know, for Search"}


def route(es: FakeElasticsearch, method: str, path: str, params: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """One REST call -> (status, JSON body or None for HEAD)."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    body: Any = json.loads(raw) if raw and parts[-1:] != ["_bulk"] else {}
    refresh = params.get("refresh") in ("true", "wait_for", "")
    with es.lock:
        es.requests.append((method, path))
        if es.status_fault:
            raise EsError(es.status_fault, "injected_fault", f"injected HTTP {es.status_fault}")
        if not parts:
            return 200, INFO
        if parts[0] == "_index_template":
            if method == "PUT":
                es.templates[parts[1]] = body
                return 200, {"acknowledged": True}
            if method == "DELETE":
                if es.templates.pop(parts[1], None) is None:
                    raise EsError(404, "index_template_missing_exception", f"index_template [{parts[1]}] missing")
                return 200, {"acknowledged": True}
        if parts[0] == "_alias" and method == "HEAD":
            return (200 if parts[1] in es.aliases() else 404), None
        if parts[-1] == "_bulk":
            result = es.bulk([line for line in raw.decode().splitlines() if line.strip()])
            if refresh:
                for idx in es.indices.values():
                    idx.refresh()
            return 200, result
        if len(parts) == 1:
            return _index_call(es, method, parts[0], body)
        expr, op = parts[0], parts[1]
        if op == "_refresh":
            for idx in es.resolve(expr):
                idx.refresh()
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if op == "_mapping" and method == "PUT":
            for idx in es.resolve(expr):
                idx.add_properties(body.get("properties", {}))
            return 200, {"acknowledged": True}
        if op == "_search":
            return 200, es.search(expr, body, params)
        if op == "_count":
            resp = es.search(expr, {"query": body.get("query", {"match_all": {}}), "size": 0}, {})
            return 200, {"count": resp["hits"]["total"]["value"], "_shards": resp["_shards"]}
        return _doc_call(es, method, expr, op, parts[2] if len(parts) > 2 else "", params, body, refresh)
    raise EsError(400, "illegal_argument_exception", f"no handler for {method} {path}")


def _index_call(es: FakeElasticsearch, method: str, name: str, body: dict[str, Any]) -> tuple[int, Any]:
    if method == "HEAD":
        return (200 if name in es.indices else 404), None
    if method == "PUT":
        es.create_index(name, body)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
    if method == "GET":
        return 200, {idx.name: {"aliases": idx.settings.get("_aliases", {}), "mappings": idx.raw_mappings}
                     for idx in es.resolve(name)}
    if method == "DELETE":
        for idx in es.resolve(name):
            if "*" in name:
                raise EsError(400, "illegal_argument_exception", "Wildcard expressions or all indices are not allowed")
            del es.indices[idx.name]
        return 200, {"acknowledged": True}
    raise EsError(405, "method_not_allowed", f"{method} /{name}")


def _doc_call(es: FakeElasticsearch, method: str, index: str, op: str, doc_id: str, params: dict[str, str],
              body: dict[str, Any], refresh: bool) -> tuple[int, Any]:
    if op == "_doc" and method == "GET":
        idx = es.resolve(index)[0]
        doc = idx.docs.get(doc_id)
        if doc is None:
            return 404, {"_index": index, "_id": doc_id, "found": False}
        return 200, {"_index": idx.name, "_id": doc_id, "_version": 1, "_seq_no": doc["_seq_no"],
                     "_primary_term": 1, "found": True, "_source": doc["_source"]}
    idx = es.index_for_write(index)
    if op == "_doc" and method in ("PUT", "POST"):
        result = idx.put(doc_id, body)
        if refresh:
            idx.refresh()
        return (201 if result == "created" else 200), {"_index": idx.name, "_id": doc_id, "_version": 1,
                                                       "result": result, "_seq_no": idx.seq, "_primary_term": 1}
    if op == "_update" and method == "POST":
        result, _ = es.update(idx, doc_id, body)
        if refresh:
            idx.refresh()
        return 200, {"_index": idx.name, "_id": doc_id, "_version": 1, "result": result}
    raise EsError(400, "illegal_argument_exception", f"no handler for {method} /{index}/{op}")


class _Handler(BaseHTTPRequestHandler):
    es: FakeElasticsearch

    def _serve(self) -> None:
        url = urlparse(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, body = route(self.es, self.command, url.path, params, raw)
        except EsError as exc:
            status, body = exc.status, exc.body()
        except QueryError as exc:
            status, body = 400, EsError(400, "parsing_exception", str(exc)).body()
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None


@contextlib.contextmanager
def serve(port: int = 0, es: FakeElasticsearch | None = None) -> Iterator[tuple[str, FakeElasticsearch]]:
    """Run the stand-in on 127.0.0.1:`port` (0 = any free port); yields (url, state)."""
    state = es or FakeElasticsearch()
    handler = type("Handler", (_Handler,), {"es": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
