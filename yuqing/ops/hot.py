"""Watched hot-list entries in SQL (mixed into SqlOps): one row per (board, word) in hot_tracks, its rank and heat
at each poll in hot_ranks. A poll of a board is recorded in one transaction: the entries it showed are updated
(or added) with their new status, the board's other entries still on file as listed are marked gone."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from yuqing.ops import tables as T
from yuqing.ops.engine import Transactions
from yuqing.records import HotTrack

H, K = T.hot_tracks, T.hot_ranks
RANK_CHUNK = 500  # track ids per query of their ranks (SQLite caps bound parameters)


def next_status(before: HotTrack | None, rank: int) -> str:
    """An entry's status at a poll that shows it at `rank`: new (first seen, or back after leaving the list),
    rising (a better rank than at the last poll), falling (a worse one) or steady."""
    if before is None or before.status == "gone":
        return "new"
    if rank < before.rank:
        return "rising"
    if rank > before.rank:
        return "falling"
    return "steady"


class HotMixin(Transactions):
    def record_hot_poll(self, board: str, polled_at: datetime, seen: Sequence[HotTrack]) -> list[HotTrack]:
        """Record one successful poll of `board`: `seen` are the watched entries it showed (their rank, heat,
        url, label, operators and words as at this poll). Returns every track the poll changed: those shown,
        with their new status, and those of this board that left the list (status gone)."""
        out: list[HotTrack] = []
        with self._write("record hot poll") as conn:
            listed = {r.word: T.from_row(HotTrack, r) for r in conn.execute(
                select(H).where(H.c.board == board, H.c.status != "gone"))}
            shown = {s.word: s for s in seen if s.board == board}
            if shown:
                listed.update({r.word: T.from_row(HotTrack, r) for r in conn.execute(
                    select(H).where(H.c.board == board, H.c.word.in_(list(shown)), H.c.status == "gone"))})
            for word, s in shown.items():
                before = listed.get(word)
                status = next_status(before, s.rank)
                values = {"last_seen": polled_at, "rank": s.rank, "heat": s.heat, "status": status,
                          "operators": list(s.operators), "words": list(s.words), "url": s.url, "label": s.label}
                if before is None:
                    row = {**values, "board": board, "word": word, "first_seen": polled_at, "best_rank": s.rank}
                    track_id = conn.execute(insert(H).values(row).returning(H.c.track_id)).scalar_one()
                    track = dataclasses.replace(s, first_seen=polled_at, last_seen=polled_at, best_rank=s.rank,
                                                status=status, searched_at=None, track_id=track_id, ranks=())
                else:
                    values["best_rank"] = min(before.best_rank, s.rank)
                    if status == "new":  # back on the list: its words are searched again
                        values["searched_at"] = None
                    conn.execute(update(H).where(H.c.track_id == before.track_id).values(values))
                    track = dataclasses.replace(before, **{k: v for k, v in values.items()
                                                           if k not in ("operators", "words")},
                                                operators=s.operators, words=s.words)
                conn.execute(insert(K).values(track_id=track.track_id, polled_at=polled_at, rank=s.rank,
                                              heat=s.heat))
                out.append(track)
            gone = [t for w, t in listed.items() if w not in shown and t.status != "gone"]
            if gone:
                conn.execute(update(H).where(H.c.track_id.in_([t.track_id for t in gone])).values(status="gone"))
                out += [dataclasses.replace(t, status="gone") for t in gone]
        return out

    def list_hot_tracks(self, *, since: datetime | None = None, boards: Sequence[str] = (),
                        statuses: Sequence[str] = (), with_ranks: bool = False, limit: int = 200) -> list[HotTrack]:
        """Tracks last seen at or after `since`, the most recently seen first; `with_ranks` adds each one's
        (polled_at, rank, heat) history, oldest first (only polls at or after `since` when given)."""
        q = select(H).order_by(H.c.last_seen.desc(), H.c.best_rank, H.c.track_id).limit(limit)
        if since is not None:
            q = q.where(H.c.last_seen >= since)
        if boards:
            q = q.where(H.c.board.in_(list(boards)))
        if statuses:
            q = q.where(H.c.status.in_(list(statuses)))
        with self._tx() as conn:
            tracks = [T.from_row(HotTrack, r) for r in conn.execute(q)]
            if not with_ranks or not tracks:
                return tracks
            ids = [t.track_id for t in tracks]
            ranks: dict[int, list[tuple[datetime, int, int]]] = {}
            for i in range(0, len(ids), RANK_CHUNK):  # a backtest reads every track: bounded lists of ids
                rq = select(K.c.track_id, K.c.polled_at, K.c.rank, K.c.heat).where(
                    K.c.track_id.in_(ids[i:i + RANK_CHUNK])).order_by(K.c.track_id, K.c.polled_at, K.c.id)
                if since is not None:
                    rq = rq.where(K.c.polled_at >= since)
                for track_id, at, rank, heat in conn.execute(rq):
                    ranks.setdefault(track_id, []).append((at, int(rank), int(heat)))
        return [dataclasses.replace(t, ranks=tuple(ranks.get(t.track_id or 0, ()))) for t in tracks]

    def hot_tracks_to_search(self, *, limit: int = 20) -> list[HotTrack]:
        """Tracks on the list whose words have not been searched for yet (crawl-on-match), first seen first."""
        q = (select(H).where(H.c.searched_at.is_(None), H.c.status != "gone")
             .order_by(H.c.first_seen, H.c.track_id).limit(limit))
        with self._tx() as conn:
            return [T.from_row(HotTrack, r) for r in conn.execute(q)]

    def mark_hot_searched(self, track_ids: Sequence[int], at: datetime) -> None:
        if not track_ids:
            return
        with self._write("mark hot searched") as conn:
            conn.execute(update(H).where(H.c.track_id.in_(list(track_ids))).values(searched_at=at))
