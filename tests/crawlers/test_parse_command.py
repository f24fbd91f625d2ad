"""`yuqing parse FILE` as a subprocess on each shared sample, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.crawlers.test_parsers_samples import EMPTY, _files, _not_source_files, _url

NOW = "2026-11-24T02:00:00+00:00"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", "parse", *args, "--now", NOW], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _run_sample(path: Path) -> subprocess.CompletedProcess[str]:
    url = _url(path)
    return run(str(path), *(["--url", url] if not url.startswith("file:") else []))


@pytest.fixture(scope="module")
def outputs() -> dict[Path, subprocess.CompletedProcess[str]]:
    """All samples parsed by subprocesses, four at a time (each is a separate `yuqing parse`)."""
    files = _files()
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(files, pool.map(_run_sample, files), strict=True))


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_parse_prints_posts(path: Path, outputs: dict[Path, subprocess.CompletedProcess[str]]) -> None:
    proc = outputs[path]
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    if path.name in EMPTY:
        assert lines == []
    else:
        assert lines, proc.stderr
    for post in lines:
        assert post["text"].strip() and post["post_id"]
        assert datetime.fromisoformat(post["published_at"]).tzinfo is not None
    assert " posts, " in proc.stderr


@pytest.mark.parametrize("path", list({p.parent.parent.name: p for p in _not_source_files()}.values()),
                         ids=lambda p: p.name)
def test_a_platform_we_do_not_crawl_exits_1_naming_it(path: Path) -> None:
    proc = run(str(path))
    assert proc.returncode == 1 and proc.stdout == ""
    assert "is not a yuqing source" in proc.stderr


def test_unparseable_page_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.json"
    bad.write_text('{"ok": 1, "data": {"cards": [', encoding="utf-8")
    proc = run(str(bad), "--platform", "weibo", "--kind", "search")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "cannot parse" in proc.stderr and "truncated JSON" in proc.stderr


def test_unknown_page_and_wrong_platform(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body>hello</body></html>", encoding="utf-8")
    proc = run(str(page))
    assert proc.returncode == 1 and "cannot tell which platform" in proc.stderr
    sample = ROOT / "tests" / "fixtures" / "heimao" / "list_api_today.json"
    proc = run(str(sample), "--platform", "weibo")
    assert proc.returncode == 2 and "looks like heimao.list" in proc.stderr


def test_blocked_page_exit_code(tmp_path: Path) -> None:
    page = tmp_path / "login.json"
    page.write_text('{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome"}', encoding="utf-8")
    proc = run(str(page), "--platform", "weibo", "--kind", "search")
    assert proc.returncode == 3 and "blocked" in proc.stderr


NEW = sorted(p for d in ("tieba", "bilibili", "hotlist") for p in (ROOT / "tests" / "fixtures" / d).glob("*")
             if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", NEW, ids=lambda p: p.name)
def test_saved_pages_of_the_new_sources_parse_without_their_url(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    code = main(["parse", str(path), "--now", NOW])
    out, err = capsys.readouterr()
    if path.name == "comment_fragment_today.html":  # a fragment names neither thread nor floor
        assert code == 1 and "pass its url" in err
        url = "https://tieba.baidu.com/p/comment?tid=9288123456&pid=151390013001&pn=2"
        assert main(["parse", str(path), "--now", NOW, "--url", url]) == 0
        out = capsys.readouterr().out
    else:
        assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    if path.name == "nav_today.json":  # the WBI keys: no posts
        assert lines == []
        return
    assert lines and all(line.get("post_id") or line.get("board") for line in lines)
