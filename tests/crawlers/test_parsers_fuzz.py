"""Every parser on random, mutated and deeply nested input: a ParseResult (bad items counted in `rejected`) or a
ParseError with a message, never another exception. Property-based (hypothesis), seeded from the golden fixtures."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.parsers import PARSERS, ParseError, ParseResult
from crawlers.parsers.detect import detect
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEYS = sorted(PARSERS)
URL = "https://example.invalid/page"
SEEDS = {p.name.removesuffix(".expected.json"): (json.loads(p.read_text(encoding="utf-8")),
                                                 p.with_name(p.name.removesuffix(".expected.json")).read_bytes())
         for p in sorted(FIXTURES.glob("*/*.expected.json"))}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.data_too_large])


def _parse(key: str, body: bytes, url: str = URL) -> ParseResult | None:
    """The parser's answer; None for a clear ParseError. Any other exception fails the test."""
    try:
        result = PARSERS[key](body, url, now=NOW)
    except ParseError as exc:
        assert str(exc).strip(), f"{key}: ParseError without a message"
        return None
    assert isinstance(result, ParseResult)
    for rejected in result.rejected:
        assert rejected.reason and rejected.stage
    for post in result.posts:
        assert post.post_id and post.text.strip() and post.published_at.tzinfo is not None
    return result


DEEP = [
    b"[" * 200_000 + b"]" * 200_000,
    b'{"a":' * 200_000 + b"1" + b"}" * 200_000,
    b'{"ok": 1, "data": {"cards": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    b'{"data": [' + b'{"object": ' * 50_000 + b"{}" + b"}" * 50_000 + b"]}",
    b"<div>" * 200_000 + b"x" + b"</div>" * 200_000,
    b"<html><body>" + b"<span>" * 100_000 + b"</body></html>",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("body", DEEP, ids=["list", "object", "weibo-cards", "zhihu-objects", "html", "open-html"])
def test_deeply_nested_input_is_a_clear_parse_error(key: str, body: bytes) -> None:
    _parse(key, body)


@pytest.mark.parametrize("key", KEYS)
@FUZZ
@given(body=st.binary(max_size=2000))
def test_random_bytes(key: str, body: bytes) -> None:
    _parse(key, body)


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["ok", "data", "cards", "card_group", "mblog", "text", "id", "mid", "created_at", "user",
                         "object", "type", "paging", "content", "title", "lists", "comments", "max_id", "list",
                         "result", "error", "msg", "code", "total", "next", "is_end", "author", "created_time"])
        | st.text(max_size=8), children, max_size=6),
    max_leaves=40)


@pytest.mark.parametrize("key", KEYS)
@FUZZ
@given(doc=_json)
def test_random_json_documents(key: str, doc: object) -> None:
    _parse(key, json.dumps(doc, ensure_ascii=False).encode("utf-8"))


_ODD = [None, 0, -1, 2**63, "", "x", "刚刚", [], [1], {}, {"a": 1}, True, 1.5]


def _mutate(value: object, rng: random.Random, rate: float) -> object:
    """A copy of a JSON value with some leaves (and some containers) replaced by values of other types."""
    if rng.random() < rate / 4:
        return rng.choice(_ODD)
    if isinstance(value, dict):
        return {k: _mutate(v, rng, rate) for k, v in value.items() if rng.random() > rate / 4}
    if isinstance(value, list):
        return [_mutate(v, rng, rate) for v in value]
    return rng.choice(_ODD) if rng.random() < rate else value


JSON_SEEDS = sorted(name for name, (_exp, body) in SEEDS.items() if body.lstrip()[:1] in (b"{", b"["))


@pytest.mark.parametrize("seed", JSON_SEEDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng_seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([0.02, 0.1, 0.3]))
def test_mutated_real_responses(seed: str, rng_seed: int, rate: float) -> None:
    expected, body = SEEDS[seed]
    doc = json.loads(body)
    mutated = _mutate(doc, random.Random(rng_seed), rate)
    _parse(expected["parser"], json.dumps(mutated, ensure_ascii=False).encode("utf-8"), expected["url"])


@pytest.mark.parametrize("seed", sorted(SEEDS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(0, 1), junk=st.binary(max_size=30))
def test_truncated_and_spliced_real_pages(seed: str, cut: float, junk: bytes) -> None:
    expected, body = SEEDS[seed]
    at = int(len(body) * cut)
    _parse(expected["parser"], body[:at] + junk, expected["url"])


@FUZZ
@given(body=st.binary(max_size=500), url=st.text(max_size=60))
def test_detect_names_a_parser_or_raises_parse_error(body: bytes, url: str) -> None:
    try:
        assert detect(body, url) in PARSERS
    except ParseError:
        pass


def test_yuqing_parse_on_deep_json_exits_1_with_a_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    deep = tmp_path / "deep.json"
    deep.write_bytes(DEEP[0])
    for argv in ([], ["--platform", "weibo", "--kind", "search"], ["--platform", "zhihu", "--kind", "answers"]):
        proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "parse", str(deep), *argv], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
        assert "cannot parse" in proc.stderr or "无法解析" in proc.stderr, proc.stderr[-500:]


def test_an_unreadable_item_is_rejected_and_the_rest_of_the_page_kept() -> None:
    expected, body = SEEDS["m_search_type1_today.json"]
    doc = json.loads(body)
    cards = [c for c in doc["data"]["cards"] if isinstance(c.get("mblog"), dict)]
    assert len(cards) >= 2
    cards[0]["mblog"]["user"] = ["not", "a", "user"]
    cards[0]["mblog"]["created_at"] = {"odd": True}
    cards[0]["mblog"]["text"] = 42
    result = _parse(expected["parser"], json.dumps(doc, ensure_ascii=False).encode("utf-8"), expected["url"])
    assert result is not None and len(result.rejected) >= 1
    assert len(result.posts) >= len(expected["posts"]) - 2  # the others are kept
