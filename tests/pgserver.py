"""A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks: initdb into a temporary folder (as the
`postgres` user when running as root: initdb refuses root), pg_ctl start on a free port with fsync off, a
fresh database per caller, everything removed on stop.

    with PgServer() as pg:
        url = pg.database("t1")     # postgresql://postgres@127.0.0.1:PORT/t1

`find_bin()` tells where the server binaries are (None when PostgreSQL is not installed: `make test` installs
Debian's postgresql where root or password-less sudo allows, like chromium).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

SKIP_REASON = ("PostgreSQL server binaries (initdb, pg_ctl) not found and not installable here: `make test` "
               "installs Debian's postgresql when run as root or with password-less sudo")


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, newest version first; $YUQING_PG_BIN wins."""
    candidates = [os.environ.get("YUQING_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster in a temporary folder, listening on 127.0.0.1:<free port>."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bin()
        if found is None:
            raise RuntimeError(SKIP_REASON)
        self.bin = found
        self.root = Path(tempfile.mkdtemp(prefix="yuqing-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self._engine: Any = None

    def _run(self, *cmd: str) -> None:
        argv = [str(self.bin / cmd[0]), *cmd[1:]]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PgServer:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        options = (f"-k {self.root} -h 127.0.0.1 -p {self.port} -F -c max_connections=200 -c shared_buffers=64MB "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.url().replace("postgresql://", "postgresql+psycopg://"),
                                         isolation_level="AUTOCOMMIT")
        return self._engine

    def database(self, name: str = "") -> str:
        """A new, empty database; its URL."""
        from sqlalchemy import text

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url(name)

    def drop(self, name: str) -> None:
        from sqlalchemy import text

        with self.admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
