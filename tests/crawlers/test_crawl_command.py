"""`yuqing crawl` over loopback against the demo site: a broken analyzer makes the run unhealthy (exit 1) and loses
no post; --max-pages below 1 is refused; Scrapy's chatter stays out of the output unless -v is given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.scenario import load_scenario
from demo.server import DemoSite
from tests.conftest import Both
from yuqing.config import load_settings
from yuqing.wiring import open_stores

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def write_config(tmp_path: Path, url: str, model: str) -> Path:
    path = tmp_path / f"{model}.toml"
    path.write_text("\n".join([
        "[store]", f'path = "{tmp_path / "yuqing.db"}"', f'spool_dir = "{tmp_path / "spool"}"',
        "[crawl]", f'jobstore = "{tmp_path / "var" / "s.db"}"', "autothrottle = false", "download_delay = 0",
        f'heimao_base_url = "{url}"', "[sentiment]", f'model = "{model}"']) + "\n", encoding="utf-8")
    return path


def yuqing(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    return subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(config), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_a_crawl_whose_analyzer_cannot_load_is_unhealthy_and_stores_its_posts(tmp_path: Path) -> None:
    with DemoSite(load_scenario(), start=START) as site:
        broken = write_config(tmp_path, site.base_urls["heimao"], "nosuch")
        run = yuqing(broken, "crawl", "heimao")
        assert run.returncode == 1, run.stderr[-3000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["healthy"] is False and "nosuch" in result["reason"]
        assert result["posts_found"] > 0
        assert result["posts_stored"] == result["posts_unanalyzed"] == result["posts_found"] - result["rejected"]
        assert result["errors"] == {"analyzer_unavailable": 1}
        assert "sentiment analyzer unavailable" in run.stderr and "DEBUG" not in run.stderr, run.stderr[-3000:]
        sources = yuqing(broken, "sources", "--json")
        health = json.loads(sources.stdout.strip().splitlines()[-1])
        assert health["source"] == "heimao" and not health["healthy"] and "nosuch" in health["reason"]

        fixed = yuqing(write_config(tmp_path, site.base_urls["heimao"], "default"), "crawl", "heimao")
        assert fixed.returncode == 0, fixed.stderr[-3000:]
        again = json.loads(fixed.stdout.strip().splitlines()[-1])
        assert again["healthy"] and again["posts_new"] == 0
        assert again["posts_updated"] == again["posts_stored"] == result["posts_stored"]
        store = Both(*open_stores(load_settings(broken, env={})))
        try:
            stored = [sp for batch in store.iter_posts() for sp in batch]
        finally:
            store.close()
        assert len(stored) == result["posts_stored"] and all(sp.analysis is not None for sp in stored)


def test_crawl_output_is_short_unless_verbose(tmp_path: Path) -> None:
    with DemoSite(load_scenario(), start=START) as site:
        config = write_config(tmp_path, site.base_urls["heimao"], "default")
        quiet = yuqing(config, "crawl", "heimao", "--max-pages", "1")
        assert quiet.returncode == 0, quiet.stderr[-3000:]
        assert " DEBUG " not in quiet.stderr and " INFO scrapy" not in quiet.stderr, quiet.stderr[-3000:]
        assert json.loads(quiet.stdout.strip().splitlines()[-1])["source"] == "heimao"
        loud = yuqing(config, "-v", "crawl", "heimao", "--max-pages", "1")
        assert loud.returncode == 0 and " DEBUG scrapy" in loud.stderr
        assert json.loads(loud.stdout.strip().splitlines()[-1])["source"] == "heimao"
        after = yuqing(config, "crawl", "heimao", "--max-pages", "1", "-v")
        assert after.returncode == 0 and " DEBUG scrapy" in after.stderr


@pytest.mark.parametrize("pages", ["0", "-1", "two"])
def test_max_pages_below_one_is_refused(tmp_path: Path, pages: str) -> None:
    from yuqing.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["crawl", "heimao", "--max-pages", pages])
    assert exit_.value.code == 2
    from crawlers.runner import main

    with pytest.raises(SystemExit):
        main(["heimao", "--max-pages", pages])


def test_max_pages_error_message(capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["crawl", "heimao", "--max-pages", "0"])
    assert "argument --max-pages: must be at least 1, got 0" in capsys.readouterr().err


def test_every_source_can_be_crawled_by_name_and_others_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import build_parser
    from yuqing.vocab import PLATFORMS

    for source in PLATFORMS:
        assert build_parser().parse_args(["crawl", source]).source == source
    with pytest.raises(SystemExit):
        build_parser().parse_args(["crawl", "douyin"])
    assert "invalid choice: 'douyin'" in capsys.readouterr().err
