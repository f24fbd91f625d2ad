"""The `yuqing` command. The only module that knows every app; each app's commands
module registers its sub-commands and imports its heavy parts inside the command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

COMMAND_MODULES = (
    "yuqing.commands",
    "yuqing.storage.commands",
    "yuqing.run",
    "yuqing.briefs",
    "crawlers.commands",
    "sentiment.commands",
    "alerts.commands",
    "dashboard.commands",
)

# what `yuqing config check` verifies beyond the settings themselves: "module:function(settings) -> problems"
CONFIG_CHECKS = (
    "yuqing.wiring:check_database",  # [database] url: the OpsDB answers
    "sentiment.models:check_settings",  # [sentiment] model (registry name, loads) and touchpoints
    "crawlers.commands:check_settings",  # [crawl] watchlist
    "yuqing.cli:check_alert_rules",  # [alerts] rules
    "alerts.channels:check_settings",  # [channels.NAME]: the key and secret variables are set
)


def check_alert_rules(settings: Any) -> list[str]:
    """[alerts] rules: the file exists and its rules are valid, read as the alert engine reads it."""
    from alerts.loader import load_rules, rules_path
    from alerts.rules import RuleError

    try:
        load_rules(rules_path(settings.alerts.rules))
    except RuleError as exc:
        return [f"[alerts] rules: {exc}"]
    return []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yuqing", description="舆情 monitoring for telecom operators")
    parser.add_argument("--config", help="settings file (default: $YUQING_CONFIG or ./yuqing.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.set_defaults(config_checks=CONFIG_CHECKS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an app that is not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from yuqing.config import ConfigError
    from yuqing.errors import StoreError

    try:
        code = args.func(args)
    except ConfigError as exc:
        print(f"配置错误 config error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:  # locked, read-only, corrupt or unreachable: one clear line, not a traceback
        print(f"存储不可用 store unavailable: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `yuqing sources --json | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 0
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
