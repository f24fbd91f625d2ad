"""The walking skeleton over loopback: demo site -> spider subprocess -> store -> alert -> email in aiosmtpd."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from crawlers.schedule import run_crawl_job
from demo.scenario import load_scenario
from demo.server import DemoSite
from demo.smtp import MailServer
from tests.conftest import Both
from yuqing.config import load_settings
from yuqing.index import PostQuery
from yuqing.records import Subscriber
from yuqing.run import alerts_job
from yuqing.wiring import open_stores

pytestmark = pytest.mark.slow


def test_crisis_on_the_demo_site_reaches_a_subscribers_mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YUQING_")]:
        monkeypatch.delenv(key)
    start = datetime.now(UTC) - timedelta(minutes=2)  # at speed 60 the crisis is out 20-36 s after start
    with DemoSite(load_scenario(), start=start) as site, MailServer(tmp_path / "mail") as mail:
        config = tmp_path / "yuqing.toml"
        config.write_text("\n".join([
            "[store]", f'path = "{tmp_path / "yuqing.db"}"',
            "[crawl]", f'jobstore = "{tmp_path / "var" / "scheduler.db"}"', "max_pages = 3",
            "autothrottle = false", "download_delay = 0", 'sources = ["weibo"]',
            f'weibo_base_url = "{site.base_urls["weibo"]}"',
            "[smtp]", 'host = "127.0.0.1"', f"port = {mail.port}", 'sender = "yuqing@localhost"',
        ]) + "\n", encoding="utf-8")
        settings = load_settings(config)
        store = Both(*open_stores(settings))
        try:
            store.save_subscriber(Subscriber(email="duty@example.test", name="值班主管", min_severity="blue"))
        finally:
            store.close()

        summary = run_crawl_job("weibo", str(config), timeout=240)  # exactly what the scheduler runs
        assert summary.get("returncode") == 0 and summary["healthy"], summary
        assert summary["posts_new"] > 0

        result = alerts_job(str(config))
        assert result["fired"] >= 1 and result["sent"] >= 1

        store = Both(*open_stores(settings))
        try:
            crisis = store.count_posts(PostQuery(text="断网", operators=("中国电信",)))
            alerts = store.list_alerts()
        finally:
            store.close()
        assert crisis >= 10
        assert alerts and any("中国电信" in a.title or "中国电信" in str(dict(a.scope)) or "电信" in a.reason
                              for a in alerts)

        messages = sorted((tmp_path / "mail").glob("*.eml"))
        assert len(messages) == mail.sink.count == result["sent"]
        parsed = [message_from_bytes(m.read_bytes(), policy=policy.default) for m in messages]
        assert all(msg["To"] and "duty@example.test" in msg["To"] for msg in parsed)
        assert any("预警" in msg["Subject"] for msg in parsed)
        bodies = "\n".join(msg.get_body(preferencelist=("plain", "html")).get_content() for msg in parsed)
        assert "电信" in bodies


def test_yuqing_demo_runs_bounded_and_reports_json(tmp_path: Path) -> None:
    """`yuqing demo --duration N --no-dashboard`: everything in one command, totals as the last line."""
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "demo", "--duration", "45", "--no-dashboard",
                           "--data-dir", str(tmp_path / "demo"), "--mail-dir", str(tmp_path / "mail"),
                           "--chat-dir", str(tmp_path / "chat")],
                          capture_output=True, text=True, env=env, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    totals = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(totals) == {"posts_crawled", "posts_stored", "alerts_opened", "alerts_merged", "emails_delivered",
                           "chat_messages_delivered", "hot_entries_tracked", "hot_list_alerts", "hot_best_weibo_rank",
                           "scheduled_runs_skipped"}
    assert totals["scheduled_runs_skipped"] >= 0  # busy machines skip some; each is counted (crawlers.skips)
    assert "skipped: maximum number of running instances reached" not in proc.stderr
    # 45 s at speed 60: the outage enters 微博热搜 at minute 24 (#28) and is at #2 from minute 35; a poll delayed by
    # a busy machine may see it at any rank on the way
    assert totals["hot_entries_tracked"] >= 1 and totals["hot_list_alerts"] >= 1
    assert 1 <= totals["hot_best_weibo_rank"] <= 28
    assert totals["posts_stored"] > 0 and totals["posts_crawled"] >= totals["posts_stored"]
    assert totals["alerts_opened"] >= 1 and totals["emails_delivered"] >= 1
    assert 0 <= totals["alerts_merged"] < totals["alerts_opened"]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == totals["emails_delivered"]
    # the crisis reached the local group robots too, each message checked (signature, shape, size) on arrival
    chat = sorted((tmp_path / "chat").glob("*.json"))
    assert totals["chat_messages_delivered"] >= 1 and len(chat) == totals["chat_messages_delivered"]
    received = [json.loads(p.read_text(encoding="utf-8")) for p in chat]
    assert {"wecom", "dingtalk", "feishu", "webhook"} <= {r["platform"] for r in received}
    assert any("电信" in r["title"] + r["text"] and "预警" in r["title"] for r in received)
    # @mentions as the demo subscribed them: 河南值班群 (WeCom) @ its duty phone on red and orange, 公关部 @所有人 on red
    for r in received:
        hot = "红色" in r["title"] or "橙色" in r["title"]
        if r["platform"] == "wecom":
            assert r["mentions"] == (["13800138000"] if hot else []), r["title"]
        if r["platform"] == "dingtalk":
            assert r["mentions"] == (["all"] if "红色" in r["title"] else []), r["title"]
    assert "群消息 chat [" in proc.stderr
    # another shell reaches the demo's channels with the keys the demo wrote for its owner only
    secrets = tmp_path / "demo" / "demo.env"
    assert secrets.stat().st_mode & 0o077 == 0
    keys = dict(line.split("=", 1) for line in secrets.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#"))
    assert keys and all(k.startswith("YUQING_DEMO_") for k in keys)
    check = subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(tmp_path / "demo" / "yuqing.toml"),
                            "config", "check"], capture_output=True, text=True, env={**env, **keys}, timeout=120,
                           cwd=Path(__file__).resolve().parents[1])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "demo / " in proc.stderr  # the login is printed, with its generated password


def test_a_killed_demo_stops_its_dashboard_and_still_reports(tmp_path: Path) -> None:
    """`timeout make run` or a service manager stops the demo with SIGTERM, often twice at once (timeout signals
    make's process group and make passes it on): the demo still settles and prints its totals, and its dashboard
    ends with it."""
    import json
    import re
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    err = tmp_path / "demo.err"
    with err.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "demo", "--data-dir", str(tmp_path / "demo"),
                                 "--mail-dir", str(tmp_path / "mail"), "--chat-dir", str(tmp_path / "chat")],
                                stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                                cwd=Path(__file__).resolve().parents[1])
        try:
            deadline, url = time.monotonic() + 120, ""
            while not url and time.monotonic() < deadline:
                found = re.search(r"仪表盘 dashboard: (\S+)", err.read_text(encoding="utf-8"))
                url = found.group(1) if found else ""
                time.sleep(0.5)
            assert url, err.read_text(encoding="utf-8")[-3000:]
            for _ in range(120):  # until the dashboard answers
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)  # timeout's signal to the group, then make's to its child at once:
            proc.send_signal(signal.SIGTERM)  # the second must not land while the first is being handled
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err.read_text(encoding="utf-8")[-3000:]
    assert "emails_delivered" in json.loads(out.strip().splitlines()[-1])
    time.sleep(1)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
