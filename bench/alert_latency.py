"""Alert latency on the demo: from a crisis post appearing on the demo site to its email reaching the SMTP server
and its first chat message reaching the local group-robot receiver (demo/chatbot.py, signatures checked).

Runs `yuqing demo` (demo site, scheduled crawls, alert job, local SMTP sink) for a while, then, for each alert
whose evidence is the scenario's crisis posts, finds when the evidence was complete on the site (a replay of the
rule over the stored posts by publication time, second by second: the post that made it fire), when its first
email was received (the .eml file the SMTP sink wrote) and when its first chat message was accepted by a robot
(the receiver's received_at in var/chat/*.json). Times are the second each post went up on the demo site (the
run's start from the demo's log plus the post's scenario offset), not the parsed publication time, which Tieba,
Zhidao and others give to the minute. Prints the detail and, last, one JSON line.

    python bench/alert_latency.py [--crawl-interval 15] [--alert-interval 5] [--duration 100] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.engine import backtest, configured_rules  # noqa: E402
from demo.scenario import load_scenario  # noqa: E402
from yuqing.config import load_settings  # noqa: E402
from yuqing.index import PostQuery  # noqa: E402
from yuqing.wiring import open_stores  # noqa: E402

ALERT_LINK = re.compile(r"alerts\?alert=(\d+)")


def run_demo(data: Path, args: argparse.Namespace) -> tuple[float, str]:
    """Run the demo to completion; returns (wall seconds, its last stdout line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    cmd = [sys.executable, "-m", "yuqing.cli", "demo", "--no-dashboard", "--duration", str(args.duration),
           "--data-dir", str(data), "--mail-dir", str(data / "mail"), "--chat-dir", str(data / "chat"),
           "--crawl-interval", str(args.crawl_interval),
           "--alert-interval", str(args.alert_interval)]
    if args.scenario:
        cmd += ["--scenario", args.scenario]
    t0 = time.monotonic()
    with open(data / "demo.log", "wb") as log:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, timeout=args.duration + 300)
    out = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0:
        raise SystemExit(f"yuqing demo failed with {proc.returncode}; see {data / 'demo.log'}")
    return time.monotonic() - t0, out[-1] if out else ""


def received_emails(mail: Path) -> dict[int, tuple[datetime, str]]:
    """alert id -> (when its first email reached the SMTP sink, subject)."""
    first: dict[int, tuple[datetime, str]] = {}
    for path in sorted(mail.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(("plain",))
        found = ALERT_LINK.search(body.get_content() if body else "")
        if not found:
            continue  # digests and reports are not alert emails
        at = datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, UTC)
        aid = int(found.group(1))
        if aid not in first or at < first[aid][0]:
            first[aid] = (at, str(msg["Subject"]))
    return first


def received_chats(chat: Path) -> dict[int, tuple[datetime, str]]:
    """alert id -> (when its first chat message was accepted by a robot of the receiver, which robot)."""
    first: dict[int, tuple[datetime, str]] = {}
    for path in sorted(chat.glob("*.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        found = ALERT_LINK.search(item["text"] + json.dumps(item["body"], ensure_ascii=False))
        if not found:
            continue
        at, aid = datetime.fromisoformat(item["received_at"]), int(found.group(1))
        if aid not in first or at < first[aid][0]:
            first[aid] = (at, item["platform"])
    return first


STARTED = re.compile(r"started (\S+)")


def exact_times(data: Path, scenario) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    """key -> the second each scenario post went up on the demo site (its run's start, from the demo's log, plus
    its offset at the scenario's speed). Tieba, Zhidao and others show times to the minute, so their parsed
    publication time is up to a minute early; latency from it would count that minute."""
    found = STARTED.search((data / "demo.log").read_text(encoding="utf-8", errors="replace"))
    if not found:
        return {}
    start = datetime.fromisoformat(found.group(1))
    return {f"{p.platform}:{p.post_id}": p.at for p in scenario.placed(start)}


def exact_index(index, exact: dict[str, datetime], folder: Path):  # type: ignore[no-untyped-def]
    """A copy of the post index with every scenario post at the second it went up, to replay the rules on."""
    from dataclasses import replace as with_

    from yuqing.index.sqlite import SQLiteIndex

    copy = SQLiteIndex(folder / "exact.db")
    for batch in index.iter_posts():
        copy.upsert_posts([(with_(sp.post, published_at=exact.get(sp.post.key, sp.post.published_at)), sp.analysis)
                           for sp in batch])
    for ev in index.list_events(limit=100_000):
        copy.upsert_events([ev])
    return copy


def measure(data: Path, args: argparse.Namespace) -> tuple[list[dict], list]:
    """Rows (one per crisis alert with an email) and the other alerts of one demo run in `data`."""
    settings = load_settings(data / "yuqing.toml")
    scenario = load_scenario(args.scenario)
    crisis = {f"{sp.post.platform}:{sp.post.post_id}" for sp in scenario.posts if "crisis" in sp.post.tags}
    exact = exact_times(data, scenario)
    stored_index, ops = open_stores(settings)
    index = exact_index(stored_index, exact, data) if exact else stored_index
    try:
        stored_crisis = index.search_posts(PostQuery(keys=tuple(sorted(crisis))), limit=len(crisis) or 1,
                                           order="published_at_asc")
        if not stored_crisis:
            raise SystemExit(f"no crisis post was crawled; see {data / 'demo.log'}")
        start = stored_crisis[0].post.published_at - timedelta(minutes=1)
        end = max(sp.post.published_at for sp in stored_crisis) + timedelta(minutes=2)
        rules = configured_rules(settings)
        fired_at: dict[tuple[str, str], datetime] = {}
        for hit in backtest(index, ops, settings, start, end, timedelta(seconds=1), rules=rules):
            fired_at.setdefault((hit.alert.rule, hit.alert.key), hit.at)
        emails = received_emails(data / "mail")
        chats = received_chats(data / "chat")
        rows, others = [], []
        for alert in sorted(ops.list_alerts(limit=1000), key=lambda a: a.opened_at):
            t_fire = fired_at.get((alert.rule, alert.key))
            # the newest crisis post up by then: the one that completed the evidence
            trigger = next((sp for sp in index.search_posts(PostQuery(until=t_fire), limit=200)
                            if sp.post.key in crisis), None) if t_fire else None
            how = "replay"
            if (trigger is None or trigger.post.key not in crisis) and alert.alert_id in emails:
                # the replay sees the final labels and counts; when it disagrees with what the live run saw,
                # fall back to the newest crisis post among the alert's own evidence that was out before the email
                samples = index.search_posts(PostQuery(keys=tuple(k for k in alert.sample_keys if k in crisis)),
                                             limit=10, order="published_at_desc")
                before = [sp for sp in samples if sp.post.published_at <= emails[alert.alert_id][0]]
                trigger, how = (before[0], "evidence") if before else (None, "")
            if trigger is None or trigger.post.key not in crisis or alert.alert_id not in emails:
                others.append(alert)
                continue
            appeared = trigger.post.published_at  # the second it went up (exact_times)
            got, subject = emails[alert.alert_id]
            original = stored_index.get_post(trigger.post.platform, trigger.post.post_id) or trigger
            stored = original.first_seen or original.post.crawled_at
            rows.append({"alert_id": alert.alert_id, "rule": alert.rule, "severity": alert.severity, "trigger_by": how,
                         "subject": subject, "trigger_post": trigger.post.key, "appeared": appeared.isoformat(),
                         "stored_after_s": round((stored - appeared).total_seconds(), 1) if stored else None,
                         "email_after_s": round((got - appeared).total_seconds(), 1),
                         "chat_after_s": round((chats[alert.alert_id][0] - appeared).total_seconds(), 1)
                         if alert.alert_id in chats else None,
                         "chat_platform": chats[alert.alert_id][1] if alert.alert_id in chats else ""})
    finally:
        if index is not stored_index:
            index.close()
        stored_index.close()
        ops.close()
    return rows, others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crawl-interval", type=int, default=15)
    parser.add_argument("--alert-interval", type=int, default=5)
    parser.add_argument("--duration", type=float, default=100.0, help="seconds the demo runs")
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the demo data directory")
    parser.add_argument("--runs", type=int, default=1, help="demo runs to pool (each takes about --duration s)")
    args = parser.parse_args()

    rows, others, walls, totals = [], [], [], ""
    for run in range(args.runs):
        data = Path(tempfile.mkdtemp(prefix="yuqing-latency-"))
        wall, totals = run_demo(data, args)
        walls.append(wall)
        got, rest = measure(data, args)
        rows += [{**r, "run": run + 1} for r in got]
        others += rest
        if args.keep:
            print(f"demo data of run {run + 1} kept in {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)
    for r in rows:
        print(f"#{r['alert_id']:<3} {r['rule']:<10} {r['severity']:<6} trigger {r['trigger_post']} "
              f"({r['trigger_by']}) appeared {r['appeared'][11:19]}  stored +{r['stored_after_s']}s  email +{r['email_after_s']}s  chat +{r['chat_after_s']}s ({r['chat_platform'] or '-'})  "
              f"{r['subject']}")
    for a in others:
        print(f"(not a crisis alert, or no email) #{a.alert_id} {a.rule} / {a.key}: {a.title}")
    latencies = np.array([r["email_after_s"] for r in rows], dtype=float)
    crawl_delays = np.array([r["stored_after_s"] for r in rows if r["stored_after_s"] is not None], dtype=float)
    engine = np.array([r["email_after_s"] - r["stored_after_s"] for r in rows if r["stored_after_s"] is not None],
                      dtype=float)  # the alert job's share: stored -> evaluated -> queued -> accepted by SMTP
    target = args.crawl_interval + 20
    chat = np.array([r["chat_after_s"] for r in rows if r["chat_after_s"] is not None], dtype=float)
    result = {
        "crisis_alerts": len(rows), "other_alerts": len(others),
        "p50_seconds": round(float(np.percentile(latencies, 50)), 1) if rows else None,
        "p95_seconds": round(float(np.percentile(latencies, 95)), 1) if rows else None,
        "max_seconds": round(float(latencies.max()), 1) if rows else None,
        "crawl_to_store_p50_seconds": round(float(np.percentile(crawl_delays, 50)), 1) if len(crawl_delays) else None,
        "store_to_email_p50_seconds": round(float(np.percentile(engine, 50)), 1) if len(engine) else None,
        "store_to_email_max_seconds": round(float(engine.max()), 1) if len(engine) else None,
        "crawl_interval_seconds": args.crawl_interval, "alert_interval_seconds": args.alert_interval,
        "target_p95_seconds": target,
        "within_target": bool(rows) and float(np.percentile(latencies, 95)) <= target,
        "crisis_alerts_in_chat": len(chat),
        "chat_p50_seconds": round(float(np.percentile(chat, 50)), 1) if len(chat) else None,
        "chat_p95_seconds": round(float(np.percentile(chat, 95)), 1) if len(chat) else None,
        "chat_max_seconds": round(float(chat.max()), 1) if len(chat) else None,
        "chat_within_target": bool(len(chat)) and float(np.percentile(chat, 95)) <= target,
        "runs": args.runs, "demo_wall_seconds": [round(w, 1) for w in walls],
        "demo_totals_last_run": json.loads(totals) if totals.startswith("{") else totals,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
