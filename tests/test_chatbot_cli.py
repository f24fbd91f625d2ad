"""`python -m demo.chatbot`: the loopback group-robot receiver run by hand, to try a chat channel and its @mentions
without the demo (docs/channels.md)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_receiver_runs_by_hand_and_shows_who_a_message_ats(tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "demo.chatbot", "--robot", "wecom:k1", "--port", "0",
                             "--dir", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = proc.stdout.readline()
        assert "chat receiver on http://127.0.0.1:" in first, first + proc.stderr.read()
        url = first.split(" on ")[1].split(" ")[0]
        body = {"msgtype": "text", "text": {"content": "【红色预警】郑州宽带断网", "mentioned_mobile_list": ["13800138000"]}}
        req = urllib.request.Request(f"{url}/cgi-bin/webhook/send?key=k1", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["errcode"] == 0
        wrong = urllib.request.Request(f"{url}/cgi-bin/webhook/send?key=nope", json.dumps(body).encode(),
                                       {"Content-Type": "application/json"})
        with urllib.request.urlopen(wrong, timeout=10) as resp:
            assert json.loads(resp.read())["errcode"] == 93000  # an unknown key, as WeCom answers
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "群消息 chat [wecom k1] 【红色预警】郑州宽带断网 @13800138000" in err
    [saved] = list(tmp_path.glob("*.json"))
    assert json.loads(saved.read_text(encoding="utf-8"))["mentions"] == ["13800138000"]


def test_a_robot_given_wrongly_is_refused_in_words() -> None:
    proc = subprocess.run([sys.executable, "-m", "demo.chatbot", "--robot", "webhook:tickets"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "a webhook signs every request: give webhook:tickets:SECRET" in proc.stderr
