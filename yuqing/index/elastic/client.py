"""The Elasticsearch plumbing of the post index: error mapping, index setup, paging."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index.elastic.mappings import RECORD_INDICES, index_name, posts_alias, posts_index, posts_template
from yuqing.records import now_utc

log = logging.getLogger(__name__)

PAGE = 1000
_RENAMED = {"_source": "source", "from": "from_"}


def kw(body: dict[str, Any]) -> dict[str, Any]:
    """A REST request body as keyword arguments of the Python client (`_source` -> source, `from` -> from_)."""
    return {_RENAMED.get(k, k): v for k, v in body.items()}


@contextlib.contextmanager
def es_errors(what: str) -> Iterator[None]:
    """Map client errors: unreachable or overloaded -> StoreUnavailable, anything else -> StoreError."""
    from elasticsearch import ApiError, TransportError

    try:
        yield
    except ApiError as exc:
        if exc.meta.status in (429, 502, 503, 504):
            raise StoreUnavailable(f"elasticsearch {what}: HTTP {exc.meta.status} {exc.message}") from exc
        raise StoreError(f"elasticsearch {what}: HTTP {exc.meta.status} {exc.message}: {exc.body}") from exc
    except TransportError as exc:
        raise StoreUnavailable(f"elasticsearch unreachable ({what}): {exc}") from exc


class EsBase:
    """Connection, index names and the helpers every part of the Elasticsearch index uses."""

    def __init__(self, client: Any, *, prefix: str = "yuqing", shards: int = 1, replicas: int = 0,
                 refresh: bool = True, chunk_size: int = 500, max_retries: int = 3, backoff: float = 1.0) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", prefix):
            raise ValueError(f"es_prefix {prefix!r}: index names are lower-case letters, digits, '-', '_' or '.'")
        self.es = client
        self.prefix = prefix
        self.shards, self.replicas = shards, replicas
        self.refresh = refresh  # make every write visible to the next read (dashboards, alert runs, tests)
        self.chunk_size, self.max_retries, self.backoff = chunk_size, max_retries, backoff
        self._ready = False

    # --- names
    def idx(self, suffix: str) -> str:
        return index_name(self.prefix, suffix)

    @property
    def alias(self) -> str:
        return posts_alias(self.prefix)

    # --- lifecycle
    def close(self) -> None:
        self.es.close()

    def ping(self) -> None:
        with es_errors("ping"):
            self.es.info()
        self.ensure()

    def ensure(self) -> None:
        """Create the template and indices once, on first use (constructing a store never touches the network)."""
        if self._ready:
            return
        with es_errors("setup"):
            template = posts_template(self.prefix, shards=self.shards, replicas=self.replicas)
            meta = template.pop("_meta")
            self.es.indices.put_index_template(name=self.alias, meta=meta, **template)
            for suffix in RECORD_INDICES:
                self._create_index(self.idx(suffix), suffix)
            if not self.es.indices.exists_alias(name=self.alias):
                self._create_index(posts_index(self.prefix, now_utc()), None)
        self._ready = True

    def _create_index(self, name: str, suffix: str | None) -> None:
        from elasticsearch import BadRequestError

        from yuqing.index.elastic.mappings import record_index_body

        if self.es.indices.exists(index=name):
            if suffix:  # an index made by an older version: add the fields this version writes (strict mapping)
                self.es.indices.put_mapping(index=name, properties=RECORD_INDICES[suffix])
            return
        try:
            body = record_index_body(suffix, replicas=self.replicas) if suffix else {}
            self.es.indices.create(index=name, **body)
        except BadRequestError as exc:  # created meanwhile by another process
            if "resource_already_exists" not in str(exc):
                raise

    def drop(self) -> None:
        """Delete every index and the template of this prefix (tests)."""
        with es_errors("drop"):
            names = list(self.es.indices.get(index=f"{self.prefix}-*", expand_wildcards="all"))
            for name in names:
                if name.startswith(f"{self.prefix}-"):
                    self.es.indices.delete(index=name)
            self.es.options(ignore_status=404).indices.delete_index_template(name=self.alias)
        self._ready = False

    # --- helpers
    def _refresh_param(self) -> Any:
        return True if self.refresh else None

    def put(self, suffix: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.ensure()
        with es_errors(f"index {suffix}"):
            self.es.index(index=self.idx(suffix), id=doc_id, document=doc, refresh=self._refresh_param())

    def get_source(self, suffix: str, doc_id: str) -> dict[str, Any] | None:
        from elasticsearch import NotFoundError

        self.ensure()
        with es_errors(f"get {suffix}"):
            try:
                return dict(self.es.get(index=self.idx(suffix), id=doc_id)["_source"])
            except NotFoundError:
                return None

    def hits(self, index: str, query: dict[str, Any], sort: list[Any], limit: int,
             source: Any = True) -> list[dict[str, Any]]:
        """Up to `limit` hits in `sort` order, paged with search_after (sort must end with a unique field)."""
        self.ensure()
        out: list[dict[str, Any]] = []
        after: list[Any] | None = None
        while len(out) < limit:
            size = min(PAGE, limit - len(out))
            kwargs: dict[str, Any] = {"search_after": after} if after else {}
            with es_errors(f"search {index}"):
                resp = self.es.search(index=index, query=query, sort=sort, size=size, source=source,
                                      track_total_hits=False, **kwargs)
            page = resp["hits"]["hits"]
            out.extend(page)
            if len(page) < size:
                break
            after = page[-1]["sort"]
        return out

    def sources(self, suffix: str, query: dict[str, Any], sort: list[Any], limit: int) -> list[dict[str, Any]]:
        return [dict(h["_source"]) for h in self.hits(self.idx(suffix), query, sort, limit)]
