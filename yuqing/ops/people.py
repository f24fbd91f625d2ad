"""Users, login sessions and failed-login counts in SQL (mixed into SqlOps).

A session is a row keyed by the sha256 of its cookie token; ending every session of a user is one UPDATE.
A failed login is one INSERT … ON CONFLICT DO UPDATE … RETURNING, so concurrent failures from any number of
processes are all counted and exactly one of them sets the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, literal, or_, select, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions
from yuqing.records import LoginFailures, User

S, F = T.sessions, T.login_failures
SESSION_KEEP = timedelta(days=30)  # expired sessions are kept this long (who was logged in when), then deleted


class PeopleMixin(Transactions):
    # ------------------------------------------------------------------ users
    def save_user(self, user: User) -> None:
        row = T.to_row(user, T.users)
        stmt = self._insert(T.users).values(row)
        stmt = stmt.on_conflict_do_update(index_elements=["username"],
                                          set_={k: v for k, v in row.items() if k != "username"})
        with self._write("save user") as conn:
            conn.execute(stmt)

    def get_user(self, username: str) -> User | None:
        with self._tx() as conn:
            row = conn.execute(select(T.users).where(T.users.c.username == username)).first()
        return T.from_row(User, row) if row else None

    def list_users(self) -> list[User]:
        with self._tx() as conn:
            return [T.from_row(User, r) for r in conn.execute(select(T.users).order_by(T.users.c.username))]

    def delete_user(self, username: str) -> bool:
        with self._write("delete user") as conn:
            conn.execute(delete(S).where(S.c.username == username))
            return bool(conn.execute(delete(T.users).where(T.users.c.username == username)).rowcount)

    # ------------------------------------------------------------------ sessions
    def add_session(self, token_hash: str, username: str, created_at: datetime, expires_at: datetime) -> None:
        with self._write("start session") as conn:
            conn.execute(S.insert().values(token_hash=token_hash, username=username, created_at=created_at,
                                           expires_at=expires_at, ended_at=None))
            conn.execute(S.delete().where(S.c.expires_at < created_at - SESSION_KEEP))  # long dead: forgotten

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        U = T.users
        q = (select(U).join(S, S.c.username == U.c.username)
             .where(S.c.token_hash == token_hash, S.c.ended_at.is_(None), S.c.expires_at > now,
                    U.c.disabled.is_(False), or_(U.c.sessions_after.is_(None), S.c.created_at >= U.c.sessions_after)))
        with self._tx() as conn:
            row = conn.execute(q).first()
        return T.from_row(User, row) if row else None

    def end_session(self, token_hash: str, now: datetime) -> None:
        with self._write("end session") as conn:
            conn.execute(update(S).where(S.c.token_hash == token_hash, S.c.ended_at.is_(None)).values(ended_at=now))

    def end_sessions(self, username: str, now: datetime) -> int:
        with self._write("end sessions") as conn:
            done = conn.execute(update(S).where(S.c.username == username, S.c.ended_at.is_(None),
                                                S.c.expires_at > now).values(ended_at=now))
        return int(done.rowcount)

    def add_grant(self, grant_hash: str, username: str, created_at: datetime, expires_at: datetime) -> None:
        with self._write("issue grant") as conn:
            conn.execute(T.session_grants.insert().values(grant_hash=grant_hash, username=username,
                                                          created_at=created_at, expires_at=expires_at))

    def redeem_grant(self, grant_hash: str, now: datetime) -> str | None:
        G = T.session_grants
        with self._write("redeem grant") as conn:  # one UPDATE: of two redemptions at once, one gets it
            row = conn.execute(update(G).where(G.c.grant_hash == grant_hash, G.c.used_at.is_(None))
                               .values(used_at=now).returning(G.c.username, G.c.expires_at)).first()
            conn.execute(G.delete().where(G.c.expires_at < now - timedelta(days=1)))  # old grants go
        return row.username if row is not None and row.expires_at > now else None

    # ------------------------------------------------------------------ failed logins
    def login_failures(self, user_key: str) -> LoginFailures:
        with self._tx() as conn:
            row = conn.execute(select(F).where(F.c.user_key == user_key)).first()
        return T.from_row(LoginFailures, row) if row else LoginFailures()

    def add_login_failure(self, user_key: str, now: datetime, *, max_failures: int, window: timedelta,
                          lock: timedelta) -> tuple[LoginFailures, bool]:
        locked = and_(F.c.locked_until.is_not(None), F.c.locked_until > now)
        over = or_(and_(F.c.locked_until.is_not(None), F.c.locked_until <= now),
                   and_(F.c.locked_until.is_(None), F.c.first_at <= now - window))  # lock ended or window passed
        count = case((locked, F.c.count + 1), (over, literal(1)), else_=F.c.count + 1)
        first_at = case((over, literal(now, T.UTCDateTime())), else_=F.c.first_at)
        locked_until = case((locked, F.c.locked_until),
                            (count >= max_failures, literal(now + lock, T.UTCDateTime())),
                            else_=literal(None, T.UTCDateTime()))
        stmt = self._insert(F).values(user_key=user_key, count=1, first_at=now,
                                      locked_until=now + lock if max_failures <= 1 else None)
        stmt = stmt.on_conflict_do_update(index_elements=["user_key"],
                                          set_={"count": count, "first_at": first_at, "locked_until": locked_until})
        with self._write("count failed login") as conn:
            row = conn.execute(stmt.returning(F.c.count, F.c.first_at, F.c.locked_until)).one()
        result = LoginFailures(count=row.count, first_at=row.first_at, locked_until=row.locked_until)
        sets_lock = result.locked_until is not None and abs(result.locked_until - (now + lock)) < timedelta(milliseconds=1)
        return result, result.count == max_failures and sets_lock

    def clear_login_failures(self, user_key: str) -> LoginFailures:
        with self._write("clear failed logins") as conn:
            row = conn.execute(delete(F).where(F.c.user_key == user_key)
                               .returning(F.c.count, F.c.first_at, F.c.locked_until)).first()
        return LoginFailures(count=row.count, first_at=row.first_at, locked_until=row.locked_until) if row else \
            LoginFailures()
