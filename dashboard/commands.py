"""`yuqing users add|list|unlock` and `yuqing dashboard`: create dashboard users, start Streamlit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from yuqing.vocab import ROLES

APP = Path(__file__).with_name("server.py")  # app.py served by st.App with the session-cookie endpoints


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="dashboard users")
    usub = users.add_subparsers(dest="users_command", required=True)
    add_help = ("create a user (an existing name is refused unless --replace); prints a generated password when "
                "none is given")
    add = usub.add_parser("add", help=add_help, description=add_help)
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--display-name", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--replace", action="store_true",
                     help="replace an existing user's password, role and display name (without it an existing "
                     "name is refused, exit 2)")
    add.set_defaults(func=users_add)
    lst = usub.add_parser("list", help="list users and roles")
    lst.set_defaults(func=users_list)
    unlock = usub.add_parser("unlock", help="lift a login lock after too many failed passwords (audited; exit 2 "
                                            "for a name that is no user and has nothing counted)")
    unlock.add_argument("username")
    unlock.set_defaults(func=users_unlock)

    for name, what in (("disable", "stop a user from logging in and end its sessions now (audited)"),
                       ("enable", "let a disabled user log in again (audited)"),
                       ("remove", "delete a user; its sessions end (audited)")):
        cmd = usub.add_parser(name, help=what, description=what)
        cmd.add_argument("username")
        cmd.set_defaults(func=users_change, change=name)

    dash = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    dash.add_argument("--port", type=int, help="port (default: [dashboard] port)")
    dash.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dash.set_defaults(func=dashboard_command)


def users_add(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.wiring import open_ops

    from .users import UserError, add_user, generate_password

    generated = not args.password_stdin
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    store = open_ops(settings_from(args))
    try:
        existing = store.get_user(args.username)
        if existing is not None and not args.replace:
            print(f"错误 error: 用户已存在 user {args.username!r} already exists (role {existing.role}); nothing changed. "
                  "Use --replace to replace its password, role and display name.", file=sys.stderr)
            return 2
        add_user(store, args.username, password, args.role, args.display_name)
    except UserError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    was = f" (replaced: was role {existing.role})" if existing is not None else ""
    print(f"user {args.username} role {args.role} saved{was}" + ("; its sessions are ended" if was else ""))
    if generated:
        print(f"password: {password}")
    return 0


def users_change(args: argparse.Namespace) -> int:
    """users disable|enable|remove NAME: exit 2 when there is no such user."""
    from yuqing.commands import cli_actor, settings_from
    from yuqing.records import AuditEntry, now_utc
    from yuqing.wiring import open_ops

    from .users import UserError, remove_user, set_disabled

    now = now_utc()
    store = open_ops(settings_from(args))
    try:
        if args.change == "remove":
            remove_user(store, args.username)
        else:
            set_disabled(store, args.username, args.change == "disable", now)
        store.add_audit(AuditEntry(at=now, actor=cli_actor(), action=f"user_{args.change}",
                                   target=f"user:{args.username}"))
    except UserError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    done = {"disable": "disabled; its sessions are ended", "enable": "enabled",
            "remove": "removed; its sessions are ended"}[args.change]
    print(f"user {args.username} {done}")
    return 0


def users_list(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.wiring import open_ops

    store = open_ops(settings_from(args))
    try:
        for u in store.list_users():
            print(f"{u.username}\t{u.role}\t{u.display_name}" + ("\t(disabled)" if u.disabled else ""))
    finally:
        store.close()
    return 0


def users_unlock(args: argparse.Namespace) -> int:
    from yuqing.commands import cli_actor, settings_from
    from yuqing.records import now_utc
    from yuqing.timefmt import local_str
    from yuqing.wiring import open_ops

    from .throttle import SHOWN, Limits, Status, status, unlock

    now = now_utc()
    settings = settings_from(args)
    store = open_ops(settings)
    try:
        limits = Limits.from_settings(settings)
        if store.get_user(args.username) is None and status(store, args.username, now, limits) == Status():
            # no such user and nothing counted against the name: a usage error (exit 2), like disable/remove
            print(f"错误 error: 没有这个用户 no user {args.username!r}; nothing to unlock", file=sys.stderr)
            return 2
        before = unlock(store, args.username, cli_actor(), now, limits)  # failures against an unknown name clear too
    finally:
        store.close()
    if before.locked(now):
        print(f"user {args.username} unlocked (was locked until {local_str(before.locked_until, SHOWN)} 北京时间)")
    else:
        print(f"user {args.username} was not locked; {before.count} counted failed logins cleared")
    return 0


def streamlit_argv(app: Path, port: int, address: str) -> list[str]:
    """The command that serves the dashboard; used by `yuqing dashboard` and the browser test."""
    return [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer"]  # no English developer menu or Deploy button


def dashboard_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from

    settings = settings_from(args)  # validate before starting
    env = dict(os.environ)
    if getattr(args, "config", None):
        env["YUQING_CONFIG"] = str(Path(args.config).resolve())
    port = args.port or settings.dashboard.port
    print(f"dashboard on http://{args.address}:{port}", file=sys.stderr)
    sys.stderr.flush()
    argv = streamlit_argv(APP, port, args.address)
    os.execve(argv[0], argv, env)  # Streamlit takes this process: `kill PID` stops the server, no child left behind
