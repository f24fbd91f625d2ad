"""Reply cases in SQL (mixed into SqlOps); the transitions are yuqing.ops.queue's."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import insert, select, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions
from yuqing.ops.protocol import CaseChange
from yuqing.records import Case, now_utc

C = T.cases


class CasesMixin(Transactions):
    def save_case(self, case: Case) -> Case:
        if case.created_at is None:
            case = dataclasses.replace(case, created_at=now_utc())
        with self._write("save case") as conn:
            return self._save_case(conn, case)

    @staticmethod
    def _save_case(conn: Any, case: Case) -> Case:
        if case.case_id is None:
            found = conn.execute(select(C.c.case_id).where(C.c.platform == case.platform,
                                                           C.c.post_id == case.post_id)).scalar()
            if found is not None:
                case = dataclasses.replace(case, case_id=found)
        row = T.to_row(case, C)
        row.pop("case_id")
        if case.case_id is None:
            new_id = conn.execute(insert(C).values(row).returning(C.c.case_id)).scalar_one()
            return dataclasses.replace(case, case_id=new_id)
        if conn.execute(update(C).where(C.c.case_id == case.case_id).values(row)).rowcount == 0:
            raise KeyError(f"no case with id {case.case_id}")
        return case

    def get_case(self, case_id: int) -> Case | None:
        with self._tx() as conn:
            row = conn.execute(select(C).where(C.c.case_id == case_id)).first()
        return T.from_row(Case, row) if row else None

    def find_case(self, platform: str, post_id: str) -> Case | None:
        with self._tx() as conn:
            row = conn.execute(select(C).where(C.c.platform == platform, C.c.post_id == post_id)).first()
        return T.from_row(Case, row) if row else None

    def list_cases(self, *, statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 200) -> list[Case]:
        q = select(C).order_by(C.c.priority.desc(), C.c.case_id).limit(limit)
        if statuses:
            q = q.where(C.c.status.in_(statuses))
        if assignee:
            q = q.where(C.c.assignee == assignee)
        with self._tx() as conn:
            return [T.from_row(Case, r) for r in conn.execute(q)]

    def update_case(self, case_id: int, change: CaseChange) -> Case:
        with self._write("update case") as conn:
            row = conn.execute(select(C).where(C.c.case_id == case_id).with_for_update()).first()
            if row is None:
                raise KeyError(f"no case with id {case_id}")
            case, entries = change(T.from_row(Case, row))
            saved = self._save_case(conn, dataclasses.replace(case, case_id=case_id))
            T.insert_audit(conn, entries)
        return saved

