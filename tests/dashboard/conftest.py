"""Dashboard fixtures: a store filled with known posts, alerts and users, and an AppTest logged in."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st

from dashboard import data, users
from tests.conftest import Both
from yuqing.config import load_settings
from yuqing.records import Alert, Analysis, Event, Post
from yuqing.wiring import open_stores

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
PASSWORD = "correct-horse-battery"


def _post(now: datetime, i: int, platform: str, op: str, label: str, hours_ago: float, *, text: str = "", influence: float = 0.2,
          risk: tuple[str, ...] = (), touchpoints: tuple[str, ...] = ("网络信号",), province: str = "广东",
          kind: str = "post", comments: int = 0, event_id: str = "") -> tuple[Post, Analysis]:
    post = Post(platform=platform, post_id=f"p{i}", text=text or f"{op}帖子{i} {label}",
                published_at=now - timedelta(hours=hours_ago), url=f"https://example.invalid/{platform}/p{i}",
                kind=kind, author_name=f"用户{i}", operators=(op,), comments=comments, ip_region=province)
    analysis = Analysis(label=label, score={"negative": 0.1, "neutral": 0.5, "positive": 0.9}[label],
                        touchpoints=touchpoints, operators=(op,), province=province, risk_flags=risk,
                        influence=influence, keywords=("信号", op), event_id=event_id)
    return post, analysis


def known_posts(now: datetime = NOW) -> list[tuple[Post, Analysis]]:
    """14 posts: 中国电信 6 negative / 3 neutral / 2 positive (one zhidao question among the neutral),
    中国移动 2 negative / 1 positive; three are flagged for the reply queue; one old post outside 7 days."""
    items = [
        _post(now, 1, "weibo", "中国电信", "negative", 0.5, influence=3.0, risk=("escalation",), event_id="ev1",
              text="电信断网三天了，再不修就去工信部投诉"),
        _post(now, 2, "weibo", "中国电信", "negative", 2, influence=2.5, touchpoints=("宽带",), event_id="ev1"),
        _post(now, 3, "heimao", "中国电信", "negative", 5, influence=0.3, touchpoints=("资费账单",), province="北京"),
        _post(now, 4, "zhihu", "中国电信", "negative", 8, touchpoints=("资费账单",), province="北京"),
        _post(now, 5, "weibo", "中国电信", "negative", 30, text=XSS),
        _post(now, 6, "weibo", "中国电信", "negative", 40),
        _post(now, 7, "zhihu", "中国电信", "neutral", 3),
        _post(now, 8, "weibo", "中国电信", "neutral", 50),
        _post(now, 9, "zhidao", "中国电信", "neutral", 4, kind="question", text="电信宽带怎么办理提速？"),
        _post(now, 10, "weibo", "中国电信", "positive", 6),
        _post(now, 11, "weibo", "中国电信", "positive", 7, province="上海"),
        _post(now, 12, "weibo", "中国移动", "negative", 2),
        _post(now, 13, "weibo", "中国移动", "negative", 9),
        _post(now, 14, "weibo", "中国移动", "positive", 10),
    ]
    items.append(_post(now, 15, "weibo", "中国电信", "negative", 24 * 20, influence=5.0))  # outside 7 days and 14 days
    return items


def fill(store, now: datetime = NOW) -> None:
    """Known posts, one event, one open red alert, and users admin1, resp1, viewer1 (password PASSWORD)."""
    store.upsert_posts(known_posts(now))
    store.upsert_events([Event(event_id="ev1", title="电信断网", first_seen=now - timedelta(hours=2),
                               last_seen=now - timedelta(hours=1), size=2, negative=2, keywords=("断网",),
                               operators=("中国电信",), sample_key="weibo:p1")])
    store.save_alert(Alert(rule="negative_burst", key="ev1", severity="red", title="中国电信 断网负面激增",
                           reason="最近1小时负面 12 条，基线 2.0 条", opened_at=now - timedelta(minutes=30),
                           rule_type="burst", count=12, baseline=2.0, sample_keys=("weibo:p1", "weibo:p2"),
                           scope={"operators": ["中国电信"]}, event_id="ev1"))
    for name, role in (("admin1", "admin"), ("resp1", "responder"), ("viewer1", "viewer")):
        users.add_user(store, name, PASSWORD, role)


@pytest.fixture
def filled(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """The configured SQLite store under tmp_path, filled with known data; the dashboard clock is fixed at NOW."""
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "yuqing.db"))
    monkeypatch.setenv("YUQING_DASHBOARD_OUR_OPERATOR", "中国电信")
    monkeypatch.setattr(data, "now", lambda: NOW)
    store = Both(*open_stores(load_settings()))
    fill(store)
    data._last_sync.clear()
    st.cache_data.clear()
    yield store
    st.cache_data.clear()
    data.close_stores()
    store.close()


def app_as(role: str | None):
    """An AppTest of the dashboard, logged in with `role` (None = logged out)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(data.__file__).replace("data.py", "app.py"), default_timeout=30)
    if role:
        name = {"admin": "admin1", "responder": "resp1", "viewer": "viewer1"}[role]
        at.session_state["user"] = {"username": name, "role": role, "display_name": name}
    return at


def chromium_context(pw, profile: Path):
    """Headless Debian Chromium with the flags this closed network needs (no background connections)."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"],
        viewport={"width": 1400, "height": 1000})


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the served dashboard answers its health check (RuntimeError if the process ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


@pytest.fixture
def server(tmp_path, free_port):
    """A real `streamlit run` of the dashboard on a filled store, freshly started (nobody has logged in)."""
    from dashboard.commands import APP, streamlit_argv

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(YUQING_STORE_PATH=str(tmp_path / "yuqing.db"), YUQING_DASHBOARD_OUR_OPERATOR="中国电信",
               HOME=str(tmp_path))
    store = Both(*open_stores(load_settings(env=env)))
    fill(store, datetime.now(UTC))
    proc = subprocess.Popen(streamlit_argv(APP, free_port, "127.0.0.1"), env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{free_port}"
    try:
        wait_healthy(url, proc)
        yield url, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        store.close()
