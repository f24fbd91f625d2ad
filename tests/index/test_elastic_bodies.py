"""The Elasticsearch request bodies, built by the pure functions, checked against the documented API shapes.

Encoded from the Elasticsearch 8 reference: index templates (PUT _index_template: index_patterns required,
priority, template.settings/mappings/aliases, _meta), field types, bool query (must/filter/should/must_not,
minimum_should_match), term-level and full-text queries, span_near/span_multi, sort and search_after,
highlighting (pre_tags/post_tags/fields/highlight_query/number_of_fragments/fragment_size), date_histogram
(calendar_interval XOR fixed_interval in units ms s m h d; the old `interval` is removed), terms (on keyword,
numeric or boolean fields, size up to search.max_buckets), and _bulk (action line + partial doc/upsert).
"""

from __future__ import annotations

import fnmatch
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch.helpers import expand_action

from yuqing.index import PostQuery
from yuqing.index.elastic import queries as Q
from yuqing.index.elastic.docs import post_doc, post_upsert_actions, record_doc
from yuqing.index.elastic.mappings import (
    POST_PROPERTIES,
    RECORD_INDICES,
    posts_alias,
    posts_index,
    posts_template,
    record_index_body,
)
from yuqing.records import Analysis, Event, Post

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
FIELD_TYPES = {"keyword", "text", "date", "float", "double", "long", "integer", "boolean", "object", "nested",
               "unsigned_long", "wildcard"}
BUILTIN_ANALYZERS = {"standard", "simple", "whitespace", "keyword"}
TEMPLATE_KEYS = {"index_patterns", "composed_of", "template", "version", "priority", "_meta", "data_stream",
                 "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
SEARCH_KEYS = {"query", "from", "size", "sort", "search_after", "aggs", "aggregations", "highlight",
               "track_total_hits", "_source", "post_filter", "min_score", "timeout"}
TERM_LEVEL = {"term", "terms", "range", "ids", "exists", "prefix"}
FULL_TEXT = {"match", "match_phrase"}
MULTI_TERM = {"prefix", "wildcard", "fuzzy", "range", "regexp"}
MAX_RESULT_WINDOW = 10_000
MAX_BUCKETS = 65_536


def field_type(props: dict[str, Any], field: str) -> str:
    spec: dict[str, Any] = {"properties": props}
    for part in field.split("."):
        spec = spec["properties"][part]
    return str(spec["type"])


# --------------------------------------------------------------------------- validators
def check_mappings(mappings: dict[str, Any], analyzers: set[str]) -> None:
    assert mappings["dynamic"] == "strict"
    for name, spec in mappings["properties"].items():
        assert spec["type"] in FIELD_TYPES, name
        if spec["type"] == "text":
            assert spec.get("analyzer", "standard") in analyzers | BUILTIN_ANALYZERS, name
            assert "doc_values" not in spec, f"{name}: text fields have no doc_values option"
        if spec["type"] in ("nested", "object") and "properties" in spec:
            check_mappings({"dynamic": "strict", "properties": spec["properties"]}, analyzers)
        if "index" in spec:
            assert isinstance(spec["index"], bool)


def check_query(q: dict[str, Any], props: dict[str, Any]) -> None:
    """A query clause is one documented query type with its documented parameters, on fields of the right type."""
    assert len(q) == 1, q
    kind, body = next(iter(q.items()))
    if kind in ("match_all", "match_none"):
        assert body == {}
    elif kind == "bool":
        assert set(body) <= {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}
        for key in ("must", "filter", "should", "must_not"):
            for clause in body.get(key, []):
                check_query(clause, props)
        if "minimum_should_match" in body:
            assert isinstance(body["minimum_should_match"], (int, str))
    elif kind == "ids":
        assert isinstance(body["values"], list) and all(isinstance(v, str) for v in body["values"])
    elif kind == "exists":
        assert body["field"] in props
    elif kind in TERM_LEVEL:
        (field, spec), = body.items()
        ftype = field_type(props, field)
        if kind == "prefix":
            assert ftype in ("text", "keyword") and isinstance(spec["value"], str)
        else:
            assert ftype != "text", f"{kind} on text field {field}"
        if kind == "terms":
            assert isinstance(spec, list)
        if kind == "range":
            assert spec and set(spec) <= {"gt", "gte", "lt", "lte", "format", "time_zone"}
            assert ftype in ("date", "float", "long", "integer")
    elif kind in FULL_TEXT:
        (field, spec), = body.items()
        assert field_type(props, field) == "text", f"{kind} on {field}"
        text = spec["query"] if isinstance(spec, dict) else spec
        assert isinstance(text, str) and text
        if isinstance(spec, dict) and "operator" in spec:
            assert spec["operator"] in ("or", "and")
    elif kind == "span_near":
        assert body["clauses"] and isinstance(body["slop"], int) and isinstance(body["in_order"], bool)
        for clause in body["clauses"]:
            (ckind, cbody), = clause.items()
            assert ckind in ("span_term", "span_multi")
            if ckind == "span_term":
                (field, _), = cbody.items()
            else:
                (mkind, mbody), = cbody["match"].items()
                assert mkind in MULTI_TERM
                (field, _), = mbody.items()
            assert field_type(props, field) == "text"
    else:
        raise AssertionError(f"undocumented or unexpected query type {kind}")


def check_sort(sort: list[Any], props: dict[str, Any]) -> None:
    for spec in sort:
        if spec == "_score":
            continue
        (field, opts), = spec.items()
        assert field_type(props, field) not in ("text",), f"sorting on text field {field}"
        assert opts["order"] in ("asc", "desc") if isinstance(opts, dict) else opts in ("asc", "desc")
        if isinstance(opts, dict) and "missing" in opts:
            assert opts["missing"] in ("_last", "_first")


def check_aggs(aggs: dict[str, Any], props: dict[str, Any]) -> None:
    for name, spec in aggs.items():
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        assert len(kinds) == 1, f"{name}: exactly one aggregation type"
        kind, body = kinds[0], spec[kinds[0]]
        if kind == "date_histogram":
            assert field_type(props, body["field"]) == "date"
            assert "interval" not in body, "the combined `interval` was removed in 8.0"
            assert ("fixed_interval" in body) != ("calendar_interval" in body)
            assert re.fullmatch(r"[1-9]\d*(ms|s|m|h|d)", body["fixed_interval"])
            assert isinstance(body.get("min_doc_count", 0), int) and body.get("min_doc_count", 0) >= 0
        elif kind == "terms":
            assert field_type(props, body["field"]) in ("keyword", "long", "integer", "float", "boolean")
            assert isinstance(body["size"], int) and 0 < body["size"] <= MAX_BUCKETS
            assert body.get("shard_size", body["size"]) >= body["size"]
            if "order" in body:
                (key, direction), = body["order"].items()
                assert key in ("_key", "_count") and direction in ("asc", "desc")
        elif kind == "sum":
            assert field_type(props, body["field"]) in ("long", "integer", "float")
        elif kind == "filter":
            check_query(body, props)
        elif kind == "nested":
            assert field_type(props, body["path"]) == "nested"
        elif kind == "top_hits":
            assert isinstance(body["size"], int) and body["size"] > 0
            check_sort(body["sort"], props)
            assert set(body["_source"]) == {"includes"}
        else:
            raise AssertionError(f"unexpected aggregation {kind}")
        check_aggs(spec.get("aggs", {}), props)


def check_search(body: dict[str, Any], props: dict[str, Any]) -> None:
    assert set(body) <= SEARCH_KEYS, set(body) - SEARCH_KEYS
    check_query(body["query"], props)
    if "sort" in body:
        check_sort(body["sort"], props)
    if "search_after" in body:
        assert "sort" in body and len(body["search_after"]) <= len(body["sort"])
    assert body.get("from", 0) + body.get("size", 10) <= MAX_RESULT_WINDOW
    if "aggs" in body:
        check_aggs(body["aggs"], props)
    if "highlight" in body:
        hl = body["highlight"]
        assert isinstance(hl["pre_tags"], list) and isinstance(hl["post_tags"], list)
        assert len(hl["pre_tags"]) == len(hl["post_tags"])
        check_query(hl["highlight_query"], props)
        for field, opts in hl["fields"].items():
            assert field_type(props, field) == "text"
            assert set(opts) <= {"fragment_size", "number_of_fragments", "type", "no_match_size"}
            assert all(isinstance(v, int) and v >= 0 for v in opts.values() if not isinstance(v, str))


# --------------------------------------------------------------------------- the bodies
def test_posts_template_follows_the_put_index_template_api() -> None:
    body = posts_template("yuqing", shards=3, replicas=1)
    assert set(body) <= TEMPLATE_KEYS and isinstance(body["_meta"], dict)
    assert body["index_patterns"] == ["yuqing-posts-*"]
    assert isinstance(body["priority"], int) and body["priority"] >= 0
    template = body["template"]
    assert set(template) <= {"settings", "mappings", "aliases", "lifecycle"}
    settings = template["settings"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (3, 1)
    analyzers = settings["analysis"]["analyzer"]
    for spec in analyzers.values():
        assert spec["type"] == "custom" and spec["tokenizer"] == "whitespace" and isinstance(spec["filter"], list)
    check_mappings(template["mappings"], set(analyzers))
    props = template["mappings"]["properties"]
    # the explicit mappings: keyword, date and float fields; segmented text under a whitespace analyzer
    assert props["platform"]["type"] == "keyword" and props["published_at"]["type"] == "date"
    assert props["influence"]["type"] == "float" and props["score"]["type"] == "float"
    assert analyzers[props["grams"]["analyzer"]]["tokenizer"] == "whitespace"
    assert analyzers[props["words"]["analyzer"]]["tokenizer"] == "whitespace"
    assert props["text"]["type"] == "text"  # the raw text beside the tokens
    assert template["aliases"] == {"yuqing-posts": {}}
    monthly = posts_index("yuqing", NOW)
    assert monthly == "yuqing-posts-2026.11" and fnmatch.fnmatchcase(monthly, body["index_patterns"][0])
    assert not fnmatch.fnmatchcase(posts_alias("yuqing"), body["index_patterns"][0])


@pytest.mark.parametrize("suffix", sorted(RECORD_INDICES))
def test_record_indices_have_explicit_mappings(suffix: str) -> None:
    body = record_index_body(suffix, replicas=1)
    assert set(body) == {"settings", "mappings"}
    assert body["settings"] == {"number_of_shards": 1, "number_of_replicas": 1}
    check_mappings(body["mappings"], set())


def check_doc(doc: dict[str, Any], props: dict[str, Any]) -> None:
    """A document a strict mapping accepts: every field mapped, every value of the mapped type."""
    for name, value in doc.items():
        assert name in props, f"unmapped field {name}"
        kind = props[name]["type"]
        for v in value if isinstance(value, list) else [value]:
            if v is None:
                continue
            if kind == "date":
                assert datetime.fromisoformat(v).tzinfo is not None, name
            elif kind in ("long", "integer"):
                assert isinstance(v, int) and not isinstance(v, bool), name
            elif kind == "float":
                assert isinstance(v, (int, float)) and not isinstance(v, bool), name
            elif kind == "boolean":
                assert isinstance(v, bool), name
            elif kind == "keyword":  # keyword also takes a number (coerced to its string; _source keeps it)
                assert isinstance(v, (str, int)) and not isinstance(v, bool), name
            elif kind == "text":
                assert isinstance(v, str), name


POST = Post("heimao", "17", "宽带断网三天", NOW, title="电信宽带故障", kind="complaint", author_verified=True,
            operators=("电信",), extra={"demands": ["退费"]}, crawled_at=NOW)
ANALYSIS = Analysis("negative", 0.05, touchpoints=("宽带",), operators=("电信",), province="广东", city="广州",
                    risk_flags=("escalation",), influence=3.5, keywords=("断网",), event_id="e1", simhash=2**64 - 1,
                    analyzed_at=NOW)


@pytest.mark.parametrize("analysis", [ANALYSIS, None])
def test_post_documents_fit_the_strict_mapping(analysis: Analysis | None) -> None:
    check_doc(post_doc(POST, analysis), POST_PROPERTIES)
    action = post_upsert_actions("yuqing-posts-2026.11", POST, analysis, corrected="positive", first_seen=NOW)
    check_doc(action["upsert"], POST_PROPERTIES)
    # the helper expands it into the documented bulk lines: {"update": {...}} then the partial doc and upsert
    meta, body = expand_action(action)
    assert meta == {"update": {"_index": "yuqing-posts-2026.11", "_id": "heimao:17", "retry_on_conflict": 3}}
    assert set(body) == {"doc", "upsert"}
    assert "first_seen" not in body["doc"] and "first_seen" in body["upsert"]  # a re-crawl keeps first_seen
    if analysis:
        assert body["doc"]["label"] == "positive"  # a correction wins over the model's label
        assert body["doc"]["grams"].split()[:3] == ["电信", "信宽", "宽带"]


RECORDS: list[tuple[str, Any, dict[str, Any]]] = [
    ("events", Event("e1", "宽带断网", NOW, NOW, keywords=("断网",), simhash=2**64 - 1), {}),
]


def test_only_posts_and_events_live_in_elasticsearch() -> None:
    """Everything else is the OpsDB's (SQL): no alerts, outbox, users … indices, no id counters."""
    assert set(RECORD_INDICES) == {"events"}


@pytest.mark.parametrize(("suffix", "record", "extra"), RECORDS, ids=[r[0] for r in RECORDS])
def test_record_documents_fit_their_strict_mapping(suffix: str, record: Any, extra: dict[str, Any]) -> None:
    check_doc(record_doc(suffix, record, **extra), RECORD_INDICES[suffix])


QUERIES = [
    PostQuery(),
    PostQuery(text="断网"),
    PostQuery(text="宽带 断网 iPhone 5G套 断"),
    PostQuery(text="？？"),
    PostQuery(since=NOW, until=NOW, platforms=("weibo",), operators=("电信",), touchpoints=("宽带",),
              provinces=("广东",), cities=("广州",), labels=("negative",), risk_flags=("churn",), kinds=("post",),
              event_id="e1", min_influence=1.0, keys=("weibo:1",)),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("order", sorted(Q.ORDERS))
def test_search_bodies(query: PostQuery, order: str) -> None:
    body = Q.search_body(query, limit=50, offset=100, order=order)
    check_search(body, POST_PROPERTIES)
    assert ("highlight" in body) == bool(query.text.strip())


@pytest.mark.parametrize("query", QUERIES)
def test_count_and_aggregation_bodies(query: PostQuery) -> None:
    assert set(Q.count_body(query)) == {"query"}
    check_query(Q.count_body(query)["query"], POST_PROPERTIES)
    for by in ("label", "platform", "operator", "touchpoint"):
        body = Q.volume_body(query, bucket_seconds=3600, by=by)
        check_search(body, POST_PROPERTIES)
        assert body["size"] == 0
        hist = body["aggs"]["over_time"]["date_histogram"]
        assert hist["fixed_interval"] == "3600s" and hist["time_zone"] == "UTC"
    for field in Q.FIELDS:
        check_search(Q.facet_body(query, field, size=20), POST_PROPERTIES)


def test_text_queries_are_phrases_of_grams() -> None:
    assert Q.text_clauses("断网") == [{"match_phrase": {"grams": "断网"}}]
    assert Q.text_clauses("携号转网") == [{"match_phrase": {"grams": "携号 号转 转网"}}]
    assert Q.text_clauses("iPhone") == [{"prefix": {"grams": {"value": "iphone"}}}]
    near = Q.text_clauses("5G套")[0]["span_near"]
    assert near["clauses"] == [{"span_term": {"grams": "5g"}},
                               {"span_multi": {"match": {"prefix": {"grams": {"value": "套"}}}}}]
    assert Q.text_clauses("？？") == [{"match_none": {}}]
    with pytest.raises(ValueError):
        Q.search_body(PostQuery(), limit=1, offset=0, order="sideways")
    with pytest.raises(ValueError):
        Q.volume_body(PostQuery(), bucket_seconds=0, by="label")
    with pytest.raises(ValueError):
        Q.facet_body(PostQuery(), "colour", size=5)


def test_iteration_pages_with_search_after() -> None:
    first = Q.iter_body(after="", batch=500)
    check_search(first, POST_PROPERTIES)
    assert "search_after" not in first and first["sort"] == [{"key": {"order": "asc"}}]
    later = Q.iter_body(after="weibo:99", batch=500)
    check_search(later, POST_PROPERTIES)
    assert later["search_after"] == ["weibo:99"]


def test_compose_file_runs_one_local_elasticsearch_8() -> None:
    import yaml

    from tests.conftest import ROOT

    compose = yaml.safe_load((ROOT / "deploy" / "elasticsearch" / "compose.yaml").read_text(encoding="utf-8"))
    (service,) = compose["services"].values()
    # major 8, like the pinned client
    assert re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:\$\{ES_VERSION:-8\.\d+\.\d+\}",
                        service["image"])
    env = dict(item.split("=", 1) for item in service["environment"])
    assert env["discovery.type"] == "single-node" and env["xpack.security.enabled"] == "false"
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])  # security off: loopback only
    volume = service["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
