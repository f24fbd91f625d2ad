"""Query DSL, sorting and aggregations of the loopback stand-in for Elasticsearch (tests only).

Implements what the documented API says for the subset the post index uses: bool/filter/must/should/must_not,
term, terms, range, ids, exists, prefix, match, match_phrase, span_near/span_term/span_multi, match_all/none;
sort with search_after; date_histogram and terms aggregations.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

_STANDARD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[0-9a-z]+")
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class QueryError(Exception):
    """A request the real server would refuse with 400 (or one this stand-in does not implement)."""


def to_millis(value: Any) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


class Mapping:
    """Field types and analyzers of one index."""

    def __init__(self, mappings: dict[str, Any], settings: dict[str, Any]) -> None:
        self.props: dict[str, Any] = {}
        self._flatten(mappings.get("properties", {}), "")
        self.strict = mappings.get("dynamic") == "strict"
        self.analyzers = settings.get("analysis", {}).get("analyzer", {})

    def _flatten(self, props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            self.props[prefix + name] = spec
            if "properties" in spec:
                self._flatten(spec["properties"], f"{prefix}{name}.")

    def type_of(self, field: str) -> str:
        return str(self.props.get(field, {}).get("type", "keyword"))

    def analyze(self, field: str, text: str) -> list[str]:
        spec = self.props.get(field, {})
        name = spec.get("analyzer", "standard")
        if name in self.analyzers:
            custom = self.analyzers[name]
            if custom.get("tokenizer") != "whitespace":
                raise QueryError(f"analyzer {name} not supported by the stand-in")
            tokens = text.split()
            return [t.lower() for t in tokens] if "lowercase" in custom.get("filter", []) else tokens
        if name == "whitespace":
            return text.split()
        return _STANDARD.findall(text.lower())

    def normalize(self, field: str, value: Any) -> Any:
        """A value as compared and sorted: dates in epoch millis, numbers as floats."""
        kind = self.type_of(field)
        if value is None:
            return None
        if kind == "date":
            return to_millis(value)
        if kind in ("long", "integer", "float", "double", "unsigned_long"):
            return float(value)
        return value


def values(source: dict[str, Any], field: str) -> list[Any]:
    value: Any = source
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict) and field in value:
            value = value[field]
            break
        else:
            return []
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v is not None]


def _one(spec: dict[str, Any]) -> tuple[str, Any]:
    if len(spec) != 1:
        raise QueryError(f"expected one field in {spec}")
    return next(iter(spec.items()))


def _phrase_at(tokens: list[str], phrase: list[str], last_prefix: bool) -> bool:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if tokens[i:i + n - 1] == phrase[:-1] and (
                tokens[i + n - 1].startswith(phrase[-1]) if last_prefix else tokens[i + n - 1] == phrase[-1]):
            return True
    return False


def matches(m: Mapping, doc_id: str, src: dict[str, Any], query: dict[str, Any]) -> float:
    """0.0 when `query` does not match the document, else a positive score."""
    kind, body = _one(query)
    if kind == "match_all":
        return 1.0
    if kind == "match_none":
        return 0.0
    if kind == "bool":
        return _bool(m, doc_id, src, body)
    if kind == "ids":
        return 1.0 if doc_id in body["values"] else 0.0
    if kind == "exists":
        return 1.0 if values(src, body["field"]) else 0.0
    if kind in ("term", "terms", "range", "prefix"):
        field, spec = _one(body)
        vals = values(src, field)
        if kind == "term":
            want = spec["value"] if isinstance(spec, dict) else spec
            return 1.0 if any(m.normalize(field, v) == m.normalize(field, want) for v in vals) else 0.0
        if kind == "terms":
            wanted = {m.normalize(field, w) for w in spec}
            return 1.0 if any(m.normalize(field, v) in wanted for v in vals) else 0.0
        if kind == "prefix":
            want = spec["value"] if isinstance(spec, dict) else spec
            if m.type_of(field) == "text":
                return 1.0 if any(t.startswith(want) for v in vals for t in m.analyze(field, v)) else 0.0
            return 1.0 if any(str(v).startswith(want) for v in vals) else 0.0
        return 1.0 if any(_in_range(m.normalize(field, v), {k: m.normalize(field, x) for k, x in spec.items()
                                                            if k in ("gt", "gte", "lt", "lte")}) for v in vals) else 0.0
    if kind == "match_phrase":
        field, spec = _one(body)
        phrase = m.analyze(field, spec["query"] if isinstance(spec, dict) else spec)
        if not phrase:
            return 0.0
        return 1.0 if any(_phrase_at(m.analyze(field, v), phrase, False) for v in values(src, field)) else 0.0
    if kind == "match":
        field, spec = _one(body)
        text = spec["query"] if isinstance(spec, dict) else spec
        operator = spec.get("operator", "or") if isinstance(spec, dict) else "or"
        wanted = m.analyze(field, text)
        have = {t for v in values(src, field) for t in m.analyze(field, v)}
        hits = sum(1 for t in wanted if t in have)
        ok = hits == len(wanted) if operator == "and" else hits > 0
        return float(hits) if ok and wanted else 0.0
    if kind == "span_near":
        if body.get("slop", 0) != 0 or not body.get("in_order", False):
            raise QueryError("the stand-in supports span_near with slop 0 in order only")
        phrase, field, prefix = [], "", False
        for i, clause in enumerate(body["clauses"]):
            ckind, cbody = _one(clause)
            if ckind == "span_term":
                field, term = _one(cbody)
                phrase.append(term["value"] if isinstance(term, dict) else term)
            elif ckind == "span_multi" and i == len(body["clauses"]) - 1:
                field, spec = _one(cbody["match"]["prefix"])
                phrase.append(spec["value"] if isinstance(spec, dict) else spec)
                prefix = True
            else:
                raise QueryError(f"span clause {ckind} not supported by the stand-in")
        return 1.0 if any(_phrase_at(m.analyze(field, v), phrase, prefix) for v in values(src, field)) else 0.0
    raise QueryError(f"query type {kind} not supported by the stand-in")


def _in_range(v: Any, bounds: dict[str, Any]) -> bool:
    return all((op == "gt" and v > b) or (op == "gte" and v >= b) or (op == "lt" and v < b) or (op == "lte" and v <= b)
               for op, b in bounds.items())


def _clauses(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key, [])
    return value if isinstance(value, list) else [value]


def _bool(m: Mapping, doc_id: str, src: dict[str, Any], body: dict[str, Any]) -> float:
    score = 0.0
    for q in _clauses(body, "must"):
        s = matches(m, doc_id, src, q)
        if not s:
            return 0.0
        score += s
    for q in _clauses(body, "filter"):
        if not matches(m, doc_id, src, q):
            return 0.0
    for q in _clauses(body, "must_not"):
        if matches(m, doc_id, src, q):
            return 0.0
    should = [matches(m, doc_id, src, q) for q in _clauses(body, "should")]
    required = body.get("minimum_should_match", 0 if (body.get("must") or body.get("filter")) else 1)
    if should and sum(1 for s in should if s) < int(required):
        return 0.0
    return score + sum(should) + 1.0


# --------------------------------------------------------------------------- sorting
def sort_specs(sort: Any) -> list[tuple[str, str, str]]:
    """(field, order, missing) for each sort clause."""
    out = []
    for spec in sort if isinstance(sort, list) else [sort]:
        if isinstance(spec, str):
            out.append((spec, "desc" if spec == "_score" else "asc", "_last"))
            continue
        field, opts = _one(spec)
        if isinstance(opts, str):
            opts = {"order": opts}
        out.append((field, opts.get("order", "desc" if field == "_score" else "asc"), opts.get("missing", "_last")))
    return out


def sort_values(m: Mapping, hit: dict[str, Any], specs: list[tuple[str, str, str]]) -> list[Any]:
    out = []
    for field, order, _ in specs:
        if field == "_score":
            out.append(hit["_score"])
            continue
        if m.type_of(field) == "text":
            raise QueryError(f"cannot sort on text field [{field}]")
        vals = [m.normalize(field, v) for v in values(hit["_source"], field)]
        out.append((min(vals) if order == "asc" else max(vals)) if vals else None)
    return out


def compare(a: list[Any], b: list[Any], specs: list[tuple[str, str, str]]) -> int:
    for x, y, (_, order, missing) in zip(a, b, specs, strict=True):
        if x == y:
            continue
        if x is None or y is None:
            last = missing == "_last"
            return (1 if last else -1) if x is None else (-1 if last else 1)
        c = -1 if x < y else 1
        return c if order == "asc" else -c
    return 0


def sorted_hits(m: Mapping, hits: list[dict[str, Any]], sort: Any,
                search_after: list[Any] | None) -> list[dict[str, Any]]:
    specs = sort_specs(sort) if sort else [("_score", "desc", "_last")]
    for h in hits:
        h["sort"] = sort_values(m, h, specs)
    hits.sort(key=functools.cmp_to_key(lambda a, b: compare(a["sort"], b["sort"], specs)))
    if search_after is not None:
        after = [m.normalize(f, v) if f != "_score" and v is not None else v
                 for (f, _, _), v in zip(specs, search_after, strict=True)]
        hits = [h for h in hits if compare(h["sort"], after, specs) > 0]
    if not sort:
        for h in hits:
            del h["sort"]
    return hits


def filter_source(src: dict[str, Any], spec: Any) -> dict[str, Any] | None:
    if spec is None or spec is True:
        return src
    if spec is False:
        return None
    includes = spec if isinstance(spec, list) else (spec.get("includes") or spec.get("include") or [])
    return {k: v for k, v in src.items() if k in includes}


# --------------------------------------------------------------------------- aggregations
def aggregate(m: Mapping, hits: list[dict[str, Any]], aggs: dict[str, Any]) -> dict[str, Any]:
    return {name: _agg(m, hits, spec) for name, spec in aggs.items()}


def _agg(m: Mapping, hits: list[dict[str, Any]], spec: dict[str, Any]) -> dict[str, Any]:
    sub = spec.get("aggs") or spec.get("aggregations") or {}
    kinds = [k for k in spec if k not in ("aggs", "aggregations")]
    if len(kinds) != 1:
        raise QueryError(f"one aggregation type expected, got {kinds}")
    kind, body = kinds[0], spec[kinds[0]]
    if kind == "terms":
        groups: dict[Any, list[dict[str, Any]]] = {}
        for h in hits:
            vals = list(dict.fromkeys(values(h["_source"], body["field"])))
            if not vals and "missing" in body:
                vals = [body["missing"]]
            for v in vals:
                groups.setdefault(v, []).append(h)
        order = body.get("order", {"_count": "desc"})
        key, direction = _one(order) if isinstance(order, dict) else ("_count", "desc")
        if key == "_key":
            items = sorted(groups.items(), key=lambda kv: kv[0], reverse=direction == "desc")
        else:
            items = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        size = int(body.get("size", 10))
        return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": sum(len(g) for _, g in items[size:]),
                "buckets": [{"key": k, "doc_count": len(g), **aggregate(m, g, sub)} for k, g in items[:size]]}
    if kind == "date_histogram":
        interval = body.get("fixed_interval")
        if not interval:
            raise QueryError("the stand-in supports fixed_interval only")
        num, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval).groups()  # type: ignore[union-attr]
        step = int(num) * _UNITS[unit]
        if body.get("time_zone", "UTC") not in ("UTC", "+00:00", "Z"):
            raise QueryError("the stand-in supports UTC buckets only")
        groups = {}
        for h in hits:
            for v in values(h["_source"], body["field"]):
                ms = to_millis(v)
                groups.setdefault(ms - ms % step, []).append(h)
        min_count = int(body.get("min_doc_count", 0))
        keys = sorted(groups)
        if min_count == 0 and keys:
            keys = list(range(keys[0], keys[-1] + step, step))
        return {"buckets": [{"key": k, "key_as_string": datetime.fromtimestamp(k / 1000, UTC).isoformat(),
                             "doc_count": len(groups.get(k, [])), **aggregate(m, groups.get(k, []), sub)}
                            for k in keys if len(groups.get(k, [])) >= min_count]}
    raise QueryError(f"aggregation {kind} not supported by the stand-in")
