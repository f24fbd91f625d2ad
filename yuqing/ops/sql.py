"""SqlOps: the OpsDB over SQLAlchemy Core, on SQLite (default: the same file as the SQLite post index) or
PostgreSQL (`[database] url` / YUQING_DATABASE_URL). Opening it runs the migrations (yuqing.ops.migrations)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from yuqing.errors import StoreUnavailable
from yuqing.ops import migrations
from yuqing.ops.alerts import AlertsMixin
from yuqing.ops.cases import CasesMixin
from yuqing.ops.engine import describe, errors, make_engine
from yuqing.ops.hot import HotMixin
from yuqing.ops.outbox import OutboxMixin
from yuqing.ops.people import PeopleMixin
from yuqing.ops.runs import RunsMixin


class SqlOps(AlertsMixin, OutboxMixin, CasesMixin, PeopleMixin, RunsMixin, HotMixin):
    """The OpsDB on one SQL database; safe to share between the threads of a process."""

    def __init__(self, url: str, *, busy_timeout: float = 30.0) -> None:
        self.url = url
        with errors("open", url):
            try:
                self.engine = make_engine(url, busy_timeout=busy_timeout)
            except ImportError as exc:  # the driver of a configured scheme is missing
                raise StoreUnavailable(f"OpsDB {describe(url)}: {exc}") from exc
            self.upgraded_from = migrations.migrate(self.engine)

    @classmethod
    def from_settings(cls, settings: Any) -> SqlOps:
        return cls(settings.database_url, busy_timeout=settings.store.busy_timeout_seconds)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self._tx("ping") as conn:
            conn.execute(text("SELECT 1"))

    def describe(self) -> str:
        with self._tx("describe") as conn:
            version = migrations.current_version(conn)
        return f"{describe(self.url)} (schema {version})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name
