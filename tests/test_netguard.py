"""Processes the tests start inherit YQ_LOOPBACK_ONLY=1 (tests/conftest.py) and refuse anything but loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import socket, yuqing
out = {}
for name, call in [("connect", lambda: socket.create_connection(("93.184.216.34", 80), timeout=1)),
                   ("resolve", lambda: socket.getaddrinfo("weibo.com", 443)),
                   ("connect_ex", lambda: socket.socket().connect_ex(("8.8.8.8", 53)))]:
    try:
        call()
        out[name] = "reached"
    except OSError as exc:
        out[name] = str(exc)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
socket.create_connection(srv.getsockname(), timeout=1).close()
out["loopback"] = "ok"
print(__import__("json").dumps(out))
"""


def run(env_value: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "YQ_LOOPBACK_ONLY"}
    if env_value is not None:
        env["YQ_LOOPBACK_ONLY"] = env_value
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_tests_ask_every_process_they_start_for_loopback_only() -> None:
    assert os.environ["YQ_LOOPBACK_ONLY"] == "1"
    out = run("1")
    assert all("only loopback is allowed" in out[k] for k in ("connect", "resolve", "connect_ex")), out
    assert out["loopback"] == "ok"


def test_a_crawl_pointed_at_the_real_site_is_refused_before_it_resolves(tmp_path: Path) -> None:
    config = tmp_path / "yuqing.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "yuqing.db"}"\n[crawl]\nautothrottle = false\ndownload_delay = 0.05\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(config), "crawl", "zhidao",
                           "--max-pages", "1"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
    assert proc.returncode == 1  # unhealthy: nothing could be fetched
    assert "only loopback is allowed" in proc.stdout + proc.stderr
