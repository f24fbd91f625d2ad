"""The Elasticsearch post index against the loopback stand-in: refused items are counted, 429s retried, outages
reported as StoreUnavailable, other refusals as StoreError, and search results carry highlights."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from tests.index.fake_es_http import serve
from yuqing.config import Settings
from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index import PostQuery
from yuqing.index.elastic import ElasticIndex
from yuqing.index.elastic.mappings import posts_index
from yuqing.records import Analysis, Post, now_utc
from yuqing.wiring import open_index

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def item(i: int, text: str = "电信宽带断网", days: int = 0) -> tuple[Post, Analysis]:
    return Post("weibo", str(i), text, NOW - timedelta(days=days)), Analysis("negative", 0.1)


@pytest.fixture
def es() -> Iterator[tuple[ElasticIndex, Any]]:
    with serve() as (url, state):
        store = ElasticIndex(Elasticsearch(url, request_timeout=10, max_retries=0), prefix="faults", backoff=0.01)
        yield store, state
        store.close()


def test_refused_items_are_counted_and_429_is_retried(es: tuple[ElasticIndex, Any]) -> None:
    store, state = es
    state.item_faults = {"weibo:2": [400], "weibo:3": [429, 429]}
    result = store.upsert_posts([item(i) for i in range(5)])
    assert (result.inserted, result.updated, result.failed) == (4, 0, 1)
    assert len(result.errors) == 1 and result.errors[0].startswith("weibo:2:")
    assert "document_parsing_exception" in result.errors[0]
    assert store.seen_ids("weibo", [str(i) for i in range(5)]) == {"0", "1", "3", "4"}


def test_outages_and_refusals_map_to_store_errors(es: tuple[ElasticIndex, Any]) -> None:
    store, state = es
    store.upsert_posts([item(1)])
    state.status_fault = 503
    with pytest.raises(StoreUnavailable):
        store.upsert_posts([item(2)])
    with pytest.raises(StoreUnavailable):
        store.count_posts(PostQuery())
    state.status_fault = 400
    with pytest.raises(StoreError) as refused:
        store.get_event("x")
    assert not isinstance(refused.value, StoreUnavailable)
    state.status_fault = 0
    assert store.count_posts(PostQuery()) == 1


def test_closed_port_is_unavailable_and_constructing_touches_nothing(free_port: int) -> None:
    settings = Settings().replace(store={"es_url": f"http://127.0.0.1:{free_port}", "es_prefix": "closed"})
    store = open_index(settings)  # no request yet
    assert isinstance(store, ElasticIndex) and store.prefix == "closed"
    for call in (store.ping, lambda: store.upsert_posts([item(1)]), lambda: store.get_post("weibo", "1"),
                 lambda: store.get_event("e1")):
        with pytest.raises(StoreUnavailable):
            call()
    store.close()


def test_search_hits_carry_highlights(es: tuple[ElasticIndex, Any]) -> None:
    store, _ = es
    store.upsert_posts([item(1, "家里电信宽带断网两天了"), item(2, "移动5G很快")])
    hits = store.search_hits(PostQuery(text="断网"))
    assert [(sp.post.post_id, fragments) for sp, fragments in hits] == [("1", ["家里电信宽带<em>断网</em>两天了"])]
    assert store.search_hits(PostQuery())[0][1] == []


def test_posts_go_to_monthly_indices_behind_the_alias(es: tuple[ElasticIndex, Any]) -> None:
    store, state = es
    store.upsert_posts([item(1), item(2, days=40), item(3, days=400)])
    names = {n for n in state.indices if n.startswith("faults-posts-")}
    expected = {"faults-posts-2025.10", "faults-posts-2026.10", "faults-posts-2026.11"}
    assert expected <= names and names - expected <= {posts_index("faults", now_utc())}  # + this month's, made at setup
    assert all("faults-posts" in state.indices[n].settings["_aliases"] for n in names)
    assert store.count_posts(PostQuery()) == 3
    # a re-crawl that dates the post into another month updates it where it is, never a second copy
    moved = Post("weibo", "1", "电信宽带断网", NOW - timedelta(days=35), likes=7)
    assert store.upsert_posts([(moved, None)]).updated == 1
    assert store.count_posts(PostQuery()) == 3 and store.get_post("weibo", "1").post.likes == 7
    assert "1" in {k.split(":")[1] for k in state.indices["faults-posts-2026.11"].docs}


def test_prefix_must_make_valid_index_names() -> None:
    client = Elasticsearch("http://127.0.0.1:9")
    for bad in ("Yuqing", "-x", "a b", "a*", ""):
        with pytest.raises(ValueError, match="es_prefix"):
            ElasticIndex(client, prefix=bad)
    assert ElasticIndex(client, prefix="yq_prod-1").idx("events") == "yq_prod-1-events"


def test_an_index_made_by_an_older_version_gets_the_new_fields(es: tuple[ElasticIndex, Any]) -> None:
    """The events index has a strict mapping: a field added in a later version is put into the existing index."""
    import copy

    from yuqing.index.elastic.mappings import record_index_body
    from yuqing.records import Event

    store, state = es
    old = copy.deepcopy(record_index_body("events"))
    del old["mappings"]["properties"]["city"]  # the events index as the version before `city` made it
    state.create_index(store.idx("events"), old)
    event = Event("ev1", "中国电信·郑州：宽带 断网", NOW, NOW, size=3, city="郑州")
    store.upsert_events([event])
    assert store.get_event("ev1") == event
    assert state.indices[store.idx("events")].raw_mappings["properties"]["city"] == {"type": "keyword"}
    state.indices[store.idx("events")].add_properties({"city": {"type": "keyword"}})  # adding again is a no-op
    with pytest.raises(Exception, match="cannot be changed"):
        state.indices[store.idx("events")].add_properties({"city": {"type": "text"}})
