"""Crawl runs and source health, rejected items, crawl cursors, first sight of sources, job leases and
checkpoints in SQL (mixed into SqlOps)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, insert, or_, select, text, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions, holder_is_dead
from yuqing.records import CrawlRun, Rejected, SourceHealth, now_utc

R, L = T.crawl_runs, T.job_leases
# errors by kind summed per source inside the database (the runs' `errors` is a JSON object kind -> count)
ERRORS_SQL = {
    "postgresql": "SELECT source, e.key, sum(e.value::bigint) FROM crawl_runs, jsonb_each_text(errors) AS e "
                  "GROUP BY source, e.key",
    "sqlite": "SELECT source, e.key, sum(e.value) FROM crawl_runs, json_each(crawl_runs.errors) AS e "
              "GROUP BY source, e.key",
}


class RunsMixin(Transactions):
    # ------------------------------------------------------------------ crawl runs and health
    def record_crawl_run(self, run: CrawlRun) -> CrawlRun:
        row = T.to_row(run, R)
        row.pop("run_id")
        with self._write("record crawl run") as conn:
            if run.run_id is None:
                new_id = conn.execute(insert(R).values(row).returning(R.c.run_id)).scalar_one()
                return dataclasses.replace(run, run_id=new_id)
            if conn.execute(update(R).where(R.c.run_id == run.run_id).values(row)).rowcount == 0:
                raise KeyError(f"no crawl run with id {run.run_id}")
        return run

    def source_health(self) -> list[SourceHealth]:
        """Per source: totals and the latest times by SQL aggregates; the latest run's state; errors summed."""
        finished = R.c.finished_at.is_not(None)
        totals = (select(R.c.source, func.count(), func.max(R.c.run_id),
                         *(func.coalesce(func.sum(getattr(R.c, n)), 0) for n in ("pages", "posts_found", "posts_new",
                                                                                 "rejected")),
                         func.max(case((and_(finished, R.c.healthy.is_(True)), R.c.finished_at))),
                         func.max(case((and_(finished, R.c.posts_new > 0), R.c.finished_at))))
                  .group_by(R.c.source).order_by(R.c.source))
        out = []
        with self._tx() as conn:
            rows = conn.execute(totals).all()
            last = {r.run_id: r for r in conn.execute(select(R).where(R.c.run_id.in_([r[2] for r in rows])))}
            errors: dict[str, dict[str, int]] = {}
            for source, kind, n in conn.execute(text(ERRORS_SQL[self.engine.dialect.name])):
                errors.setdefault(source, {})[kind] = int(n)
        for source, runs, last_id, pages, found, new, rejected, ok_at, post_at in rows:
            lr = last[last_id]
            out.append(SourceHealth(
                source=source, last_run_at=lr.finished_at or lr.started_at, last_success_at=_utc(ok_at),
                last_post_at=_utc(post_at), healthy=lr.healthy, reason=lr.reason, runs=runs, pages=int(pages),
                posts_found=int(found), posts_new=int(new), rejected=int(rejected), errors=errors.get(source, {})))
        return out

    def list_crawl_runs(self, *, source: str = "", limit: int = 1000) -> list[CrawlRun]:
        q = select(R).order_by(R.c.started_at.desc(), R.c.run_id.desc()).limit(limit)
        if source:
            q = q.where(R.c.source == source)
        with self._tx() as conn:
            return [T.from_row(CrawlRun, r) for r in conn.execute(q)]

    # ------------------------------------------------------------------ rejected items
    def record_rejected(self, items: Sequence[Rejected]) -> None:
        if not items:
            return
        now = now_utc()
        rows = [T.to_row(r, T.rejected, sample=r.sample[:500], at=r.at or now) for r in items]
        with self._write("record rejected") as conn:
            conn.execute(insert(T.rejected), rows)

    def rejected_counts(self, *, since: datetime | None = None) -> dict[tuple[str, str, str], int]:
        J = T.rejected
        q = select(J.c.source, J.c.stage, J.c.reason, func.count()).group_by(J.c.source, J.c.stage, J.c.reason)
        if since is not None:
            q = q.where(J.c.at >= since)
        with self._tx() as conn:
            return {(r[0], r[1], r[2]): int(r[3]) for r in conn.execute(q)}

    def list_rejected(self, *, limit: int = 100) -> list[Rejected]:
        with self._tx() as conn:
            rows = conn.execute(select(T.rejected).order_by(T.rejected.c.id.desc()).limit(limit))
            return [T.from_row(Rejected, r) for r in rows]

    # ------------------------------------------------------------------ cursors and first sight
    def get_cursor(self, source: str, name: str) -> str | None:
        K = T.crawl_cursors
        with self._tx() as conn:
            return conn.execute(select(K.c.value).where(K.c.source == source, K.c.name == name)).scalar()

    def set_cursor(self, source: str, name: str, value: str, now: datetime) -> None:
        stmt = self._insert(T.crawl_cursors).values(source=source, name=name, value=value, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["source", "name"], set_={"value": value, "updated_at": now})
        with self._write("set cursor") as conn:
            conn.execute(stmt)

    def source_first_seen(self, source: str, now: datetime) -> datetime:
        V = T.source_first_seen
        stmt = self._insert(V).values(source=source, first_seen=now)
        stmt = stmt.on_conflict_do_update(index_elements=["source"], set_={"first_seen": V.c.first_seen})
        with self._write("first seen") as conn:
            return conn.execute(stmt.returning(V.c.first_seen)).scalar_one()  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ leases and checkpoints
    def acquire_lease(self, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
        with self._tx("lease") as conn:
            holder = conn.execute(select(L.c.owner).where(L.c.name == name, L.c.expires_at > now)).scalar()
        takeover = holder is not None and holder != owner and holder_is_dead(holder)
        stmt = self._insert(L).values(name=name, owner=owner, acquired_at=now, expires_at=now + ttl)
        free = or_(L.c.expires_at <= now, L.c.owner == owner, L.c.owner == (holder if takeover else owner))
        acquired = case((L.c.owner == owner, L.c.acquired_at), else_=now)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], where=free,
                                          set_={"owner": owner, "acquired_at": acquired, "expires_at": now + ttl})
        with self._write("lease") as conn:
            got = conn.execute(stmt.returning(L.c.owner)).scalar()
        return got == owner

    def release_lease(self, name: str, owner: str) -> None:
        with self._write("release lease") as conn:
            conn.execute(L.delete().where(L.c.name == name, L.c.owner == owner))

    def get_checkpoint(self, name: str) -> str | None:
        with self._tx() as conn:
            return conn.execute(select(T.checkpoints.c.value).where(T.checkpoints.c.name == name)).scalar()

    def set_checkpoint(self, name: str, value: str, now: datetime) -> None:
        stmt = self._insert(T.checkpoints).values(name=name, value=value, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value, "updated_at": now})
        with self._write("checkpoint") as conn:
            conn.execute(stmt)


def _utc(value: object) -> datetime | None:
    """An aggregate of a UTCDateTime column comes back untyped on SQLite (epoch seconds)."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(T.UTC) if isinstance(value, datetime) else None
    return datetime.fromtimestamp(float(value), T.UTC)  # type: ignore[arg-type]
