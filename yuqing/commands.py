"""Foundation commands: `yuqing config check`, `yuqing sources`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from yuqing.config import ConfigError, Settings, load_settings, masked


def cli_actor() -> str:
    """Who ran a command, for the audit trail: cli:<OS user> (cli:uid<N> where the uid has no name)."""
    import getpass
    import os

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (containers)
        return f"cli:uid{os.getuid()}"


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings for a command, from --config and the environment (raises ConfigError)."""
    return load_settings(getattr(args, "config", None))


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="settings")
    csub = config.add_subparsers(dest="config_command", required=True)
    check = csub.add_parser("check", help="validate the settings and what they name (sentiment model, watchlist, "
                                          "touchpoints, alert rules); print them, secrets masked")
    check.set_defaults(func=config_check)

    sources = sub.add_parser("sources", help="health of each crawl source")
    sources.add_argument("--json", action="store_true", help="one JSON object per source")
    sources.set_defaults(func=sources_command)


def config_check(args: argparse.Namespace) -> int:
    """Print the effective settings, or every problem (file and field named) and exit 2.

    Besides the settings' own validation, the apps' checks run: `args.config_checks` holds their
    "module:function" names (yuqing/cli.py registers them); each function takes the Settings and returns
    its problems as "[section] field: message" strings.
    """
    settings = settings_from(args)
    problems = [f"{_where(p, settings)}: {p}" for spec in getattr(args, "config_checks", ())
                for p in run_check(spec, settings)]
    if problems:
        for problem in problems:
            print(f"配置错误 config error: {problem}", file=sys.stderr)
        return 2
    print(json.dumps(masked(settings), ensure_ascii=False, indent=2))
    print(f"OK: settings from {settings.source_file or 'defaults and environment'}", file=sys.stderr)
    return 0


def _where(problem: str, settings: Settings) -> str:
    """Where the value a problem ("[section] field: …") names came from: the environment variable that set it,
    else the settings file."""
    import os
    import re

    m = re.match(r"\[(\w+)\] (\w+)", problem)
    if m:
        var = f"YUQING_{m.group(1).upper()}_{m.group(2).upper()}"
        if os.environ.get(var):
            return f"environment {var}"
    return settings.source_file or "settings"


def run_check(spec: str, settings: Settings) -> list[str]:
    """The problems one app check ("module:function") finds; a check that crashes is a problem too."""
    module, _, name = spec.partition(":")
    try:
        check = getattr(importlib.import_module(module), name)
        return [str(p) for p in check(settings)]
    except ConfigError as exc:
        return [str(exc)]
    except Exception as exc:
        return [f"check {spec} failed: {type(exc).__name__}: {exc}"]


def sources_command(args: argparse.Namespace) -> int:
    """Each source's health; crawl failures the OpsDB could not take (yuqing.ops.runlog) are counted too, and
    shown even when the OpsDB cannot be read at all (then exit 1)."""
    from yuqing.errors import StoreError
    from yuqing.ops import runlog
    from yuqing.timefmt import local_str
    from yuqing.wiring import open_ops

    settings = settings_from(args)
    problem = ""
    waiting = runlog.pending(settings.store.spool_dir)
    stored: list[Any] = []
    rejected: dict[tuple[str, str, str], int] = {}
    try:
        store = open_ops(settings)
    except StoreError as exc:
        problem = str(exc)
    else:
        try:
            stored = list(store.source_health())
            rejected = store.rejected_counts()
        except StoreError as exc:
            problem = str(exc)
        finally:
            store.close()
    rows = runlog.merged_health(stored, waiting)
    if problem:
        print(f"存储不可用 store unavailable: {problem}", file=sys.stderr)
        if waiting:
            print(f"{len(waiting)} crawl run(s) kept locally in {runlog.path_for(settings.store.spool_dir)} until the "
                  "store is back; shown below", file=sys.stderr)
    if args.json:
        for h in rows:
            print(json.dumps({
                "source": h.source, "healthy": h.healthy, "reason": h.reason,
                "last_run_at": h.last_run_at.isoformat() if h.last_run_at else None,
                "last_success_at": h.last_success_at.isoformat() if h.last_success_at else None,
                "last_post_at": h.last_post_at.isoformat() if h.last_post_at else None,
                "runs": h.runs, "pages": h.pages, "posts_found": h.posts_found, "posts_new": h.posts_new,
                "rejected": h.rejected, "errors": dict(h.errors),
            }, ensure_ascii=False))
        return 1 if problem else 0
    if not rows:
        print("no crawl has run yet")
    for h in rows:
        state = "OK  " if h.healthy else "DOWN"
        errors = ", ".join(f"{k}={v}" for k, v in sorted(h.errors.items())) or "-"
        print(f"{state} {h.source:8} last run {local_str(h.last_run_at)}  last success {local_str(h.last_success_at)}  "
              f"pages {h.pages}  found {h.posts_found}  new {h.posts_new}  rejected {h.rejected}  errors {errors}"
              + (f"  reason: {' | '.join(h.reason.splitlines())}" if h.reason else ""))
    for (source, stage, reason), n in sorted(rejected.items()):
        print(f"rejected {source}/{stage}: {reason} x{n}")
    return 1 if problem else 0
