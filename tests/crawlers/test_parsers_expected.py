"""Every fixture in tests/fixtures/<platform>/ with a `.expected.json` beside it parses to exactly that.

The expected files name the parser, url and clock. To add one: write the fixture, run
`python -m tests.crawlers.test_parsers_expected FIXTURE KEY URL > FIXTURE.expected.json`, then review it by hand.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from crawlers.parsers import PARSERS
from crawlers.parsers.export import result_dict
from tests.conftest import FIXTURES

NOW = "2026-11-24T02:00:00+00:00"
EXPECTED = sorted(FIXTURES.glob("*/*.expected.json"))


def _output(fixture: Path, key: str, url: str, now: str) -> dict:
    result = PARSERS[key](fixture.read_bytes(), url, now=datetime.fromisoformat(now))
    return {"parser": key, "url": url, "now": now, **result_dict(result)}


def test_there_are_fixtures_for_every_platform() -> None:
    assert {p.parent.name for p in EXPECTED} >= {"weibo", "zhihu", "zhidao", "heimao"}


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_parses_to_expected(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    fixture = expected_path.with_name(expected_path.name.removesuffix(".expected.json"))
    assert _output(fixture, expected["parser"], expected["url"], expected["now"]) == expected


if __name__ == "__main__":
    path, parser_key, page_url = sys.argv[1:4]
    print(json.dumps(_output(Path(path), parser_key, page_url, NOW), ensure_ascii=False, indent=1))


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_detect_picks_the_same_parser_from_the_bytes_and_from_the_url(expected_path: Path) -> None:
    from crawlers.parsers.detect import detect

    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    body = expected_path.with_name(expected_path.name.removesuffix(".expected.json")).read_bytes()
    assert detect(body, "") == expected["parser"]
    if expected["url"].startswith("https://") and "example.invalid" not in expected["url"]:
        assert detect(b"", expected["url"]) == expected["parser"]
