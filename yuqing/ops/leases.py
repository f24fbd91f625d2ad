"""One runner of a job at a time across processes and hosts: a lease in the OpsDB, renewed while the job runs.

A crawl of one source and an alert evaluation each hold a lease named after the job (`crawl:weibo`,
`alerts`). A holder that dies stops renewing: its lease expires after `ttl`, or at once for a restart on
the same host (OpsDB.acquire_lease sees the holder's pid is gone).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from yuqing.errors import StoreError
from yuqing.ops.protocol import OpsDB, owner_id
from yuqing.records import now_utc

log = logging.getLogger(__name__)
TTL = timedelta(minutes=2)


@contextlib.contextmanager
def held(ops: OpsDB, name: str, *, ttl: timedelta = TTL, owner: str = "") -> Iterator[bool]:
    """Yields True while this process holds lease `name` (renewed every ttl/3), False when someone else does."""
    owner = owner or owner_id()
    if not ops.acquire_lease(name, owner, ttl, now_utc()):
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl.total_seconds() / 3):
            try:
                if not ops.acquire_lease(name, owner, ttl, now_utc()):
                    log.error("lease %s was taken over while %s held it", name, owner)
                    return
            except StoreError as exc:  # the database is away for a moment: try again at the next beat
                log.warning("lease %s not renewed: %s", name, exc)

    thread = threading.Thread(target=renew, name=f"lease:{name}", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(timeout=5)
        try:
            ops.release_lease(name, owner)
        except StoreError as exc:
            log.warning("lease %s not released (it expires by itself): %s", name, exc)
